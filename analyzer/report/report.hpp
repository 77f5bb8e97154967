// Renders the advisor's Advice: JSON (versioned schema, docs/analyzer.md), Markdown, a
// self-contained HTML page, or only the DDL (--format sql).
#pragma once

#include <string>
#include <vector>

#include "analyzer/advisor/advisor.hpp"

namespace pgopt::analyzer::report {

std::string render_json(const advisor::Advice& advice);
std::string render_markdown(const advisor::Advice& advice);
std::string render_html(const advisor::Advice& advice);
std::string render_sql(const advisor::Advice& advice);

// Shared by the Markdown and HTML reports.
// Whitespace runs (newlines, tabs) collapsed to one space; cut to `max` bytes at a UTF-8 character
// boundary, with "..." at the end when cut.
std::string one_line(const std::string& text, size_t max);
// 2518880 -> "2,518,880" (rounded to an integer): planner costs are large and their decimals noise.
std::string grouped(double value);
// Up to `max` distinct samples, in reservoir order (a group often repeats the same statement).
std::vector<std::string> distinct_samples(const std::vector<std::string>& samples, size_t max = 3);
// "1 group", "3 groups".
std::string count_of(uint64_t n, const std::string& singular, const std::string& plural);
// "35 (9 analysed, 13 utility, 13 on no table of the database)": every group accounted for.
std::string groups_breakdown(const advisor::Advice& advice);
// "A to B", or why there is no span (pg_stat_statements has no timestamps).
std::string log_span(const advisor::Advice& advice);
// Why utility statements are counted apart (the summary's explanation).
inline constexpr const char* kUtilityExplanation =
    "SET, BEGIN/COMMIT, DISCARD, set_config(), pgopt's own queries ...: no index changes them, left out of the top groups";
// What the costs in the report are, in words, for `Advice::evaluation`.
std::string evaluation_label(const std::string& evaluation);

// One costly group's outcome in words: "served by recommendation #2 (...)", "already served by ...".
std::string outcome_text(const advisor::Explained& e);

// With --verify: "Measured on DB: 4.653 ms -> 0.004 ms per call over 3 sampled statements (used in
// 3); real size ... (estimated ...), built in 73 ms", or why it was not measured; "" without.
std::string measured_text(const advisor::Advice& advice, const advisor::Recommendation& r);

// "1.5 GB", "820 kB" (PostgreSQL's pg_size_pretty units).
std::string human_bytes(double bytes);
// Parses "2GB", "512 MB", "100kB", "1.5TB", "4096" (bytes); false on anything else.
bool parse_size(const std::string& text, double& bytes);

}  // namespace pgopt::analyzer::report
