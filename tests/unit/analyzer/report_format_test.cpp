// Report rendering: sizes, JSON escaping, and the SQL/Markdown/HTML outputs of a small Advice.
#include <gtest/gtest.h>

#include "analyzer/report/json_writer.hpp"
#include "analyzer/report/report.hpp"

using namespace pgopt::analyzer;

TEST(ReportFormat, ParseAndPrintSizes) {
  double b = 0;
  EXPECT_TRUE(report::parse_size("2GB", b));
  EXPECT_DOUBLE_EQ(b, 2.0 * 1024 * 1024 * 1024);
  EXPECT_TRUE(report::parse_size("512 mb", b));
  EXPECT_DOUBLE_EQ(b, 512.0 * 1024 * 1024);
  EXPECT_TRUE(report::parse_size("4096", b));
  EXPECT_DOUBLE_EQ(b, 4096);
  EXPECT_FALSE(report::parse_size("lots", b));
  EXPECT_FALSE(report::parse_size("-1GB", b));
  EXPECT_FALSE(report::parse_size("3 parsecs", b));
  EXPECT_EQ(report::human_bytes(8192), "8192 bytes");
  EXPECT_EQ(report::human_bytes(5.0 * 1024 * 1024 * 1024), "5120 MB");
}

TEST(ReportFormat, JsonEscapesControlCharactersAndQuotes) {
  report::JsonWriter w;
  w.begin_object().field("q", std::string("a\"b\\c\n\x01")).key("n").null().field("x", 1.5).end_object();
  EXPECT_EQ(w.str(), "{\n  \"q\": \"a\\\"b\\\\c\\n\\u0001\",\n  \"n\": null,\n  \"x\": 1.5\n}\n");
}

namespace {
advisor::Advice sample_advice() {
  advisor::Advice a;
  a.evaluation = "cost_model";
  a.catalog_source = "database";
  advisor::Recommendation r;
  r.index.table = "orders";
  r.index.columns = {"customer_id"};
  r.index.descending = {false};
  r.index.opclass = {""};
  r.name = "orders_customer_id_idx";
  r.ddl = r.index.ddl(r.name) + ";";
  r.kind = "btree";
  r.benefit_pct = 42;
  r.reasons = {"customer_id: equality <x>"};
  r.groups.push_back({7, 100, 50, 5});
  a.normalized[7] = "SELECT * FROM orders WHERE customer_id = $1";
  a.recommendations.push_back(r);
  a.drops.push_back({"public.orders", "public.old_idx", "CREATE INDEX old_idx ...", "unused", "0 scans",
                     "DROP INDEX CONCURRENTLY public.old_idx;", 8192});
  return a;
}
}  // namespace

TEST(ReportFormat, SqlHasOnlyDdlAndCommentedDrops) {
  std::string sql = report::render_sql(sample_advice());
  EXPECT_NE(sql.find("\nCREATE INDEX CONCURRENTLY orders_customer_id_idx ON public.orders (customer_id);\n"), std::string::npos);
  EXPECT_NE(sql.find("-- DROP INDEX CONCURRENTLY public.old_idx;"), std::string::npos);
  for (size_t pos = 0; (pos = sql.find('\n', pos)) != std::string::npos; ++pos) {
    std::string_view line(sql.c_str() + pos + 1);
    line = line.substr(0, line.find('\n'));
    EXPECT_TRUE(line.empty() || line.rfind("--", 0) == 0 || line.rfind("CREATE INDEX CONCURRENTLY", 0) == 0) << line;
  }
}

TEST(ReportFormat, MarkdownAndHtmlCarryTheRecommendation) {
  auto a = sample_advice();
  std::string md = report::render_markdown(a);
  EXPECT_NE(md.find("## Recommended indexes"), std::string::npos);
  EXPECT_NE(md.find("`SELECT * FROM orders WHERE customer_id = $1`"), std::string::npos);
  EXPECT_NE(md.find("| public.old_idx | unused |"), std::string::npos);
  std::string html = report::render_html(a);
  EXPECT_NE(html.find("equality &lt;x&gt;"), std::string::npos);  // escaped
  EXPECT_EQ(html.find("<script"), std::string::npos);
  std::string json = report::render_json(a);
  EXPECT_NE(json.find("\"fingerprint\": \"0000000000000007\""), std::string::npos);
  EXPECT_NE(json.find("\"schema_version\": 1"), std::string::npos);
}

TEST(ReportFormat, MarkdownEscapesPipesInCellsAndKeepsSqlIntact) {
  auto a = sample_advice();
  a.normalized[7] = "SELECT id FROM customers WHERE lower(email) = $1 || $2 || $3";
  advisor::GroupSummary g;
  g.fingerprint = 8;
  g.normalized = "SELECT id FROM t WHERE a ~ $1 OR b = `x`";
  g.calls = 3;
  a.top_groups.push_back(g);
  advisor::UnservedQuery u;
  u.group.normalized = "SELECT id FROM users WHERE name || $1 LIKE $2";
  u.relation = "public.users";
  u.column = "name";
  u.why = "leading wildcard";
  u.suggestion = "pg_trgm";
  a.unserved.push_back(u);
  a.drops[0].reason = "0 scans | since reset";
  std::string md = report::render_markdown(a);
  // In a table a pipe must be escaped (GFM renders \| as |), never replaced by another character.
  EXPECT_NE(md.find("| `SELECT id FROM customers WHERE lower(email) = $1 \\|\\| $2 \\|\\| $3` |"), std::string::npos) << md;
  EXPECT_EQ(md.find("$1 // $2"), std::string::npos);
  // Backticks inside SQL get a longer fence instead of being rewritten.
  EXPECT_NE(md.find("| `` SELECT id FROM t WHERE a ~ $1 OR b = `x` `` |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 0 scans \\| since reset |"), std::string::npos) << md;
  // Outside tables a backslash would show: list items keep plain pipes.
  EXPECT_NE(md.find("- `SELECT id FROM users WHERE name || $1 LIKE $2` (0 calls"), std::string::npos) << md;
  // Every table row still has exactly its columns: count unescaped pipes in the drops row.
  auto row = md.substr(md.find("| public.old_idx"));
  row = row.substr(0, row.find('\n'));
  size_t cells = 0;
  for (size_t i = 0; i < row.size(); ++i)
    if (row[i] == '|' && (i == 0 || row[i - 1] != '\\')) ++cells;
  EXPECT_EQ(cells, 5u) << row;
}

TEST(ReportFormat, LongCellsAreCutAtCharacterBoundaries) {
  auto a = sample_advice();
  advisor::GroupSummary g;
  g.fingerprint = 9;
  g.normalized = "SELECT id FROM t WHERE name = $1 AND note = '" + std::string(107, 'x') + "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9'";
  a.top_groups.push_back(g);
  std::string md = report::render_markdown(a);
  auto pos = md.find("| `SELECT id FROM t WHERE name");
  ASSERT_NE(pos, std::string::npos);
  std::string cell = md.substr(pos, md.find('\n', pos) - pos);
  EXPECT_NE(cell.find("...`"), std::string::npos) << cell;
  // The cut falls inside the third two-byte character: it goes back to its start instead of
  // leaving half of it.
  EXPECT_NE(cell.find("x\xc3\xa9\xc3\xa9...`"), std::string::npos) << cell;
}

TEST(ReportFormat, HtmlIsOnePageWithInlineSvgCharts) {
  auto a = sample_advice();
  a.cost_before = 1000;
  a.cost_after = 100;
  advisor::GroupSummary g;
  g.fingerprint = 7;
  g.normalized = "SELECT * FROM orders WHERE customer_id = $1";
  g.calls = 100;
  g.total_ms = 50;
  g.p95_ms = 1.25;
  a.top_groups.push_back(g);
  advisor::PartitionAdvice p;
  p.relation = "public.orders";
  p.column = "created_at";
  p.strategy = "RANGE";
  p.interval = "1 month";
  p.pruned.push_back({7, 0.9});
  p.ddl = "CREATE TABLE ... PARTITION BY RANGE (created_at);";
  a.partitioning.push_back(p);
  std::string html = report::render_html(a);
  size_t svgs = 0;
  for (size_t pos = 0; (pos = html.find("<svg", pos)) != std::string::npos; ++pos) ++svgs;
  EXPECT_GE(svgs, 2u);  // workload cost before/after and the top groups
  for (const char* external : {"<script", "<link", "src=", "href=", "@import", "url("})
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  EXPECT_NE(html.find("<td class=\"n\">1.250</td>"), std::string::npos);  // p95 column
  EXPECT_NE(html.find("<td class=\"n\">90%</td>"), std::string::npos);    // partitions pruned per group
  EXPECT_NE(html.find("-- DROP INDEX CONCURRENTLY public.old_idx;"), std::string::npos);
  EXPECT_EQ(html.rfind("</html>\n"), html.size() - 8);
}

TEST(ReportFormat, NumbersCountsAndSpansReadNaturally) {
  EXPECT_EQ(report::grouped(2518879.7), "2,518,880");
  EXPECT_EQ(report::grouped(999), "999");
  EXPECT_EQ(report::grouped(-1234567), "-1,234,567");
  EXPECT_EQ(report::count_of(1, "group", "groups"), "1 group");
  EXPECT_EQ(report::count_of(0, "group", "groups"), "0 groups");
  auto a = sample_advice();
  a.groups = 35;
  a.analysed_groups = 9;
  a.utility_groups = 13;
  a.tableless_groups = 12;
  EXPECT_EQ(report::groups_breakdown(a), "35 (9 analysed, 13 utility, 12 on no table of the database, 1 unparsable)");
  EXPECT_EQ(report::log_span(a), "unknown (no timestamps in the input)");
  a.first_timestamp = "2024-05-01 10:00:00 UTC";
  a.last_timestamp = "2024-05-01 11:00:00 UTC";
  EXPECT_EQ(report::log_span(a), "2024-05-01 10:00:00 UTC to 2024-05-01 11:00:00 UTC");
  a.utility_groups = 1;
  a.utility_statements = 1;
  a.cost_before = 2518879.7;
  a.cost_after = 14303.2;
  std::string md = report::render_markdown(a);
  EXPECT_NE(md.find("| Utility statements | 1 call in 1 group, "), std::string::npos) << md;
  EXPECT_NE(md.find("| Workload cost | 2,518,880 -> 14,303 (99.4% less) |"), std::string::npos) << md;
  std::string html = report::render_html(a);
  EXPECT_NE(html.find("2,518,880 &rarr; 14,303 (99.4% less)"), std::string::npos);
  EXPECT_NE(html.find("Costs: pgopt&#39;s cost model from the database&#39;s statistics"), std::string::npos);
}

TEST(ReportFormat, EachNoteIsItsOwnQuoteBlock) {
  auto a = sample_advice();
  a.notes = {"first note", "second note"};
  std::string md = report::render_markdown(a);
  // Consecutive "> " lines would be one paragraph: a blank line separates the notes.
  EXPECT_NE(md.find("> **Note:** first note\n\n> **Note:** second note\n\n"), std::string::npos) << md;
}

TEST(ReportFormat, SamplesOfTopGroupsOnlyWhenPresent) {
  auto a = sample_advice();
  advisor::GroupSummary g;
  g.fingerprint = 7;
  g.normalized = "SELECT * FROM orders WHERE customer_id = $1";
  g.calls = 3;
  a.top_groups.push_back(g);
  std::string md = report::render_markdown(a), html = report::render_html(a);
  EXPECT_EQ(md.find("sample"), std::string::npos) << md;
  EXPECT_EQ(html.find("sample:"), std::string::npos);
  a.top_groups[0].samples = {"SELECT * FROM orders WHERE customer_id = 42", "SELECT * FROM orders WHERE customer_id = 42",
                             "SELECT * FROM orders WHERE customer_id = 43"};  // repeats are shown once
  md = report::render_markdown(a);
  html = report::render_html(a);
  EXPECT_NE(md.find("Samples of #1:\n\n- `SELECT * FROM orders WHERE customer_id = 42`\n"
                    "- `SELECT * FROM orders WHERE customer_id = 43`\n"),
            std::string::npos)
      << md;
  EXPECT_NE(html.find("sample: <code>SELECT * FROM orders WHERE customer_id = 42</code>"), std::string::npos);
}

TEST(ReportFormat, HtmlChartLabelsFitTheirColumn) {
  auto a = sample_advice();
  a.cost_before = 2518879.7;
  a.cost_after = 100;
  for (uint64_t i = 0; i < 3; ++i) {
    advisor::GroupSummary g;
    g.fingerprint = 100 + i;
    g.normalized = "SELECT a_rather_long_column_name, another_long_column_name FROM some_table WHERE x = $" + std::to_string(i);
    g.total_ms = 1000.0 * double(i + 1);
    a.top_groups.push_back(g);
  }
  std::string html = report::render_html(a);
  // Every bar starts right of the widest label (56 characters at 7.3 px, + 12) and the chart's
  // viewBox is wide enough for the longest value text after the longest bar.
  size_t pos = html.find("<h3>Top statement groups");
  ASSERT_NE(pos, std::string::npos);
  std::string chart = html.substr(pos, html.find("</svg>", pos) - pos);
  EXPECT_NE(chart.find("<rect x=\"420\""), std::string::npos) << chart;  // int(56 * 7.3) + 12
  EXPECT_NE(chart.find("<title>SELECT a_rather_long_column_name"), std::string::npos);
  EXPECT_NE(chart.find(">SELECT a_rather_long_column_name, another_long_column...</text>"), std::string::npos)
      << chart;  // the label is cut to 56 characters
  // The longest bar's value text ends inside the viewBox.
  auto last_text = chart.rfind("<text x=\"");
  int x = std::stoi(chart.substr(last_text + 9));
  EXPECT_LE(x + 9 * 7.3, 960) << chart;  // "3000.0 ms"
}
