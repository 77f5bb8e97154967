// The JSON report against its documentation: every object the schema block in docs/analyzer.md
// describes carries exactly the documented keys (none missing, none undocumented), with values of
// the documented type or enumeration. The schema is read from the doc itself, so a field added to
// one and not the other fails here.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "analyzer/report/report.hpp"

using namespace pgopt::analyzer;

namespace {

// ---- A small JSON reader (the project has no JSON library; the writer is hand-made too). ----
struct Json {
  enum Type { Null, Bool, Number, String, Array, Object } type = Null;
  std::string text;  // String
  std::vector<Json> items;  // Array
  std::vector<std::pair<std::string, Json>> fields;  // Object, in order
};

class JsonReader {
 public:
  explicit JsonReader(const std::string& s) : s_(s) {}
  bool parse(Json& out) {
    bool ok = value(out);
    space();
    return ok && p_ == s_.size();
  }

 private:
  const std::string& s_;
  size_t p_ = 0;

  void space() {
    while (p_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[p_]))) ++p_;
  }
  bool lit(const char* w) {
    size_t n = std::char_traits<char>::length(w);
    if (s_.compare(p_, n, w) != 0) return false;
    p_ += n;
    return true;
  }
  bool string(std::string& out) {
    if (p_ >= s_.size() || s_[p_] != '"') return false;
    for (++p_; p_ < s_.size(); ++p_) {
      char c = s_[p_];
      if (c == '"') {
        ++p_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') {
        if (++p_ >= s_.size()) return false;
        char e = s_[p_];
        if (e == 'u') {
          if (p_ + 4 >= s_.size()) return false;
          out += '?';  // code points are not needed here, only validity
          p_ += 4;
        } else if (std::string("\"\\/bfnrt").find(e) != std::string::npos) {
          out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        } else {
          return false;
        }
      } else {
        out += c;
      }
    }
    return false;
  }
  bool value(Json& v) {
    space();
    if (p_ >= s_.size()) return false;
    char c = s_[p_];
    if (c == '{') {
      v.type = Json::Object;
      ++p_;
      space();
      if (p_ < s_.size() && s_[p_] == '}') return ++p_, true;
      for (;;) {
        space();
        std::string k;
        if (!string(k)) return false;
        space();
        if (!lit(":")) return false;
        Json child;
        if (!value(child)) return false;
        v.fields.emplace_back(std::move(k), std::move(child));
        space();
        if (lit("}")) return true;
        if (!lit(",")) return false;
      }
    }
    if (c == '[') {
      v.type = Json::Array;
      ++p_;
      space();
      if (p_ < s_.size() && s_[p_] == ']') return ++p_, true;
      for (;;) {
        Json child;
        if (!value(child)) return false;
        v.items.push_back(std::move(child));
        space();
        if (lit("]")) return true;
        if (!lit(",")) return false;
      }
    }
    if (c == '"') {
      v.type = Json::String;
      return string(v.text);
    }
    if (lit("null")) return v.type = Json::Null, true;
    if (lit("true") || lit("false")) return v.type = Json::Bool, true;
    size_t start = p_;
    if (s_[p_] == '-') ++p_;
    auto number_char = [](char ch) {
      return std::isdigit(static_cast<unsigned char>(ch)) || std::string(".eE+-").find(ch) != std::string::npos;
    };
    while (p_ < s_.size() && number_char(s_[p_])) ++p_;
    v.type = Json::Number;
    v.text = s_.substr(start, p_ - start);
    return p_ > start && std::isdigit(static_cast<unsigned char>(v.text.back()));
  }
};

// ---- The documented schema: "path" -> key -> value spec ("str", "int|null", "\"a\"|\"b\"", "[str]",
// "" when the doc lists the key without a spec, or "object"/"array" for nested structures). ----
using Schema = std::map<std::string, std::map<std::string, std::string>>;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The fenced block under "## JSON report", with `// comments` and parenthesised remarks removed.
std::string schema_block(const std::string& doc) {
  auto head = doc.find("## JSON report");
  if (head == std::string::npos) return {};
  auto open = doc.find("```\n", head);
  auto close = doc.find("```", open + 4);
  std::string block = doc.substr(open + 4, close - open - 4), out;
  bool in_string = false;
  int paren = 0;
  for (size_t i = 0; i < block.size(); ++i) {
    char c = block[i];
    if (!in_string && c == '/' && i + 1 < block.size() && block[i + 1] == '/') {
      while (i < block.size() && block[i] != '\n') ++i;
      out += '\n';
      continue;
    }
    if (c == '"') in_string = !in_string;
    if (!in_string && c == '(') ++paren;
    if (paren == 0) out += c;
    if (!in_string && c == ')') --paren;
  }
  return out;
}

class SchemaParser {
 public:
  explicit SchemaParser(const std::string& text) {
    for (size_t i = 0; i < text.size();) {
      char c = text[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
      } else if (c == '"') {
        size_t end = text.find('"', i + 1);
        toks_.push_back(text.substr(i, end - i + 1));
        i = end + 1;
      } else if (std::string("{}[]:,|+=").find(c) != std::string::npos) {
        toks_.push_back(std::string(1, c));
        ++i;
      } else {
        size_t j = i;
        while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j])) &&
               std::string("{}[]:,|+=\"").find(text[j]) == std::string::npos)
          ++j;
        toks_.push_back(text.substr(i, j - i));
        i = j;
      }
    }
  }

  // Fills `schema`; "Group" references are expanded after the whole block is read.
  bool parse(Schema& schema, std::string& error) {
    schema_ = &schema;
    if (!object("")) return fail(error);
    if (peek() == "Group") {
      next();
      if (next() != "=" || !object("Group")) return fail(error);
    }
    if (!at_end()) return fail(error);
    for (const auto& path : group_refs_) {
      if (!schema.count("Group")) return fail(error);
      for (const auto& [k, spec] : schema["Group"]) schema[path][k] = spec;
    }
    schema.erase("Group");
    return true;
  }

 private:
  std::vector<std::string> toks_;
  size_t p_ = 0;
  Schema* schema_ = nullptr;
  std::vector<std::string> group_refs_;

  bool fail(std::string& error) {
    error = "schema block does not parse near token " + std::to_string(p_) + " '" + peek() + "'";
    return false;
  }
  bool at_end() const { return p_ >= toks_.size(); }
  std::string peek() const { return at_end() ? "" : toks_[p_]; }
  std::string next() { return at_end() ? "" : toks_[p_++]; }
  static bool quoted(const std::string& t) { return t.size() >= 2 && t.front() == '"'; }
  static std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

  bool object(const std::string& path) {
    if (next() != "{") return false;
    (*schema_)[path];
    while (peek() != "}") {
      std::string key = next();
      if (!quoted(key)) return false;
      key = key.substr(1, key.size() - 2);
      std::string spec;
      if (peek() == ":" && !value(join(path, key), (next(), spec))) return false;
      (*schema_)[path][key] = spec;
      if (peek() == ",") next();
    }
    next();
    return true;
  }

  bool value(const std::string& path, std::string& spec) {
    std::string t = peek();
    if (t == "{") {
      spec = "object";
      return object(path);
    }
    if (t == "[") {
      next();
      std::string elem = path + "[]";
      if (peek() == "{") {
        spec = "array";
        if (!object(elem)) return false;
      } else if (peek() == "Group") {
        spec = "array";
        next();
        group_refs_.push_back(elem);
        (*schema_)[elem];
        if (peek() == "+") {
          next();
          if (!object(elem)) return false;
        }
      } else {
        spec = "[" + next() + "]";
      }
      return next() == "]";
    }
    // Alternatives: str|null, "a" | "b", a number.
    spec = next();
    while (peek() == "|") {
      next();
      spec += "|" + next();
    }
    return !spec.empty();
  }
};

// ---- Checking the emitted JSON against the schema. ----
void collect(const Json& v, const std::string& path, std::map<std::string, std::vector<const Json*>>& out) {
  if (v.type == Json::Object) {
    out[path].push_back(&v);
    for (const auto& [k, child] : v.fields) {
      std::string p = path.empty() ? k : path + "." + k;
      if (child.type == Json::Array) {
        for (const auto& item : child.items) collect(item, p + "[]", out);
      } else {
        collect(child, p, out);
      }
    }
  }
}

bool matches(const Json& v, const std::string& spec) {
  if (spec.empty() || spec == "object") return spec.empty() || v.type == Json::Object;
  if (spec == "array") return v.type == Json::Array;
  if (spec.front() == '[') {
    if (v.type != Json::Array) return false;
    std::string elem = spec.substr(1, spec.size() - 2);
    for (const auto& i : v.items)
      if (!matches(i, elem)) return false;
    return true;
  }
  // A lone quoted value is an example ("schema.table", "CREATE INDEX ..."); alternatives are an enumeration.
  if (spec.front() == '"' && spec.find('|') == std::string::npos) return v.type == Json::String;
  std::stringstream alts(spec);
  for (std::string alt; std::getline(alts, alt, '|');) {
    if (alt == "null" && v.type == Json::Null) return true;
    if ((alt == "str") && v.type == Json::String) return true;
    if (alt == "hex16" && v.type == Json::String && v.text.size() == 16 &&
        v.text.find_first_not_of("0123456789abcdef") == std::string::npos)
      return true;
    if (alt == "bool" && v.type == Json::Bool) return true;
    if (alt == "num" && v.type == Json::Number) return true;
    if (alt == "int" && v.type == Json::Number && v.text.find_first_of(".eE") == std::string::npos) return true;
    if (alt.front() == '"' && v.type == Json::String && v.text == alt.substr(1, alt.size() - 2)) return true;
    if (std::isdigit(static_cast<unsigned char>(alt.front())) && v.type == Json::Number && v.text == alt) return true;
  }
  return false;
}

// An Advice with every section populated, samples included (as --show-samples gives).
advisor::Advice full_advice() {
  advisor::Advice a;
  a.evaluation = "hypopg";
  a.catalog_source = "database";
  a.first_timestamp = "2024-05-01 10:00:00.000 UTC";
  a.last_timestamp = "2024-05-01 11:00:00.000 UTC";
  a.statements = 1000;
  a.groups = 3;
  a.analysed_groups = 2;
  a.utility_groups = 1;
  a.utility_statements = 10;
  a.utility_ms = 1.5;
  a.sources = {"/var/log/postgresql/postgresql-15-main.log"};
  a.cost_before = 2000.5;
  a.cost_after = 100.25;
  a.candidates = 4;
  a.evaluations = 12;
  advisor::GroupSummary g;
  g.fingerprint = 0x1234abcd5678ef00ULL;
  g.normalized = "SELECT * FROM orders WHERE customer_id = $1";
  g.calls = 900;
  g.total_ms = 450.5;
  g.mean_ms = 0.5;
  g.p95_ms = 1.25;
  g.max_ms = 3.5;
  g.samples = {"SELECT * FROM orders WHERE customer_id = 42"};
  a.top_groups.push_back(g);
  a.normalized[g.fingerprint] = g.normalized;

  advisor::Recommendation r;
  r.index.table = "orders";
  r.index.columns = {"customer_id", "created_at"};
  r.index.descending = {false, true};
  r.index.opclass = {"", ""};
  r.index.include = {"total"};
  r.index.where = "status = 'pending'";
  r.name = "orders_customer_id_created_at_status_pending_idx";
  r.ddl = r.index.ddl(r.name) + ";";
  r.kind = "partial";
  r.size_bytes = 81920;
  r.benefit = 1900.25;
  r.benefit_pct = 95;
  r.write_overhead = 3;
  r.reasons = {"customer_id: equality", "created_at: ORDER BY DESC"};
  r.groups.push_back({g.fingerprint, 900, 2.2, 0.1});
  // As --verify leaves it: measured on a staging database, one other recommendation dropped.
  advisor::Measured m;
  m.verdict = "keep";
  m.reason = "measured 4.000 ms before, 0.050 ms after per call";
  m.built = true;
  m.real_bytes = 65536;
  m.build_ms = 12;
  m.groups.push_back({g.fingerprint, 900, 3, 3, 4.0, 0.05, 120, 4, false, false});
  r.measured = m;
  a.recommendations.push_back(r);
  a.verified_on = "app_staging on staging:5432";
  advisor::Recommendation dropped = r;
  dropped.measured->verdict = "drop";
  dropped.measured->reason = "the planner used it in none of the 3 sampled statements";
  a.verify_dropped.push_back(dropped);

  a.drops.push_back({"public.orders", "public.orders_customer_idx", "CREATE INDEX orders_customer_idx ON ...", "prefix",
                     "its columns are the leading columns of orders_customer_created_idx",
                     "DROP INDEX CONCURRENTLY public.orders_customer_idx;", 16384});

  advisor::PartitionAdvice p;
  p.relation = "public.orders";
  p.column = "created_at";
  p.strategy = "RANGE";
  p.interval = "1 month";
  p.table_bytes = 20e9;
  p.statement_share = 0.8;
  p.reason = "80% of the statements filter a range of created_at";
  p.pruned.push_back({g.fingerprint, 0.9});
  p.ddl = "CREATE TABLE ... PARTITION BY RANGE (created_at);";
  p.migration = {"step one", "step two"};
  a.partitioning.push_back(p);

  advisor::UnservedQuery u;
  u.group = g;
  u.group.fingerprint = 0xfeULL;
  u.group.normalized = "SELECT id FROM users WHERE name ILIKE $1";
  u.relation = "public.users";
  u.column = "name";
  u.why = "ILIKE (case-insensitive matching)";
  u.suggestion = "pg_trgm";
  a.unserved.push_back(u);
  advisor::CostlyGroup served{g, {g.fingerprint, "recommendation", 1, "", "estimated cost per call 10.00 -> 1.00"}};
  advisor::CostlyGroup existing{u.group, {u.group.fingerprint, "existing_index", 0, "public.users_pkey", "already"}};
  a.explained = {served, existing};
  a.notes = {"a note"};
  return a;
}

Schema documented_schema() {
  Schema s;
  std::string doc = slurp(std::string(PGOPT_SOURCE_DIR) + "/docs/analyzer.md");
  std::string block = schema_block(doc);
  EXPECT_FALSE(block.empty()) << "docs/analyzer.md has no '## JSON report' code block";
  std::string error;
  EXPECT_TRUE(SchemaParser(block).parse(s, error)) << error;
  return s;
}

}  // namespace

TEST(ReportJsonSchema, TheDocumentedSchemaIsReadable) {
  Schema s = documented_schema();
  // A few anchors, so a parser that silently reads nothing cannot pass the test below.
  ASSERT_TRUE(s.count(""));
  EXPECT_EQ(s[""]["schema_version"], "1");
  EXPECT_TRUE(s["recommendations[]"].count("estimated_size_bytes"));
  EXPECT_TRUE(s["recommendations[].queries[]"].count("cost_after"));
  EXPECT_TRUE(s["partitioning[].pruned[]"].count("partitions_pruned_share"));
  EXPECT_TRUE(s["summary.top_groups[]"].count("p95_ms"));
  EXPECT_TRUE(s["unserved[]"].count("suggestion"));
  EXPECT_TRUE(s["unserved[]"].count("fingerprint"));  // from Group
  EXPECT_TRUE(s["drops[]"].count("size_bytes"));
}

TEST(ReportJsonSchema, EveryDocumentedFieldIsEmittedAndNothingElse) {
  Schema schema = documented_schema();
  std::string text = report::render_json(full_advice());
  Json root;
  ASSERT_TRUE(JsonReader(text).parse(root)) << text;
  std::map<std::string, std::vector<const Json*>> objects;
  collect(root, "", objects);
  for (const auto& [path, keys] : schema) {
    ASSERT_FALSE(objects[path].empty()) << "no object at '" << path << "' in the emitted JSON";
    for (const Json* o : objects[path]) {
      std::set<std::string> seen;
      for (const auto& [k, v] : o->fields) {
        seen.insert(k);
        auto it = keys.find(k);
        if (it == keys.end()) {
          ADD_FAILURE() << "'" << path << "." << k << "' is emitted but not documented in docs/analyzer.md";
          continue;
        }
        EXPECT_TRUE(matches(v, it->second)) << path << "." << k << " does not match its documented type '" << it->second << "'";
      }
      for (const auto& [k, spec] : keys) EXPECT_TRUE(seen.count(k)) << "documented '" << path << "." << k << "' is missing";
    }
  }
  for (const auto& [path, objs] : objects) EXPECT_TRUE(schema.count(path)) << "undocumented object at '" << path << "'";
}

TEST(ReportJsonSchema, SamplesAppearOnlyWhenGiven) {
  advisor::Advice a = full_advice();
  for (auto& g : a.top_groups) g.samples.clear();
  for (auto& u : a.unserved) u.group.samples.clear();
  for (auto& e : a.explained) e.group.samples.clear();
  std::string text = report::render_json(a);
  EXPECT_EQ(text.find("\"samples\""), std::string::npos);
  EXPECT_EQ(text.find("customer_id = 42"), std::string::npos);
}
