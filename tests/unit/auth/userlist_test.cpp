// userlist.txt parsing: golden files in tests/fixtures/auth/userlist (<name>.txt ->
// <name>.expected) plus the cases a data file cannot hold (CRLF, no final newline, unreadable
// paths).
//
// To regenerate after an intended change: PGOPT_UPDATE_GOLDEN=1 ./unit_auth, then review the diff.
#include "pooler/auth/userlist.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace pgopt::pooler::auth {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(PGOPT_FIXTURES) / "auth" / "userlist";

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string_view kind_name(SecretKind k) {
  switch (k) {
    case SecretKind::Plain:
      return "plain";
    case SecretKind::Md5:
      return "md5";
    case SecretKind::Scram:
      return "scram";
    case SecretKind::None:
      return "none";
  }
  return "?";
}

// A stable text form of a result: users sorted by name, or the errors in order.
std::string render(const UserListResult& r) {
  std::ostringstream out;
  if (!r.list) {
    out << "errors: " << r.errors.size() << "\n";
    for (const auto& e : r.errors) out << e << "\n";
    return out.str();
  }
  std::vector<const UserEntry*> users;
  for (const auto& [name, e] : r.list->users) users.push_back(&e);
  std::sort(users.begin(), users.end(), [](auto* a, auto* b) { return a->name < b->name; });
  out << "users: " << users.size() << "\n";
  for (const UserEntry* e : users) {
    out << "[" << e->name << "] " << kind_name(e->kind) << " [" << e->secret << "]";
    if (e->scram)
      out << " iterations=" << e->scram->iterations << " salt_bytes=" << e->scram->salt.size();
    out << "\n";
  }
  return out.str();
}

TEST(UserlistGolden, EveryFixtureMatchesItsExpectedOutput) {
  bool update = std::getenv("PGOPT_UPDATE_GOLDEN") != nullptr;
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(kDir)) {
    if (entry.path().extension() != ".txt") continue;
    fs::path expected_path = entry.path();
    expected_path.replace_extension(".expected");
    std::string got = render(parse_userlist(read(entry.path()), entry.path().filename().string()));
    if (update) {
      std::ofstream(expected_path, std::ios::binary) << got;
    } else {
      ASSERT_TRUE(fs::exists(expected_path)) << expected_path;
      EXPECT_EQ(got, read(expected_path)) << "golden mismatch for " << entry.path();
    }
    ++checked;
  }
  EXPECT_GE(checked, 4);  // the fixtures were found at all
}

TEST(Userlist, ErrorsMeanNoListButEveryErrorIsReported) {
  auto r = parse_userlist(read(kDir / "errors.txt"), "errors.txt");
  EXPECT_FALSE(r.list.has_value());
  EXPECT_EQ(r.errors.size(), 15u);
  for (const auto& e : r.errors) EXPECT_EQ(e.rfind("errors.txt:", 0), 0u) << e;
}

TEST(Userlist, ErrorsNeverQuoteASecret) {
  auto r = parse_userlist("\"u\" \"SCRAM-SHA-256$1:c2FsdA==$hunter2\"\n", "f");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "f:1: invalid SCRAM verifier for user \"u\"");
}

TEST(Userlist, FindAndKinds) {
  auto r = load_userlist((kDir / "valid.txt").string());
  ASSERT_TRUE(r.list) << (r.errors.empty() ? "" : r.errors[0]);
  EXPECT_TRUE(r.errors.empty());
  const UserEntry* md5 = r.list->find("md5_user");
  ASSERT_NE(md5, nullptr);
  EXPECT_EQ(md5->kind, SecretKind::Md5);
  const UserEntry* scram = r.list->find("scram_user");
  ASSERT_NE(scram, nullptr);
  ASSERT_TRUE(scram->scram);
  EXPECT_EQ(format_scram_verifier(*scram->scram), scram->secret);
  EXPECT_EQ(r.list->find("nobody"), nullptr);
  EXPECT_EQ(r.list->find("MD5_USER"), nullptr);  // names are case-sensitive, as in PostgreSQL
}

TEST(Userlist, CrlfAndMissingFinalNewline) {
  auto r = parse_userlist("\"a\" \"x\"\r\n; c\r\n\r\n\"b\" \"y\"", "f");
  ASSERT_TRUE(r.list);
  ASSERT_NE(r.list->find("a"), nullptr);
  EXPECT_EQ(r.list->find("a")->secret, "x");
  ASSERT_NE(r.list->find("b"), nullptr);
  EXPECT_EQ(r.list->find("b")->secret, "y");

  auto bad = parse_userlist("\"a\" \"x\"\r\n\"b\"\r\n", "f");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0], "f:2: missing secret for user \"b\"");
}

TEST(Userlist, NulByteIsAnError) {
  static constexpr char kText[] = "\"a\" \"b\"\n\"a2\" \"x\0y\"\n";
  auto r = parse_userlist(std::string_view(kText, sizeof kText - 1), "f");
  EXPECT_FALSE(r.list);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "f:2: NUL byte in line");
}

TEST(Userlist, LoadReportsMissingFile) {
  std::string path = (kDir / "does-not-exist.txt").string();
  auto r = load_userlist(path);
  EXPECT_FALSE(r.list);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], path + ": No such file or directory");
}

TEST(Userlist, LoadReportsDirectory) {
  auto r = load_userlist(kDir.string());
  EXPECT_FALSE(r.list);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], kDir.string() + ": Is a directory");
}

TEST(Userlist, LoadUsesThePathInErrors) {
  std::string path = (kDir / "errors.txt").string();
  auto r = load_userlist(path);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_EQ(r.errors[0].rfind(path + ":3: ", 0), 0u) << r.errors[0];
}

}  // namespace
}  // namespace pgopt::pooler::auth
