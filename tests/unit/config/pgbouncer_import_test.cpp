// import-pgbouncer golden files (tests/fixtures/pgbouncer_import): each NAME.ini translated and
// compared with NAME.expected; Debian's default pgbouncer.ini from the installed package; every key
// of PgBouncer 1.18's reference (the table in docs/migration-from-pgbouncer.md) is handled.
// PGOPT_UPDATE_GOLDEN=1 rewrites the .expected files (review the diff before keeping it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <unistd.h>
#include <string>

#include "pooler/config/config.hpp"
#include "pooler/config/pgbouncer_import.hpp"

namespace fs = std::filesystem;
namespace pb = pgopt::pooler::pgbouncer;

namespace {

const fs::path kDir = fs::path(PGOPT_FIXTURES) / "pgbouncer_import";
const fs::path kDebianIni = "/usr/share/doc/pgbouncer/examples/pgbouncer.ini";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
}

std::string render(const pb::ImportResult& r) {
  std::string out = r.toml + "--- diagnostics\n";
  for (const auto& d : r.diagnostics) out += d + "\n";
  out += "--- summary\n";
  for (const auto& s : r.summary) out += s + "\n";
  out += "--- errors\n";
  for (const auto& e : r.errors) out += e + "\n";
  replace_all(out, kDir.string() + "/", "FIXTURES/");
  replace_all(out, kDebianIni.parent_path().string() + "/", "DEBIAN/");
  return out;
}

void check_golden(const fs::path& ini, const fs::path& expected, const pb::ImportOptions& opts = {}) {
  std::string got = render(pb::import_file(ini.string(), opts));
  if (std::getenv("PGOPT_UPDATE_GOLDEN")) {
    std::ofstream(expected, std::ios::binary) << got;
    return;
  }
  ASSERT_TRUE(fs::exists(expected)) << expected;
  EXPECT_EQ(got, read_file(expected)) << "golden mismatch for " << ini;
}

TEST(PgbouncerImportGolden, EveryFixtureMatchesItsExpectedOutput) {
  int checked = 0;
  for (const auto& e : fs::directory_iterator(kDir)) {
    if (e.path().extension() != ".ini") continue;
    fs::path expected = e.path();
    check_golden(e.path(), expected.replace_extension(".expected"));
    ++checked;
  }
  EXPECT_GE(checked, 5);
}

TEST(PgbouncerImportGolden, DebianDefaultFile) {
  if (!fs::exists(kDebianIni)) GTEST_SKIP() << kDebianIni << " missing: install pgbouncer (scripts/setup.sh)";
  check_golden(kDebianIni, kDir / "debian_default.expected");
}

// The files meant to be usable give a config pgopt accepts (import_ini checks it with
// parse_config and reports a failure as an error).
TEST(PgbouncerImport, UsableFixturesPassTheConfigParser) {
  for (const char* name : {"every_key.ini", "typical.ini", "minimal_trust.ini", "tls.ini"}) {
    auto r = pb::import_file((kDir / name).string(), {});
    auto parsed = pgopt::pooler::parse_config(r.toml, name);
    EXPECT_TRUE(parsed.config != nullptr) << name << ":\n" << pgopt::pooler::format_errors(parsed.errors);
  }
  auto edge = pb::import_file((kDir / "edge_cases.ini").string(), {});
  // The line that is not key = value, and auth_type hba (scram-sha-256 in pgopt) without an auth
  // file: both reported, nothing lost silently.
  ASSERT_EQ(edge.errors.size(), 2u);
  EXPECT_NE(edge.errors[0].find("edge_cases.ini:24: not a `key = value` line"), std::string::npos) << edge.errors[0];
  EXPECT_NE(edge.errors[1].find("needs pooler.auth_file"), std::string::npos) << edge.errors[1];
}

TEST(PgbouncerImport, DebianDefaultHasNoDatabaseAndSaysSo) {
  if (!fs::exists(kDebianIni)) GTEST_SKIP();
  auto r = pb::import_file(kDebianIni.string(), {});
  ASSERT_FALSE(r.errors.empty());
  EXPECT_NE(r.errors[0].find("no database pgopt can serve"), std::string::npos) << r.errors[0];
}

// Every key the migration guide lists for [pgbouncer] is set in every_key.ini, and every line of
// that file is either translated or explained: none is dropped as unknown.
TEST(PgbouncerImport, EveryKeyOfTheReferenceIsHandled) {
  std::string guide = read_file(fs::path(PGOPT_SOURCE_DIR) / "docs" / "migration-from-pgbouncer.md");
  auto start = guide.find("## `[pgbouncer]` section");
  auto end = guide.find("## `[databases]` section");
  ASSERT_NE(start, std::string::npos);
  std::set<std::string> keys;
  std::istringstream rows(guide.substr(start, end - start));
  std::regex key_re("`([a-z_]+)`");
  for (std::string row; std::getline(rows, row);) {
    if (!row.starts_with("| `")) continue;
    std::string first = row.substr(0, row.find(" |", 2));
    for (std::sregex_iterator it(first.begin(), first.end(), key_re), e; it != e; ++it) keys.insert((*it)[1]);
  }
  EXPECT_GE(keys.size(), 80u);
  auto ini = pb::read_ini((kDir / "every_key.ini").string());
  std::set<std::string> set_keys;
  for (const auto& e : ini.entries)
    if (e.section == "pgbouncer") set_keys.insert(e.key);
  for (const auto& k : keys) {
    if (k == "max_prepared_statements") continue;  // 1.21+, not in 1.18's reference
    EXPECT_TRUE(set_keys.count(k)) << k << " is in the guide but not in every_key.ini";
  }
  auto r = pb::import_ini(ini, {});
  for (const auto& d : r.diagnostics) EXPECT_EQ(d.find("pgopt knows"), std::string::npos) << d;
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
}

TEST(PgbouncerImport, ConnStringQuotingAndErrors) {
  std::string err;
  auto p = pb::parse_conn_string("host=a  dbname='my \\'db\\'' port = 5", err);
  EXPECT_TRUE(err.empty()) << err;
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[1].value, "my 'db'");
  EXPECT_EQ(p[2].key, "port");
  EXPECT_EQ(p[2].value, "5");
  pb::parse_conn_string("host", err);
  EXPECT_EQ(err, "`host` is not followed by =");
  err.clear();
  pb::parse_conn_string("host='x", err);
  EXPECT_EQ(err, "the value of `host` has no closing quote");
}

TEST(PgbouncerImport, IncludeCycleIsAnErrorNotALoop) {
  fs::path dir = fs::temp_directory_path() / ("pgopt-pbimport-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "a.ini") << "[databases]\n%include b.ini\n";
  std::ofstream(dir / "b.ini") << "x = host=h\n%include a.ini\n";
  auto ini = pb::read_ini((dir / "a.ini").string());
  fs::remove_all(dir);
  ASSERT_EQ(ini.errors.size(), 1u);
  EXPECT_NE(ini.errors[0].find("b.ini:2: %include a.ini: included again"), std::string::npos) << ini.errors[0];
  ASSERT_EQ(ini.entries.size(), 1u);
  EXPECT_EQ(ini.entries[0].key, "x");
}

TEST(PgbouncerImport, UserlistOptionReplacesAuthFile) {
  auto r = pb::import_file((kDir / "typical.ini").string(), pb::ImportOptions{"/srv/users.txt"});
  EXPECT_EQ(r.auth_file, "/srv/users.txt");
  EXPECT_NE(r.toml.find("auth_file = \"/srv/users.txt\"  # --userlist"), std::string::npos) << r.toml;
  EXPECT_EQ(r.toml.find("/etc/pgbouncer/userlist.txt\""), std::string::npos) << r.toml;
}

}  // namespace
