// The HTML report's SVG charts (analyzer/report/html_charts.cpp): cost per statement group before
// and after, index size against benefit; scaling, ordering, escaping, and nothing when no data.
#include <gtest/gtest.h>

#include <string>

#include "analyzer/report/html_charts.hpp"
#include "analyzer/report/report.hpp"

using namespace pgopt::analyzer;

namespace {

advisor::Recommendation rec(const std::string& column, double size, double pct,
                            std::vector<advisor::GroupCost> groups) {
  advisor::Recommendation r;
  r.index.table = "orders";
  r.index.columns = {column};
  r.index.descending = {false};
  r.index.opclass = {""};
  r.size_bytes = size;
  r.benefit_pct = pct;
  r.groups = std::move(groups);
  return r;
}

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

TEST(ReportCharts, CostPerGroupListsEachGroupOnceCostliestFirst) {
  advisor::Advice a;
  a.normalized[1] = "SELECT * FROM orders WHERE customer_id = $1";
  a.normalized[2] = "SELECT * FROM orders WHERE status = $1 AND x < '<b>'";
  // Group 2 costs more in total (10 calls x 500) than group 1 (100 x 20); group 1 is under both indexes.
  a.recommendations.push_back(rec("customer_id", 8192, 30, {{1, 100, 20, 2}, {2, 10, 500, 50}}));
  a.recommendations.push_back(rec("status", 4096, 10, {{1, 100, 20, 2}}));
  std::string svg = report::cost_per_group_chart(a);
  ASSERT_FALSE(svg.empty());
  EXPECT_EQ(count(svg, "<g><title>"), 2u);  // one row per group, not per (index, group)
  EXPECT_LT(svg.find("status = $1"), svg.find("customer_id = $1"));  // 5,000 before 2,000
  EXPECT_NE(svg.find("&lt;b&gt;"), std::string::npos);               // escaped
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
  // The largest value gets the full bar (640 - 40 label - 150 value = 450 px), the others scale.
  EXPECT_NE(svg.find("width=\"450\" height=\"16\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("width=\"45\" height=\"16\""), std::string::npos) << svg;  // 500 of 5,000
  EXPECT_NE(svg.find("90% less"), std::string::npos);
  EXPECT_EQ(count(report::cost_per_group_chart(a, 1), "<g><title>"), 1u);  // capped
}

TEST(ReportCharts, SizeAgainstBenefitPlacesOneNumberedDotPerIndex) {
  advisor::Advice a;
  EXPECT_TRUE(report::size_vs_benefit_chart(a).empty());
  EXPECT_TRUE(report::cost_per_group_chart(a).empty());
  a.recommendations.push_back(rec("customer_id", 1024 * 1024, 40, {}));
  a.recommendations.push_back(rec("status", 512 * 1024, 10, {}));
  std::string svg = report::size_vs_benefit_chart(a);
  EXPECT_EQ(count(svg, "<circle"), 2u);
  // x: 56 + 560 * size / max_size; y: 300 - 40 - 248 * pct / 40 (max 40 rounded up to tens).
  EXPECT_NE(svg.find("cx=\"616\" cy=\"12\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("cx=\"336\" cy=\"198\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("<title>2. public.orders"), std::string::npos);
  EXPECT_NE(svg.find(">1024 kB</text>"), std::string::npos) << svg;  // the size axis, as the report prints sizes
  for (const char* external : {"<script", "href=", "url("}) EXPECT_EQ(svg.find(external), std::string::npos);
}
