// docs/configuration.md against the parser: its key tables list exactly the keys parse_config
// accepts, and each row's type, default and reload mark is what the code does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "pooler/config/config.hpp"
#include "pooler/config/units.hpp"

using namespace pgopt::pooler;
using ::testing::HasSubstr;

namespace {

struct Row {
  std::string key, type, def, reload;
  int line = 0;
};

std::string read_doc() {
  std::ifstream in(std::string(PGOPT_SOURCE_DIR) + "/docs/configuration.md", std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Cells of a Markdown table row; "\|" is a literal '|' inside a cell.
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cur += '|';
      ++i;
    } else if (line[i] == '|') {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += line[i];
    }
  }
  return out;
}

// Every `code` span of a cell, in order.
std::vector<std::string> code_spans(const std::string& cell) {
  std::vector<std::string> out;
  static const std::regex span("`([^`]*)`");
  for (std::sregex_iterator it(cell.begin(), cell.end(), span), end; it != end; ++it)
    out.push_back((*it)[1]);
  return out;
}

// The key table under the heading line `heading`, up to the next "## " heading. Columns are
// found by their header names, so reordering the doc's columns does not break the test.
std::vector<Row> key_table(const std::string& doc, const std::string& heading) {
  std::istringstream in(doc);
  std::string line;
  int n = 0;
  bool inside = false;
  std::map<std::string, size_t> col;
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    ++n;
    if (line.rfind("## ", 0) == 0) {
      if (inside) break;
      inside = line == heading;
      continue;
    }
    if (!inside || line.rfind("|", 0) != 0) continue;
    auto c = cells(line);
    if (col.empty()) {
      for (size_t i = 0; i < c.size(); ++i) col[c[i]] = i;
      continue;
    }
    if (c.empty() || c[0].rfind("`", 0) != 0) continue;  // the |---| line
    auto at = [&](const char* name) { return col.count(name) && col[name] < c.size() ? c[col[name]] : ""; };
    auto key = code_spans(at("key"));
    rows.push_back({key.empty() ? "" : key[0], at("type"), at("default"), at("reload"), n});
  }
  return rows;
}

std::string pooler_text(const std::string& key, const std::string& value) {
  std::string s = "[pooler]\n";
  if (key != "auth_file") s += "auth_file = \"users.txt\"\n";
  // The files the TLS modes other than disable need, so each mode can be checked on its own.
  for (const char* file : {"client_tls_key_file", "client_tls_cert_file", "server_tls_ca_file"})
    if (key != file) s += std::string(file) + " = \"tls.pem\"\n";
  return s + key + " = " + value + "\n[databases.app]\n";
}

std::string database_text(const std::string& key, const std::string& value,
                          const std::string& pooler_extra = "") {
  return "[pooler]\nauth_type = \"trust\"\n" + pooler_extra + "[databases.app]\n" +
         (key.empty() ? "" : key + " = " + value + "\n");
}

ConfigResult parse(const std::string& text) { return parse_config(text, "doc.toml"); }

bool accepted(const std::string& text) { return parse(text).config != nullptr; }

std::string errors_of(const std::string& text) { return format_errors(parse(text).errors); }

// Checks that the values the type column promises are accepted and its bounds refused.
void check_type(const Row& r, const std::function<std::string(const std::string&)>& text) {
  SCOPED_TRACE("docs/configuration.md:" + std::to_string(r.line) + " `" + r.key + "` type \"" +
               r.type + "\"");
  std::smatch m;
  const auto spans = code_spans(r.type);
  if (std::regex_match(r.type, m, std::regex(R"(integer (\d+)-(\d+))"))) {
    const long lo = std::stol(m[1]), hi = std::stol(m[2]);
    EXPECT_TRUE(accepted(text(std::to_string(lo)))) << errors_of(text(std::to_string(lo)));
    EXPECT_TRUE(accepted(text(std::to_string(hi)))) << errors_of(text(std::to_string(hi)));
    EXPECT_FALSE(accepted(text(std::to_string(lo - 1))));
    EXPECT_FALSE(accepted(text(std::to_string(hi + 1))));
    EXPECT_FALSE(accepted(text("\"" + std::to_string(lo) + "\"")));  // a string is not an integer
  } else if (std::regex_match(r.type, m, std::regex(R"(integer >= (\d+))"))) {
    const long lo = std::stol(m[1]);
    EXPECT_TRUE(accepted(text(std::to_string(lo)))) << errors_of(text(std::to_string(lo)));
    EXPECT_FALSE(accepted(text(std::to_string(lo - 1))));
  } else if (std::regex_match(r.type, m, std::regex(R"(size (\w+)-(\w+))"))) {
    auto lo = parse_size(m[1].str()).value, hi = parse_size(m[2].str()).value;
    ASSERT_TRUE(lo && hi) << "bounds are not sizes";
    EXPECT_TRUE(accepted(text("\"" + m[1].str() + "\"")));
    EXPECT_TRUE(accepted(text("\"" + m[2].str() + "\"")));
    EXPECT_TRUE(accepted(text(std::to_string(*lo))));  // bare integer: bytes
    EXPECT_FALSE(accepted(text(std::to_string(*lo - 1))));
    EXPECT_FALSE(accepted(text(std::to_string(*hi + 1))));
  } else if (std::regex_match(r.type, m, std::regex(R"(duration (\w+)-(\w+))"))) {
    auto lo = parse_duration(m[1].str()).value, hi = parse_duration(m[2].str()).value;
    ASSERT_TRUE(lo && hi) << "bounds are not durations";
    EXPECT_TRUE(accepted(text("\"" + m[1].str() + "\""))) << errors_of(text("\"" + m[1].str() + "\""));
    EXPECT_TRUE(accepted(text("\"" + m[2].str() + "\"")));
    const std::string below = "\"" + std::to_string(lo->count() - 1) + "ms\"";
    const std::string above = "\"" + std::to_string(hi->count() + 1) + "ms\"";
    if (lo->count() > 0) {
      EXPECT_FALSE(accepted(text(below))) << below;
    }
    EXPECT_FALSE(accepted(text(above))) << above;
    EXPECT_FALSE(accepted(text("true")));
  } else if (r.type == "duration or size") {
    for (const char* ok : {"\"1s\"", "\"250ms\"", "\"16MB\"", "\"0s\"", "\"0B\""})
      EXPECT_TRUE(accepted(text(ok))) << ok << ": " << errors_of(text(ok));
    for (const char* bad : {"1", "1.5", "\"5\"", "\"5m\"", "\"1.5MB\"", "true"})
      EXPECT_FALSE(accepted(text(bad))) << bad;
  } else if (r.type == "boolean") {
    EXPECT_TRUE(accepted(text("true"))) << errors_of(text("true"));
    EXPECT_TRUE(accepted(text("false")));
    EXPECT_FALSE(accepted(text("\"yes\"")));
    EXPECT_FALSE(accepted(text("1")));
  } else if (r.type == "array of strings") {
    EXPECT_TRUE(accepted(text("[]")));
    EXPECT_TRUE(accepted(text("[\"audit.log_event\", \"price_for\"]"))) << errors_of(text("[\"a.b\"]"));
    EXPECT_FALSE(accepted(text("\"audit.log_event\"")));
    EXPECT_FALSE(accepted(text("[1]")));
    EXPECT_FALSE(accepted(text("[\"a.b.c\"]")));
  } else if (r.type == "array of host:port strings") {
    EXPECT_TRUE(accepted(text("[]")));
    EXPECT_TRUE(accepted(text("[\"10.0.0.1:5432\", \"db2\", \"[::1]:5433\"]")));
    EXPECT_FALSE(accepted(text("\"10.0.0.1:5432\"")));
    EXPECT_FALSE(accepted(text("[1]")));
    EXPECT_FALSE(accepted(text("[\"10.0.0.1:0\"]")));
    EXPECT_FALSE(accepted(text("[\"db2\", \"db2:5432\"]")));
  } else if (r.type == "array of http:// or https:// URLs") {  // the caller adds the hosts they need
    EXPECT_TRUE(accepted(text("[]")));
    EXPECT_TRUE(accepted(text("[\"http://10.0.0.1:8008\", \"http://db2/\", \"http://[::1]:8009\"]")))
        << errors_of(text("[\"http://10.0.0.1:8008\"]"));
    EXPECT_TRUE(accepted(text("[\"https://10.0.0.1:8008\"]")));
    EXPECT_FALSE(accepted(text("\"http://10.0.0.1:8008\"")));
    EXPECT_FALSE(accepted(text("[\"ftp://10.0.0.1:8008\"]")));
    EXPECT_FALSE(accepted(text("[\"http://10.0.0.1:8008/cluster\"]")));
    EXPECT_FALSE(accepted(text("[8008]")));
  } else if (r.type == "array of user names") {
    EXPECT_TRUE(accepted(text("[]")));
    EXPECT_TRUE(accepted(text("[\"admin\", \"ops.team\"]"))) << errors_of(text("[\"admin\", \"ops.team\"]"));
    EXPECT_FALSE(accepted(text("\"admin\"")));
    EXPECT_FALSE(accepted(text("[1]")));
    EXPECT_FALSE(accepted(text("[\"\"]")));
    EXPECT_FALSE(accepted(text("[\"admin\", \"admin\"]")));
  } else if (r.type == "array of tables") {
    EXPECT_TRUE(accepted(text("[]")));
    EXPECT_TRUE(accepted(text("[{ host = \"10.0.0.7\" }]"))) << errors_of(text("[{ host = \"10.0.0.7\" }]"));
    EXPECT_FALSE(accepted(text("\"10.0.0.7\"")));
    EXPECT_FALSE(accepted(text("[{ port = 5433 }]")));
  } else if (r.type == "duration") {
    for (const char* ok : {"0", "0.5", "\"0s\"", "\"1500ms\"", "\"5min\"", "\"365d\""})
      EXPECT_TRUE(accepted(text(ok))) << ok << ": " << errors_of(text(ok));
    for (const char* bad : {"-1", "\"366d\"", "\"5m\"", "true"}) EXPECT_FALSE(accepted(text(bad))) << bad;
  } else if (r.type == "string" || r.type == "string (path)") {
    EXPECT_TRUE(accepted(text("\"somewhere\""))) << errors_of(text("\"somewhere\""));
    EXPECT_FALSE(accepted(text("1")));
  } else if (!spans.empty() && std::all_of(spans.begin(), spans.end(), [](const std::string& s) {
               return s.size() >= 2 && s.front() == '"' && s.back() == '"';
             })) {
    for (const auto& v : spans) EXPECT_TRUE(accepted(text(v))) << v << ": " << errors_of(text(v));
    // The parser's own list of allowed values is the documented one, in the same order.
    std::string list;
    for (const auto& v : spans) list += (list.empty() ? "" : ", ") + v;
    EXPECT_THAT(errors_of(text("\"no-such-value\"")), HasSubstr("is not one of " + list));
  } else {
    ADD_FAILURE() << "type not understood by this test; use one of the forms it knows";
  }
}

TEST(ConfigDoc, PoolerTableListsExactlyTheParsersKeys) {
  auto rows = key_table(read_doc(), "## `[pooler]`");
  std::vector<std::string> documented, known(pooler_keys().begin(), pooler_keys().end());
  for (const auto& r : rows) documented.push_back(r.key);
  EXPECT_EQ(documented, known) << "the [pooler] table must list pooler_keys(), in that order";
  // Each documented key is one the parser takes: a date is refused as the wrong type for that
  // key, not as an unknown key.
  for (const auto& r : rows)
    EXPECT_THAT(errors_of(pooler_text(r.key, "1979-05-27")), HasSubstr("pooler." + r.key + ": expected")) << r.key;
  for (const auto& r : key_table(read_doc(), "## `[databases.NAME]`"))
    EXPECT_THAT(errors_of(database_text(r.key, "1979-05-27")), HasSubstr("databases.app." + r.key + ": expected"))
        << r.key;
}

TEST(ConfigDoc, DatabaseTableListsExactlyTheParsersKeys) {
  auto rows = key_table(read_doc(), "## `[databases.NAME]`");
  std::vector<std::string> documented, known(database_keys().begin(), database_keys().end());
  for (const auto& r : rows) documented.push_back(r.key);
  EXPECT_EQ(documented, known) << "the [databases.NAME] table must list database_keys(), in that order";
}

TEST(ConfigDoc, PoolerTypesDefaultsAndReloadAreTrue) {
  auto rows = key_table(read_doc(), "## `[pooler]`");
  ASSERT_FALSE(rows.empty());
  const PoolerSettings defaults;
  for (const auto& r : rows) {
    SCOPED_TRACE("docs/configuration.md:" + std::to_string(r.line) + " `" + r.key + "`");
    check_type(r, [&](const std::string& v) { return pooler_text(r.key, v); });

    const auto def = code_spans(r.def);
    if (r.def == "none") {
      EXPECT_EQ(pooler_value(defaults, r.key), "\"\"") << "\"none\" is for keys without a default";
    } else {
      ASSERT_EQ(def.size(), 1u) << "default cell: one TOML value in backticks, or none";
      auto c = parse(pooler_text(r.key, def[0]));
      ASSERT_TRUE(c.config) << format_errors(c.errors);
      EXPECT_EQ(pooler_value(c.config->pooler, r.key), pooler_value(defaults, r.key));
    }

    EXPECT_THAT(r.reload, ::testing::AnyOf("live", "new clients", "restart"));
    EXPECT_EQ(r.reload == "restart", !reloadable("pooler." + r.key));
  }
}

TEST(ConfigDoc, DatabaseTypesDefaultsAndReloadAreTrue) {
  auto rows = key_table(read_doc(), "## `[databases.NAME]`");
  ASSERT_FALSE(rows.empty());
  const auto plain = parse(database_text("", ""));
  ASSERT_TRUE(plain.config);
  const DatabaseConfig& plain_db = plain.config->databases.at("app");
  for (const auto& r : rows) {
    SCOPED_TRACE("docs/configuration.md:" + std::to_string(r.line) + " `" + r.key + "`");
    // read_write_split = true needs a replica to split onto.
    // patroni_urls names the API of the members listed in hosts; a client certificate needs its key.
    const std::string replica = r.key == "read_write_split"    ? "replicas = [{ host = \"10.0.0.7\" }]\n"
                                : r.key == "patroni_urls"      ? "hosts = [\"10.0.0.1\", \"10.0.0.2\"]\n"
                                : r.key == "patroni_cert_file" ? "patroni_key_file = \"k.key\"\n"
                                : r.key == "patroni_key_file"  ? "patroni_cert_file = \"c.crt\"\n"
                                                               : "";
    check_type(r, [&](const std::string& v) { return database_text(r.key, v) + replica; });

    std::smatch m;
    const auto def = code_spans(r.def);
    ASSERT_EQ(def.size(), 1u) << "default cell: one value in backticks";
    if (def[0] == "NAME") {
      EXPECT_EQ(database_value(*plain.config, plain_db, r.key), "\"app\"");
    } else if (std::regex_match(def[0], m, std::regex(R"(\[pooler\] (\w+))"))) {
      // Inherited: a changed [pooler] value shows through, and the override wins over it.
      const std::string from = m[1];
      bool tried = false;
      for (const char* v : {"7", "\"session\""}) {
        auto c = parse(database_text("", "", from + " = " + v + "\n"));
        if (!c.config || pooler_value(c.config->pooler, from) == pooler_value(PoolerSettings{}, from)) continue;
        tried = true;
        const auto& db = c.config->databases.at("app");
        EXPECT_EQ(database_value(*c.config, db, r.key), pooler_value(c.config->pooler, from));
      }
      EXPECT_TRUE(tried) << "no test value for [pooler] " << from;
    } else {
      auto c = parse(database_text(r.key, def[0]));
      ASSERT_TRUE(c.config) << format_errors(c.errors);
      EXPECT_EQ(database_value(*c.config, c.config->databases.at("app"), r.key),
                database_value(*plain.config, plain_db, r.key));
    }

    EXPECT_THAT(r.reload, ::testing::AnyOf("live", "new clients", "restart"));
    EXPECT_EQ(r.reload == "restart", !reloadable("databases.app." + r.key));
  }
}

// The restart-only list in the prose is the table's.
TEST(ConfigDoc, ReloadSectionNamesTheRestartKeys) {
  const std::string doc = read_doc();
  std::string prose = doc;
  std::replace(prose.begin(), prose.end(), '\n', ' ');
  std::vector<std::string> restart;
  for (const auto& r : key_table(doc, "## `[pooler]`"))
    if (r.reload == "restart") restart.push_back(r.key);
  ASSERT_FALSE(restart.empty());
  std::string sentence;
  for (size_t i = 0; i < restart.size(); ++i) {
    sentence += (i == 0 ? "" : i + 1 == restart.size() ? " and " : ", ") + ("`" + restart[i] + "`");
  }
  EXPECT_THAT(prose, HasSubstr("restart-only keys " + sentence));
}

// Every ```toml example in the docs is a complete config the parser accepts (auth files are not
// read by parse_config, so their paths need not exist).
TEST(ConfigDoc, TomlExamplesParse) {
  int examples = 0;
  for (const char* name : {"configuration.md", "migration-from-pgbouncer.md"}) {
    std::ifstream in(std::string(PGOPT_SOURCE_DIR) + "/docs/" + name, std::ios::binary);
    std::string line, block;
    int n = 0, start = 0;
    bool inside = false;
    while (std::getline(in, line)) {
      ++n;
      if (!inside && line == "```toml") {
        inside = true;
        start = n;
        block.clear();
      } else if (inside && line == "```") {
        inside = false;
        ++examples;
        auto r = parse_config(block, name);
        EXPECT_TRUE(r.config) << "docs/" << name << ":" << start << ":\n" << format_errors(r.errors);
      } else if (inside) {
        block += line + "\n";
      }
    }
  }
  EXPECT_GE(examples, 2);
}

// The parsing of the tables is itself checked, so a formatting change cannot make the tests
// above pass vacuously.
TEST(ConfigDoc, TableReaderSeesEscapedPipesAndColumns) {
  const std::string doc =
      "## `[x]`\n\n| key | type | default | reload |\n|---|---|---|---|\n"
      "| `a` | `\"p\"` \\| `\"q\"` | `\"p\"` | live |\n## next\n| `b` | string | none | live |\n";
  auto rows = key_table(doc, "## `[x]`");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key, "a");
  EXPECT_EQ(rows[0].type, "`\"p\"` | `\"q\"`");
  EXPECT_EQ(rows[0].def, "`\"p\"`");
  EXPECT_EQ(rows[0].reload, "live");
  EXPECT_EQ(rows[0].line, 5);
}

}  // namespace
