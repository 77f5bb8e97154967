// --verify's socket-free half: reading EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) output, the keep/drop
// rules on measured numbers, and what a dropped recommendation does to the rest of the advice.
#include <gtest/gtest.h>

#include "analyzer/advisor/advisor.hpp"
#include "analyzer/advisor/verify_decision.hpp"

namespace {

using namespace pgopt::analyzer::advisor;

// Shaped as PostgreSQL 15 prints it: a node's own fields, then its "Plans"; "Planning" after "Plan".
const char* kIndexScan = R"([
  {
    "Plan": {
      "Node Type": "Nested Loop",
      "Actual Total Time": 0.051,
      "Shared Hit Blocks": 7,
      "Shared Read Blocks": 2,
      "Plans": [
        {"Node Type": "Index Scan", "Index Name": "pgopt_verify_t_a_idx", "Shared Hit Blocks": 4, "Shared Read Blocks": 0},
        {"Node Type": "Index Only Scan", "Index Name": "odd\"name", "Shared Hit Blocks": 3, "Shared Read Blocks": 2}
      ]
    },
    "Planning": {"Shared Hit Blocks": 40, "Shared Read Blocks": 1},
    "Planning Time": 0.210,
    "Triggers": [],
    "Execution Time": 0.083
  }
])";

TEST(VerifyExplain, ReadsTimeTopBuffersAndEveryIndex) {
  ExplainRun r = parse_explain_json(kIndexScan);
  ASSERT_TRUE(r.ok);
  EXPECT_DOUBLE_EQ(r.ms, 0.083);
  EXPECT_DOUBLE_EQ(r.shared_hit, 7);
  EXPECT_DOUBLE_EQ(r.shared_read, 2);
  EXPECT_EQ(r.indexes, (std::set<std::string>{"pgopt_verify_t_a_idx", "odd\"name"}));
}

TEST(VerifyExplain, NotAnExplainIsNotOk) {
  EXPECT_FALSE(parse_explain_json("").ok);
  EXPECT_FALSE(parse_explain_json(R"([{"Plan": {"Node Type": "Seq Scan"}}])").ok);
}

Measured one_group(double before, double after, size_t statements, size_t used) {
  Measured m;
  m.built = true;
  GroupMeasure g;
  g.calls = 10;
  g.statements = statements;
  g.used = used;
  g.before_ms = before;
  g.after_ms = after;
  m.groups.push_back(g);
  return m;
}

TEST(VerifyDecision, AnIndexThatHelpsIsKeptWithItsNumbers) {
  Measured m = one_group(12.5, 0.05, 3, 3);
  decide(m);
  EXPECT_EQ(m.verdict, "keep");
  EXPECT_DOUBLE_EQ(m.before_ms, 12.5);
  EXPECT_DOUBLE_EQ(m.after_ms, 0.05);
  EXPECT_NE(m.reason.find("used in 3 of 3"), std::string::npos) << m.reason;
}

TEST(VerifyDecision, AnIndexThePlannerIgnoresIsDropped) {
  Measured m = one_group(12.5, 12.4, 3, 0);
  decide(m);
  EXPECT_EQ(m.verdict, "drop");
  EXPECT_NE(m.reason.find("the planner used it in none of the 3 sampled statements"), std::string::npos) << m.reason;
}

TEST(VerifyDecision, AnIndexThatSavesTooLittleIsDropped) {
  Measured m = one_group(1.00, 0.95, 2, 2);
  decide(m);
  EXPECT_EQ(m.verdict, "drop");
  EXPECT_NE(m.reason.find("does not pay for itself"), std::string::npos) << m.reason;
  Measured slower = one_group(1.00, 1.50, 2, 2);
  decide(slower);
  EXPECT_EQ(slower.verdict, "drop");
  Measured lenient = one_group(1.00, 0.95, 2, 2);
  decide(lenient, VerifyRules{4});
  EXPECT_EQ(lenient.verdict, "keep") << lenient.reason;
}

TEST(VerifyDecision, WeighsGroupsByCalls) {
  Measured m = one_group(10, 1, 1, 1);  // 10 calls, 9 ms saved each
  GroupMeasure heavy;
  heavy.calls = 1000;  // 0.1 ms slower each: 100 ms lost against 90 saved
  heavy.statements = 1;
  heavy.used = 1;
  heavy.before_ms = 1.0;
  heavy.after_ms = 1.1;
  m.groups.push_back(heavy);
  decide(m);
  EXPECT_EQ(m.verdict, "drop") << m.reason;
  EXPECT_NEAR(m.before_ms, (10 * 10 + 1000 * 1.0) / 1010, 1e-9);
}

TEST(VerifyDecision, ATimeoutOnlyWithTheIndexDrops) {
  Measured m = one_group(5, 30000, 1, 1);
  m.groups[0].after_timed_out = true;
  decide(m);
  EXPECT_EQ(m.verdict, "drop");
  EXPECT_NE(m.reason.find("statement timeout"), std::string::npos);
  Measured before = one_group(30000, 2, 1, 1);  // timed out without it: a lower bound, still a win
  before.groups[0].before_timed_out = true;
  decide(before);
  EXPECT_EQ(before.verdict, "keep");
}

TEST(VerifyDecision, NothingMeasurableKeepsTheEstimate) {
  Measured none = one_group(0, 0, 0, 0);
  decide(none);
  EXPECT_EQ(none.verdict, "unmeasured");
  Measured unbuilt;
  unbuilt.error = "could not build it on the staging database: relation \"t\" does not exist";
  decide(unbuilt);
  EXPECT_EQ(unbuilt.verdict, "unmeasured");
  EXPECT_NE(unbuilt.reason.find("does not exist"), std::string::npos);
}

TEST(VerifyApply, DroppedRecommendationsLeaveAndOutcomesAreRenumbered) {
  Advice adv;
  for (const char* n : {"a_idx", "b_idx", "c_idx"}) {
    Recommendation r;
    r.name = n;
    adv.recommendations.push_back(r);
  }
  for (int k : {1, 2, 3}) {
    CostlyGroup c;
    c.outcome.outcome = "recommendation";
    c.outcome.recommendation = k;
    adv.explained.push_back(c);
  }
  std::vector<Measured> m(3);
  for (auto& x : m) x.verdict = "keep";
  m[1].verdict = "drop";
  m[1].reason = "the planner used it in none of the 2 sampled statements";
  apply_verification(adv, m);
  ASSERT_EQ(adv.recommendations.size(), 2u);
  EXPECT_EQ(adv.recommendations[1].name, "c_idx");
  ASSERT_EQ(adv.verify_dropped.size(), 1u);
  EXPECT_EQ(adv.verify_dropped[0].name, "b_idx");
  EXPECT_EQ(adv.explained[0].outcome.recommendation, 1);
  EXPECT_EQ(adv.explained[1].outcome.outcome, "not_worth");
  EXPECT_NE(adv.explained[1].outcome.detail.find("planner used it in none"), std::string::npos);
  EXPECT_EQ(adv.explained[2].outcome.recommendation, 2);
}

}  // namespace

namespace {

UnservedQuery unserved_for(uint64_t fp, const char* column, const char* opclass) {
  UnservedQuery u;
  u.group.fingerprint = fp;
  u.group.calls = 100 * fp;
  u.relation = "public.items";
  u.column = column;
  u.gin.table = "items";
  u.gin.method = "gin";
  u.gin.columns = {column};
  u.gin.descending = {false};
  u.gin.opclass = {opclass};
  return u;
}

}  // namespace

TEST(VerifyGin, OneTrialPerGinIndexWithEveryGroupItServes) {
  Advice adv;
  adv.unserved = {unserved_for(1, "title", "gin_trgm_ops"), unserved_for(2, "doc", ""),
                  unserved_for(3, "title", "gin_trgm_ops")};
  adv.unserved.push_back(unserved_for(4, "x", ""));
  adv.unserved.back().gin = IndexSpec{};  // a wide range: no GIN index serves it
  auto trials = gin_trials(adv);
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_EQ(trials[0].index.columns[0], "title");
  EXPECT_EQ(trials[0].groups, (std::vector<std::pair<uint64_t, double>>{{1, 100}, {3, 300}}));
  EXPECT_EQ(trials[1].groups, (std::vector<std::pair<uint64_t, double>>{{2, 200}}));
}

TEST(VerifyGin, AKeptGinIndexBecomesARecommendationAndItsGroupsAreServed) {
  Advice adv;
  adv.verified_on = "stage on h:1";
  Recommendation btree;
  btree.name = "items_id_idx";
  adv.recommendations.push_back(btree);
  adv.unserved = {unserved_for(1, "title", "gin_trgm_ops"), unserved_for(2, "doc", "")};
  for (uint64_t fp : {1, 2}) {
    CostlyGroup c;
    c.group.fingerprint = fp;
    c.outcome.outcome = "no_btree";
    adv.explained.push_back(c);
  }
  auto trials = gin_trials(adv);
  trials[0].measured = one_group(20, 0.5, 3, 3);
  decide(trials[0].measured);
  trials[1].measured = one_group(20, 19.9, 3, 0);
  decide(trials[1].measured);
  Catalog catalog;
  apply_gin_verification(adv, trials, catalog);
  ASSERT_EQ(adv.recommendations.size(), 2u);
  const Recommendation& gin = adv.recommendations[1];
  EXPECT_EQ(gin.kind, "gin");
  EXPECT_EQ(gin.ddl, "CREATE INDEX CONCURRENTLY items_title_gin_idx ON public.items USING gin (title gin_trgm_ops);");
  ASSERT_TRUE(gin.measured);
  EXPECT_EQ(adv.explained[0].outcome.outcome, "recommendation");
  EXPECT_EQ(adv.explained[0].outcome.recommendation, 2);
  EXPECT_EQ(adv.explained[1].outcome.outcome, "no_btree");
  ASSERT_EQ(adv.unserved.size(), 1u);  // doc: the planner ignored its GIN index
  EXPECT_NE(adv.unserved[0].why.find("measured on stage on h:1: the planner used it in none"), std::string::npos)
      << adv.unserved[0].why;
}

TEST(BrinSize, OneSummaryPer128PagesNotABTreeOfEveryRow) {
  TableInfo t;
  t.schema = "public";
  t.name = "ev";
  t.relpages = 7693;
  t.reltuples = 400000;
  ColumnInfo at;
  at.name = "at";
  at.avg_width = 8;
  t.columns.push_back(at);
  IndexSpec brin;
  brin.table = "ev";
  brin.method = "brin";
  brin.columns = {"at"};
  EXPECT_DOUBLE_EQ(estimate_index_bytes(brin, t, 1), 3 * 8192.0);  // the 24 kB PostgreSQL builds
  IndexSpec btree = brin;
  btree.method = "btree";
  EXPECT_GT(estimate_index_bytes(btree, t, 1), 100 * estimate_index_bytes(brin, t, 1));
}

namespace {

Advice btree_with_brin_alternative() {
  Advice adv;
  adv.verified_on = "stage on h:1";
  Recommendation r;
  r.index.table = "ev";
  r.index.columns = {"at"};
  r.index.descending = {false};
  r.index.opclass = {""};
  r.alternative = r.index;
  r.alternative->method = "brin";
  r.name = "ev_at_idx";
  r.kind = "btree";
  r.size_bytes = 8.6e6;
  r.benefit = 400000;
  r.benefit_pct = 90;
  r.alternative_bytes = 24576;
  r.alternative_benefit = 120000;
  r.alternative_reasons = {"at: range on a column in physical row order (correlation 1.000): BRIN"};
  r.alternative_groups = {{7, 40, 11000, 8100}};
  r.reasons = {"at: range", "B-tree over a BRIN on at, each costed alone: ..."};
  r.measured = one_group(90, 1.30, 3, 3);
  r.measured->real_bytes = 8.8e6;
  decide(*r.measured);
  adv.recommendations.push_back(r);
  return adv;
}

}  // namespace

TEST(VerifyAlternative, ABrinAboutAsFastReplacesTheBTree) {
  Advice adv = btree_with_brin_alternative();
  std::optional<Measured> brin = one_group(90, 1.50, 3, 3);  // within 25% of 1.30
  brin->real_bytes = 24576;
  decide(*brin);
  apply_alternatives(adv, {brin}, Catalog{});
  const Recommendation& r = adv.recommendations[0];
  EXPECT_EQ(r.kind, "brin");
  EXPECT_EQ(r.ddl, "CREATE INDEX CONCURRENTLY ev_at_brin_idx ON public.ev USING brin (at);");
  EXPECT_DOUBLE_EQ(r.benefit, 120000);
  EXPECT_DOUBLE_EQ(r.size_bytes, 24576);
  ASSERT_EQ(r.groups.size(), 1u);
  EXPECT_DOUBLE_EQ(r.groups[0].after, 8100);
  EXPECT_DOUBLE_EQ(r.measured->after_ms, 1.50);
  EXPECT_EQ(r.alternative->method, "btree");
  EXPECT_NE(r.reasons.back().find("chosen over the B-tree the estimates preferred"), std::string::npos);
}

TEST(VerifyAlternative, ASlowerBrinOnlyAddsItsNumbers) {
  Advice adv = btree_with_brin_alternative();
  std::optional<Measured> brin = one_group(90, 1.70, 3, 3);  // 31% slower than the B-tree
  brin->real_bytes = 24576;
  decide(*brin);
  apply_alternatives(adv, {brin}, Catalog{});
  const Recommendation& r = adv.recommendations[0];
  EXPECT_EQ(r.kind, "btree");
  EXPECT_NE(r.reasons.back().find("the BRIN alternative measured on stage on h:1: 90.000 ms -> 1.700 ms"),
            std::string::npos)
      << r.reasons.back();
}
