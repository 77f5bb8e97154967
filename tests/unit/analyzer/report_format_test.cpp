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
