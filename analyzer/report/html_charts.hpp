// Inline SVG charts of the HTML report: workload cost before/after per statement group, and each
// recommended index's size against its benefit. No scripts, no fetches; they scale to the page.
#pragma once

#include <string>

#include "analyzer/advisor/advisor.hpp"

namespace pgopt::analyzer::report {

// Paired bars per statement group the recommendations touch (the costliest `max_groups`): calls x
// planner cost with the existing indexes and with every recommendation. Empty when no group has one.
std::string cost_per_group_chart(const advisor::Advice& a, size_t max_groups = 12);
// One dot per recommended index: estimated size (x) against benefit in % of the workload cost (y),
// numbered as in the report. Empty without recommendations.
std::string size_vs_benefit_chart(const advisor::Advice& a);

}  // namespace pgopt::analyzer::report
