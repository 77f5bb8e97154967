// Golden tests: schema (+ statistics) + workload -> expected recommendations, one directory per case
// under tests/fixtures/advisor/ (see README.md there). Costs come from the offline cost model.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analyzer/advisor/advisor.hpp"
#include "analyzer/report/json_writer.hpp"
#include "analyzer/report/report.hpp"
#include "sql/parser.hpp"

namespace fs = std::filesystem;
using namespace pgopt::analyzer;
using namespace pgopt::analyzer::advisor;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// stats.txt: "table REL rows N pages P" and
// "column REL COL [n_distinct X] [null_frac X] [width X] [correlation X] [mcv v:f,v:f] [histogram a,b,c]"
void apply_stats(Catalog& cat, const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string kind, rel;
    ls >> kind >> rel;
    TableInfo* t = cat.find(rel);
    if (!t) continue;
    if (kind == "table") {
      std::string k;
      double v;
      while (ls >> k >> v) {
        if (k == "rows") t->reltuples = v;
        if (k == "pages") t->relpages = v;
        if (k == "bytes") t->total_bytes = v;
      }
    } else if (kind == "column") {
      std::string col, k, v;
      ls >> col;
      for (auto& c : t->columns) {
        if (c.name != col) continue;
        c.has_stats = true;
        while (ls >> k >> v) {
          if (k == "n_distinct") c.n_distinct = std::stod(v);
          if (k == "null_frac") c.null_frac = std::stod(v);
          if (k == "width") c.avg_width = std::stod(v);
          if (k == "correlation") c.correlation = std::stod(v);
          if (k == "mcv" || k == "histogram") {
            std::istringstream vs(v);
            std::string item;
            while (std::getline(vs, item, ',')) {
              if (k == "histogram") {
                c.histogram.push_back(item);
                continue;
              }
              auto colon = item.rfind(':');
              c.mcv.push_back(item.substr(0, colon));
              c.mcf.push_back(std::stod(item.substr(colon + 1)));
            }
          }
        }
      }
    }
  }
  cat.has_statistics = true;
}

// workload.txt: "<calls> <statement with literals>"; statements with equal fingerprints form one group.
Workload load_workload(const std::string& text) {
  Workload w;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.find(' ');
    uint64_t calls = std::stoull(line.substr(0, space));
    std::string sql = line.substr(space + 1);
    auto fp = pgopt::sql::fingerprint(sql);
    auto norm = pgopt::sql::normalize(sql);
    EXPECT_TRUE(fp.value && norm.text) << sql;
    if (!fp.value || !norm.text) continue;
    QueryGroup& g = w.groups[*fp.value];
    g.fingerprint = *fp.value;
    g.normalized = *norm.text;
    g.calls += calls;
    g.timed_calls += calls;
    g.total_ms += double(calls);
    g.samples.push_back(sql);
    w.statements += calls;
  }
  return w;
}

std::string project(const Advice& a) {
  pgopt::analyzer::report::JsonWriter w;
  w.begin_object();
  w.key("recommendations").begin_array();
  for (const auto& r : a.recommendations) {
    w.begin_object();
    w.field("table", r.index.relation());
    w.field("index", r.index.describe());
    // Consolidation is part of the advice: which index this one made unnecessary.
    std::string consolidated;
    for (const auto& why : r.reasons)
      if (why.rfind("consolidated: ", 0) == 0)
        consolidated += (consolidated.empty() ? "" : "; ") + why;
    if (!consolidated.empty()) w.field("consolidated", consolidated);
    w.end_object();
  }
  w.end_array();
  w.key("drops").begin_array();
  for (const auto& d : a.drops) w.value(d.index + " (" + d.kind + ")");
  w.end_array();
  w.key("unserved").begin_array();
  for (const auto& u : a.unserved) w.value(u.relation + "." + u.column);
  w.end_array();
  w.key("partitioning").begin_array();
  for (const auto& p : a.partitioning) {
    // The expected share of partitions pruned, per statement group (in the workload's order).
    std::string pruned;
    for (const auto& [fp, share] : p.pruned) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%.0f%%", share * 100);
      pruned += (pruned.empty() ? "" : ", ") + std::string(buf);
    }
    w.value(p.relation + " " + p.strategy + " (" + p.column + ") " + p.interval + "; pruned " + pruned);
  }
  w.end_array();
  // Each of the costliest groups' outcome: "recommendation #1", "existing_index public.x_pkey",
  // "no_btree: <what would help>", "not_worth", "writes_only" ...
  w.key("explained").begin_array();
  for (const auto& e : a.explained) {
    std::string text = e.outcome.outcome;
    if (e.outcome.recommendation) text += " #" + std::to_string(e.outcome.recommendation);
    if (!e.outcome.index.empty()) text += " " + e.outcome.index;
    if (e.outcome.outcome == "skipped_table") text += ": " + e.outcome.detail;
    if (e.outcome.outcome == "no_btree") {
      auto help = e.outcome.detail.find("what would help: ");
      if (help != std::string::npos) text += ": " + e.outcome.detail.substr(help + 17);
    }
    w.value(text);
  }
  w.end_array();
  w.end_object();
  return w.str();
}

Advice run_case(const fs::path& dir, Catalog& cat) {
  auto def = pgopt::sql::parse_schema(slurp(dir / "schema.sql"));
  EXPECT_TRUE(def.errors.empty());
  cat = catalog_from_schema(def);
  if (fs::exists(dir / "stats.txt")) apply_stats(cat, slurp(dir / "stats.txt"));
  Workload w = load_workload(slurp(dir / "workload.txt"));
  auto eval = make_cost_model(cat);
  AdvisorOptions opts;
  std::string options = fs::exists(dir / "options.txt") ? slurp(dir / "options.txt") : "";
  std::istringstream os(options);
  std::string k;
  double v;
  while (os >> k >> v) {
    if (k == "max_indexes") opts.selection.max_indexes = size_t(v);
    if (k == "budget_bytes") opts.selection.budget_bytes = v;
    if (k == "min_improvement") opts.selection.min_improvement_pct = v;
    if (k == "consolidate") opts.selection.consolidate_pct = v;
  }
  return advise(w, cat, *eval, opts);
}

TEST(AdvisorGolden, EveryCaseMatchesItsExpectedJson) {
  fs::path root = fs::path(PGOPT_FIXTURES) / "advisor";
  size_t cases = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (!entry.is_directory()) continue;
    ++cases;
    Catalog cat;
    Advice a = run_case(entry.path(), cat);
    std::string got = project(a);
    // PGOPT_UPDATE_GOLDEN=1 rewrites expected.json from what the advisor says now: review the diff.
    if (std::getenv("PGOPT_UPDATE_GOLDEN")) std::ofstream(entry.path() / "expected.json") << got;
    std::string want = slurp(entry.path() / "expected.json");
    EXPECT_EQ(got, want) << "case " << entry.path().filename().string();
    // Every report format renders, and none leaks a literal of the workload (samples are off).
    for (const std::string& text : {pgopt::analyzer::report::render_markdown(a), pgopt::analyzer::report::render_json(a),
                                    pgopt::analyzer::report::render_html(a)}) {
      EXPECT_EQ(text.find("'secret"), std::string::npos) << entry.path().filename().string();
      EXPECT_FALSE(text.empty());
    }
  }
  EXPECT_GE(cases, 5u);
}

}  // namespace
