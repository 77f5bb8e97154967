// Unit tests of the advisor's building blocks: arrays from libpq, index DDL and names, served-by,
// selectivity, write overhead, the greedy search (limits, count-bound ranking, the wider candidate
// it reports), unused-index drops, and utility statements kept out of the top groups.
#include <gtest/gtest.h>

#include "analyzer/advisor/advisor.hpp"
#include "analyzer/advisor/pg_array.hpp"
#include "analyzer/advisor/selectivity.hpp"
#include "sql/extract.hpp"

using namespace pgopt::analyzer::advisor;

TEST(PgArray, ParsesQuotingEscapesAndNull) {
  EXPECT_EQ(parse_pg_array("{a,\"b c\",NULL,\"NULL\",\"x\\\"y\"}"),
            (std::vector<std::string>{"a", "b c", "", "NULL", "x\"y"}));
  EXPECT_TRUE(parse_pg_array("{}").empty());
  EXPECT_TRUE(parse_pg_array("").empty());
  EXPECT_EQ(parse_int_vector("1 0 2"), (std::vector<std::string>{"1", "0", "2"}));
}

TEST(IndexSpec, DdlQuotesWhatNeedsQuotingAndNamesFit) {
  IndexSpec s;
  s.schema = "public";
  s.table = "Order";
  s.columns = {"user", "created_at"};
  s.descending = {false, true};
  s.opclass = {"", ""};
  s.include = {"total"};
  s.where = "status = 'new'";
  EXPECT_EQ(s.ddl("order_idx", true),
            "CREATE INDEX CONCURRENTLY order_idx ON public.\"Order\" (\"user\", created_at DESC) INCLUDE (total) WHERE "
            "status = 'new'");
  EXPECT_EQ(s.ddl("", false), "CREATE INDEX ON public.\"Order\" (\"user\", created_at DESC) INCLUDE (total) WHERE status = 'new'");
  s.columns = {std::string(80, 'a')};
  s.descending = {false};
  s.opclass = {""};
  EXPECT_LE(s.suggested_name().size(), 63u);
}

TEST(IndexSpec, SizeEstimateScalesWithRowsAndWidth) {
  TableInfo t;
  t.name = "t";
  t.reltuples = 1'000'000;
  t.columns.resize(2);
  t.columns[0].name = "id";
  t.columns[1].name = "note";
  t.columns[0].avg_width = 8;
  t.columns[1].avg_width = 100;
  IndexSpec narrow;
  narrow.table = "t";
  narrow.columns = {"id"};
  IndexSpec wide = narrow;
  wide.columns = {"note"};
  double n = estimate_index_bytes(narrow, t, 1.0), w = estimate_index_bytes(wide, t, 1.0);
  // 1M 8-byte keys: 20 bytes per entry at 90% fill is about 22 MB.
  EXPECT_GT(n, 18e6);
  EXPECT_LT(n, 30e6);
  EXPECT_GT(w, 4 * n);
  EXPECT_LT(estimate_index_bytes(narrow, t, 0.01), n / 50);
}

// PostgreSQL 13+ deduplicates B-tree keys: the sizes below are what PostgreSQL 15 built for
// 100,000 rows (CREATE INDEX after VACUUM ANALYZE; pg_stats as given), within 10%.
TEST(IndexSpec, SizeEstimateCountsDeduplicationOfRepeatedKeys) {
  TableInfo t;
  t.name = "t";
  t.reltuples = 100'000;
  auto column = [&](const std::string& name, const std::string& type, double n_distinct, double width) {
    ColumnInfo c;
    c.name = name;
    c.type = type;
    c.has_stats = true;
    c.n_distinct = n_distinct;
    c.avg_width = width;
    t.columns.push_back(c);
  };
  column("k4", "integer", 4, 4);            // g % 4
  column("k20k", "integer", -0.20019, 4);   // g % 20000: 5 rows per key
  column("u", "integer", -1, 4);            // unique
  column("b8", "bigint", 100, 8);           // g % 100
  column("n", "numeric", 4, 4);             // g % 4, but numeric never deduplicates
  auto size = [&](std::vector<std::string> cols, std::vector<std::string> include = {}) {
    IndexSpec s;
    s.table = "t";
    s.columns = std::move(cols);
    s.include = std::move(include);
    return estimate_index_bytes(s, t, 1.0);
  };
  auto near = [](double estimate, double real) { return estimate > real * 0.9 && estimate < real * 1.1; };
  EXPECT_PRED2(near, size({"k4"}), 712'704.0);
  EXPECT_PRED2(near, size({"k20k"}), 1'179'648.0);
  EXPECT_PRED2(near, size({"b8"}), 745'472.0);
  EXPECT_PRED2(near, size({"k4", "b8"}), 745'472.0);
  EXPECT_PRED2(near, size({"u"}), 2'260'992.0);
  EXPECT_PRED2(near, size({"n"}), 2'277'376.0);
  // INCLUDE columns turn deduplication off: one tuple per row again.
  EXPECT_GT(size({"k4"}, {"u"}), 2 * size({"k4"}));
}

TEST(ServedBy, PrefixOfExistingIsServedExtensionIsNot) {
  IndexInfo e;
  e.columns = {"a", "b"};
  e.descending = {false, false};
  IndexSpec c;
  c.columns = {"a"};
  c.descending = {false};
  c.opclass = {""};
  EXPECT_TRUE(served_by(c, e));
  c.columns = {"a", "b", "c"};
  c.descending = {false, false, false};
  c.opclass = {"", "", ""};
  EXPECT_FALSE(served_by(c, e));
  c.columns = {"b"};
  c.descending = {false};
  c.opclass = {""};
  EXPECT_FALSE(served_by(c, e));
  e.where = "x IS NULL";
  c.columns = {"a"};
  EXPECT_FALSE(served_by(c, e));  // a partial index serves only its own rows
}

TEST(Selectivity, McvAndHistogram) {
  TableInfo t;
  t.reltuples = 1000;
  ColumnInfo status;
  status.name = "status";
  status.has_stats = true;
  status.n_distinct = 3;
  status.mcv = {"done", "pending"};
  status.mcf = {0.9, 0.08};
  ColumnInfo at;
  at.name = "at";
  at.has_stats = true;
  at.n_distinct = -1;
  at.histogram = {"2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"};
  t.columns = {status, at};
  EXPECT_DOUBLE_EQ(eq_selectivity(t, t.column("status"), std::string("'pending'")), 0.08);
  EXPECT_NEAR(eq_selectivity(t, t.column("status"), std::string("'other'")), 0.02, 1e-9);
  PredicateModel p;
  p.pred.column = "at";
  p.pred.kind = pgopt::sql::PredicateKind::Range;
  p.pred.op = ">=";
  p.pred.lower_bound = true;
  p.sample_literals = {"'2024-04-01'"};
  EXPECT_NEAR(selectivity(t, p), 0.25, 0.01);
}

TEST(IsoDays, DatesAndTimestamps) {
  EXPECT_EQ(iso_days("1970-01-01"), 0.0);
  EXPECT_EQ(iso_days("2024-03-01 10:00:00+00").value() - iso_days("2024-02-01").value(), 29.0);
  EXPECT_FALSE(iso_days("yesterday"));
}

namespace {

// Costs come from a table: a query's cost is the lowest listed for any index in the config.
class ScriptedEvaluator : public Evaluator {
 public:
  std::map<std::string, double> with;  // index key -> cost when present
  double without = 100;
  std::optional<double> cost(const QueryModel&, const std::vector<const IndexSpec*>& config) override {
    double c = without;
    for (const IndexSpec* s : config)
      if (with.count(s->key())) c = std::min(c, with[s->key()]);
    return c;
  }
  std::string method() const override { return "scripted"; }
};

Candidate make(const TableInfo& t, std::vector<std::string> cols, double size) {
  Candidate c;
  c.table = &t;
  c.index.table = t.name;
  c.index.columns = cols;
  c.index.descending.assign(cols.size(), false);
  c.index.opclass.assign(cols.size(), "");
  c.size_bytes = size;
  return c;
}

}  // namespace

TEST(Selection, GreedyRespectsCountBudgetAndThreshold) {
  TableInfo t;
  t.name = "t";
  QueryModel q;
  q.weight = 10;
  q.fingerprint = 1;
  AccessModel a;
  a.table = &t;
  q.accesses.push_back(a);
  std::vector<QueryModel> qs = {q};
  std::vector<Candidate> cands = {make(t, {"a"}, 8192), make(t, {"a", "b"}, 16384), make(t, {"c"}, 1e9)};
  ScriptedEvaluator ev;
  ev.with[cands[0].index.key()] = 50;
  ev.with[cands[1].index.key()] = 10;
  ev.with[cands[2].index.key()] = 1;

  SelectionOptions unlimited;
  auto r = select_indexes(qs, cands, ev, unlimited);
  // Best per byte first: (a), widened to (a, b), then (c), which makes (a, b) useless: pruned.
  ASSERT_EQ(r.selected.size(), 1u);
  EXPECT_EQ(r.selected[0].candidate, &cands[2]);
  EXPECT_DOUBLE_EQ(r.cost_before, 1000);
  EXPECT_DOUBLE_EQ(r.cost_after, 10);

  SelectionOptions budget;
  budget.budget_bytes = 100000;
  r = select_indexes(qs, cands, ev, budget);
  ASSERT_EQ(r.selected.size(), 1u);  // (a) first (best per byte), then widened to (a, b)
  EXPECT_EQ(r.selected[0].candidate, &cands[1]);
  EXPECT_TRUE(r.selected[0].widened);
  EXPECT_DOUBLE_EQ(r.selected[0].benefit, 900);

  SelectionOptions strict = budget;
  strict.min_improvement_pct = 60;  // only moves saving 60% of the current cost
  r = select_indexes(qs, cands, ev, strict);
  ASSERT_EQ(r.selected.size(), 1u);
  EXPECT_EQ(r.selected[0].candidate, &cands[1]);  // (a) alone saves 50%: skipped; (a, b) saves 90%

  SelectionOptions none = budget;
  none.max_indexes = 0;
  EXPECT_TRUE(select_indexes(qs, cands, ev, none).selected.empty());
}

TEST(WriteOverhead, InsertsAndNonHotUpdates) {
  TableInfo t;
  t.name = "t";
  t.indexes.resize(2);  // two existing indexes on other columns
  t.indexes[0].columns = {"id"};
  t.indexes[1].columns = {"x"};
  QueryModel ins;
  ins.weight = 100;
  ins.writes.push_back({&t, pgopt::sql::WriteKind::Insert, {}, 2});
  QueryModel upd;
  upd.weight = 10;
  upd.writes.push_back({&t, pgopt::sql::WriteKind::Update, {"hits"}, 1});
  std::vector<QueryModel> qs = {ins, upd};
  Candidate on_hits = make(t, {"hits"}, 8192);
  Candidate on_other = make(t, {"y"}, 8192);
  // 200 inserted rows; the hits index also turns 10 HOT updates into updates of all 3 indexes.
  EXPECT_DOUBLE_EQ(write_overhead(on_other, qs, {}), 200 * kIndexEntryWriteCost);
  EXPECT_DOUBLE_EQ(write_overhead(on_hits, qs, {}), (200 + 30) * kIndexEntryWriteCost);
}

TEST(ServedBy, UniqueKeyServesAnyCandidateLeadingWithItsColumns) {
  IndexInfo pk;
  pk.columns = {"id"};
  pk.descending = {false};
  pk.unique = true;
  IndexSpec c;
  c.columns = {"id"};
  c.descending = {false};
  c.opclass = {""};
  c.include = {"customer_id"};
  EXPECT_TRUE(served_by(c, pk));  // (id) INCLUDE (...) next to the primary key: one heap visit saved at best
  c.include.clear();
  c.columns = {"id", "created_at"};
  c.descending = {false, false};
  c.opclass = {"", ""};
  EXPECT_TRUE(served_by(c, pk));
  c.columns = {"customer_id", "id"};
  EXPECT_FALSE(served_by(c, pk));  // leads with another column: a different lookup
  IndexInfo two = pk;
  two.columns = {"a", "b"};
  c.columns = {"b", "a", "x"};
  c.descending = {false, false, false};
  c.opclass = {"", "", ""};
  EXPECT_TRUE(served_by(c, two));
  pk.unique = false;
  c.columns = {"id", "created_at"};
  c.descending = {false, false};
  c.opclass = {"", ""};
  EXPECT_FALSE(served_by(c, pk));
}

TEST(Selection, ReportsTheWiderCandidateItDidNotTake) {
  TableInfo t;
  t.name = "t";
  QueryModel q;
  q.weight = 10;
  q.fingerprint = 1;
  AccessModel a;
  a.table = &t;
  q.accesses.push_back(a);
  std::vector<QueryModel> qs = {q};
  std::vector<Candidate> cands = {make(t, {"a"}, 8192), make(t, {"a", "b"}, 16384), make(t, {"c"}, 8192)};
  for (auto& c : cands) c.sources = {1};
  ScriptedEvaluator ev;
  ev.with[cands[0].index.key()] = 10;
  ev.with[cands[1].index.key()] = 10;  // the wider index finds no cheaper plan
  auto r = select_indexes(qs, cands, ev, SelectionOptions{});
  ASSERT_EQ(r.selected.size(), 1u);
  EXPECT_EQ(r.selected[0].candidate, &cands[0]);
  EXPECT_EQ(r.selected[0].wider, &cands[1]);
  EXPECT_DOUBLE_EQ(r.selected[0].wider_gain, 0);
  EXPECT_DOUBLE_EQ(r.selected[0].wider_extra_bytes, 8192);

  ev.with[cands[1].index.key()] = 9.99;  // now it saves 0.1 per workload: below the 0.3% threshold
  r = select_indexes(qs, cands, ev, SelectionOptions{});
  ASSERT_EQ(r.selected.size(), 1u);
  EXPECT_EQ(r.selected[0].candidate, &cands[0]);
  EXPECT_NEAR(r.selected[0].wider_gain, 0.1, 1e-9);
}

TEST(Advise, UtilityStatementsStayOutOfTheTopGroups) {
  auto def = pgopt::sql::parse_schema("CREATE TABLE t (id bigint PRIMARY KEY, a int);");
  Catalog cat = catalog_from_schema(def);
  pgopt::analyzer::Workload w;
  auto add = [&](uint64_t fp, const std::string& sql, uint64_t calls, double ms) {
    auto& g = w.groups[fp];
    g.fingerprint = fp;
    g.normalized = sql;
    g.calls = g.timed_calls = calls;
    g.total_ms = ms;
    w.statements += calls;
  };
  add(1, "SELECT pg_catalog.set_config($1, $2, $3)", 5000, 900);
  add(2, "BEGIN", 4000, 800);
  add(3, "SELECT a FROM t WHERE a = $1", 100, 50);
  add(4, "SELECT now()", 10, 1);
  auto ev = make_cost_model(cat);
  Advice adv = advise(w, cat, *ev, AdvisorOptions{});
  ASSERT_EQ(adv.top_groups.size(), 2u);
  EXPECT_EQ(adv.top_groups[0].fingerprint, 3u);
  EXPECT_EQ(adv.top_groups[1].fingerprint, 4u);
  EXPECT_EQ(adv.utility_groups, 2u);
  EXPECT_EQ(adv.utility_statements, 9000u);
  EXPECT_DOUBLE_EQ(adv.utility_ms, 1700);
  for (const auto& r : adv.recommendations)
    for (const auto& g : r.groups) EXPECT_NE(g.fingerprint, 1u);
}

TEST(Drops, UnusedIndexesNameTheStatisticsAgeAndSparePrimaryKeys) {
  Catalog cat;
  cat.source = "database";
  cat.stats_reset = "2024-05-01 00:00:00+00";
  cat.stats_age_days = 12.5;
  TableInfo t;
  t.name = "orders";
  IndexInfo pk;
  pk.name = "orders_pkey";
  pk.schema = "public";
  pk.columns = {"id"};
  pk.unique = pk.primary = pk.constraint = true;
  pk.idx_scan = 0;
  IndexInfo unused;
  unused.name = "orders_note_idx";
  unused.schema = "public";
  unused.columns = {"note"};
  unused.idx_scan = 0;
  IndexInfo used = unused;
  used.name = "orders_customer_idx";
  used.columns = {"customer_id"};
  used.idx_scan = 42;
  t.indexes = {pk, unused, used};
  cat.tables.push_back(t);
  auto drops = find_drops(cat, {});
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0].index, "public.orders_note_idx");
  EXPECT_EQ(drops[0].kind, "unused");
  EXPECT_NE(drops[0].reason.find("0 scans in 12.5 days of statistics on this server, since 2024-05-01 00:00:00+00;"),
            std::string::npos)
      << drops[0].reason;
  cat.stats_since_start = true;
  EXPECT_NE(find_drops(cat, {})[0].reason.find("since 2024-05-01 00:00:00+00 (server start, never reset);"),
            std::string::npos);
  cat.stats_since_start = false;
  EXPECT_EQ(drops[0].ddl, "DROP INDEX CONCURRENTLY public.orders_note_idx;");
  cat.stats_age_days = 2;  // too short a window: a weekly job may not have run yet
  EXPECT_TRUE(find_drops(cat, {}).empty());
  cat.stats_age_days = 12.5;
  cat.stats_reset.reset();  // no statistics age known: usage counters are not trusted
  EXPECT_TRUE(find_drops(cat, {}).empty());
}

TEST(Selection, UnderACountLimitTheBiggerSavingWinsOverBenefitPerByte) {
  TableInfo t;
  t.name = "t";
  std::vector<QueryModel> qs;
  for (uint64_t fp : {1, 2}) {
    QueryModel q;
    q.weight = 10;
    q.fingerprint = fp;
    AccessModel a;
    a.table = &t;
    q.accesses.push_back(a);
    qs.push_back(q);
  }
  // (a) is small and saves little; (b) is large and saves much more. Per byte (a) ranks first.
  std::vector<Candidate> cands = {make(t, {"a"}, 8192), make(t, {"b"}, 1e6)};
  class PerQuery : public Evaluator {
   public:
    std::string a_key, b_key;
    std::optional<double> cost(const QueryModel& q, const std::vector<const IndexSpec*>& config) override {
      double c = 100;
      for (const IndexSpec* s : config) {
        if (q.fingerprint == 1 && s->key() == a_key) c = 90;
        if (q.fingerprint == 2 && s->key() == b_key) c = 10;
      }
      return c;
    }
    std::string method() const override { return "scripted"; }
  } ev;
  ev.a_key = cands[0].index.key();
  ev.b_key = cands[1].index.key();
  SelectionOptions one;
  one.max_indexes = 1;
  auto r = select_indexes(qs, cands, ev, one);
  ASSERT_EQ(r.selected.size(), 1u);
  EXPECT_EQ(r.selected[0].candidate, &cands[1]);
  EXPECT_DOUBLE_EQ(r.cost_after, 10 * 100 + 10 * 10);
  auto unlimited = select_indexes(qs, cands, ev, SelectionOptions{});
  EXPECT_EQ(unlimited.selected.size(), 2u);
}

TEST(IndexSpec, NamesCarryExpressionsAndPartialPredicates) {
  IndexSpec s;
  s.table = "orders";
  s.columns = {"account_id"};
  s.descending = {false};
  s.opclass = {""};
  s.where = "status = 'paid'";
  IndexSpec t = s;
  t.where = "shipped_at IS NULL";
  EXPECT_EQ(s.suggested_name(), "orders_account_id_status_paid_idx");
  EXPECT_EQ(t.suggested_name(), "orders_account_id_shipped_at_null_idx");
  s.table = "customers";
  s.columns = {"(lower(email))"};
  s.where.clear();
  EXPECT_EQ(s.suggested_name(), "customers_lower_email_idx");
}

TEST(Advise, RecommendedNamesNeverCollideWithExistingOnes) {
  auto def = pgopt::sql::parse_schema(
      "CREATE TABLE t (id bigint PRIMARY KEY, a int NOT NULL, b int NOT NULL, c text);\n"
      "CREATE INDEX t_a_idx ON t (b);\n");
  Catalog cat = catalog_from_schema(def);
  cat.find("t")->reltuples = 1e6;
  cat.find("t")->relpages = 10000;
  pgopt::analyzer::Workload w;
  auto& g = w.groups[1];
  g.fingerprint = 1;
  g.normalized = "SELECT * FROM t WHERE a = $1";
  g.samples = {"SELECT * FROM t WHERE a = 5"};
  g.calls = 1000;
  auto ev = make_cost_model(cat);
  Advice adv = advise(w, cat, *ev, AdvisorOptions{});
  ASSERT_EQ(adv.recommendations.size(), 1u);
  EXPECT_EQ(adv.recommendations[0].name, "t_a_2_idx");
  EXPECT_EQ(adv.recommendations[0].ddl, "CREATE INDEX CONCURRENTLY t_a_2_idx ON public.t (a);");
}

// Issue 17 (1g): a key column's value seen in every logged statement is a sampling accident, not
// an application constant: no partial index is generated from it. A status column's is.
TEST(Candidates, NoPartialIndexFromAKeyColumnsConstant) {
  auto def = pgopt::sql::parse_schema("CREATE TABLE t (id bigint NOT NULL, status text NOT NULL, v int);");
  Catalog cat = catalog_from_schema(def);
  cat.has_statistics = true;
  TableInfo& t = cat.tables[0];
  t.reltuples = 2000000;
  t.relpages = 40000;
  for (auto& c : t.columns) c.has_stats = true;
  t.columns[0].n_distinct = -1;
  t.columns[1].n_distinct = 3;
  t.columns[1].mcv = {"done", "failed", "pending"};
  t.columns[1].mcf = {0.985, 0.01, 0.005};
  pgopt::analyzer::Workload w;
  auto add = [&](uint64_t fp, const std::string& normalized, const std::string& sample) {
    auto& g = w.groups[fp];
    g.fingerprint = fp;
    g.normalized = normalized;
    g.calls = g.timed_calls = 3000;
    g.samples = {sample, sample, sample};
  };
  add(1, "SELECT v FROM t WHERE id = $1", "SELECT v FROM t WHERE id = 1");
  add(2, "SELECT v FROM t WHERE status = $1", "SELECT v FROM t WHERE status = 'pending'");
  ModelBuild models = build_models(w, cat);
  CandidateSet set = generate_candidates(models.queries, cat);
  bool status_partial = false;
  for (const auto& c : set.candidates) {
    EXPECT_EQ(c.index.where.find("id ="), std::string::npos) << c.index.describe();
    status_partial = status_partial || c.index.where == "status = 'pending'";
  }
  EXPECT_TRUE(status_partial);
}

// The column inside an expression key: index sizes and write overhead are charged to it.
TEST(AdvisorKeys, KeyColumnReadsTheColumnOutOfAnyExpression) {
  using pgopt::analyzer::advisor::key_column;
  using pgopt::analyzer::advisor::key_uses;
  EXPECT_EQ(key_column("email"), "email");
  EXPECT_EQ(key_column("(lower(email))"), "email");
  EXPECT_EQ(key_column("(lower(\"Email\"))"), "Email");
  EXPECT_EQ(key_column("(date_trunc('day', created_at))"), "created_at");
  EXPECT_EQ(key_column("(doc ->> 'k')"), "doc");
  EXPECT_EQ(key_column("(tsn::date)"), "tsn");
  EXPECT_EQ(key_column("((tsn)::date)"), "tsn");
  EXPECT_TRUE(key_uses("(date_trunc('day', created_at))", "created_at"));
  EXPECT_FALSE(key_uses("(date_trunc('day', created_at))", "day"));
}
