// A plain file of SQL statements as a workload: for teams that want advice on a query set rather
// than on a log. Each statement is one call (no timing); statements of one fingerprint form a group
// whose samples are the statements themselves, with their literals.
#include <fstream>
#include <sstream>

#include "analyzer/input.hpp"
#include "sql/parser.hpp"

namespace pgopt::analyzer {

InputResult read_sql_file(const std::string& path, const InputOptions& options) {
  InputResult out;
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    out.errors.push_back("cannot read " + path);
    return out;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  Workload& w = out.workload;
  w.sources.push_back(path);
  w.bytes = text.size();
  for (const auto& stmt : sql::split_statements(text)) {
    w.entries++;
    w.statements++;
    auto fp = sql::fingerprint(stmt);
    auto normalized = sql::normalize(stmt);
    if (!fp.value || !normalized.text) {
      w.parse_failures++;
      continue;
    }
    QueryGroup& g = w.groups[*fp.value];
    if (!g.calls) {
      g.fingerprint = *fp.value;
      g.normalized = *normalized.text;
    }
    g.calls++;
    g.sample_seen++;
    if (g.samples.size() < options.samples_per_group) g.samples.push_back(stmt);
  }
  w.notes.push_back(path + ": a file of SQL statements (" + std::to_string(w.statements) +
                    " statements, each counted as one call; no timings)");
  return out;
}

}  // namespace pgopt::analyzer
