// Renders the advisor's Advice: JSON (versioned schema, docs/analyzer.md), Markdown, a
// self-contained HTML page, or only the DDL (--format sql).
#pragma once

#include <string>

#include "analyzer/advisor/advisor.hpp"

namespace pgopt::analyzer::report {

std::string render_json(const advisor::Advice& advice);
std::string render_markdown(const advisor::Advice& advice);
std::string render_html(const advisor::Advice& advice);
std::string render_sql(const advisor::Advice& advice);

// "1.5 GB", "820 kB" (PostgreSQL's pg_size_pretty units).
std::string human_bytes(double bytes);
// Parses "2GB", "512 MB", "100kB", "1.5TB", "4096" (bytes); false on anything else.
bool parse_size(const std::string& text, double& bytes);

}  // namespace pgopt::analyzer::report
