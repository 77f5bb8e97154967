// cache::Key: every input that can change an answer changes the key; equal inputs give equal keys.
#include "pooler/cache/key.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace pgopt::pooler::cache {
namespace {

using Opt = std::optional<std::string_view>;

struct Input {
  std::string database = "app", user = "web", role;
  std::vector<Opt> settings = std::vector<Opt>(output_settings().size());
  std::string statement = "SELECT * FROM t WHERE id = $1";
  std::vector<uint32_t> types{23};
  std::vector<int16_t> param_formats{0};
  std::vector<Opt> params{Opt("42")};
  std::vector<int16_t> result_formats{};
  Key key() const {
    return Key(KeyInput{database, user, role, settings, statement, types, param_formats, params, result_formats});
  }
};

TEST(CacheKey, TellsItsDatabase) {
  Input a;
  EXPECT_EQ(a.key().database(), "app");
  a.database = "";
  EXPECT_EQ(a.key().database(), "");
  EXPECT_EQ(Key().database(), "");
}

size_t setting_index(std::string_view name) {
  auto s = output_settings();
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] == name) return i;
  ADD_FAILURE() << name << " is not a key setting";
  return 0;
}

TEST(CacheKey, EqualInputsEqualKeys) {
  Input a, b;
  EXPECT_EQ(a.key(), b.key());
  EXPECT_EQ(a.key().hash(), b.key().hash());
}

TEST(CacheKey, EachPartChangesTheKey) {
  const Key base = Input{}.key();
  std::vector<std::pair<const char*, Input>> variants;
  auto add = [&](const char* what, auto change) {
    Input i;
    change(i);
    variants.emplace_back(what, std::move(i));
  };
  add("database", [](Input& i) { i.database = "app2"; });
  add("user", [](Input& i) { i.user = "admin"; });
  add("role", [](Input& i) { i.role = "reporting"; });
  add("statement", [](Input& i) { i.statement += " "; });
  add("param value", [](Input& i) { i.params = {Opt("43")}; });
  add("NULL vs empty", [](Input& i) { i.params = {Opt("")}; });
  add("NULL", [](Input& i) { i.params = {std::nullopt}; });
  add("param type", [](Input& i) { i.types = {25}; });
  add("param format", [](Input& i) { i.param_formats = {1}; });
  add("result format", [](Input& i) { i.result_formats = {1}; });
  add("param count", [](Input& i) { i.params = {Opt("42"), Opt("")}; });
  for (std::string_view s : {"search_path", "datestyle", "timezone", "intervalstyle", "extra_float_digits",
                             "bytea_output", "client_encoding", "lc_numeric", "lc_time", "lc_monetary", "row_security",
                             "standard_conforming_strings"}) {
    Input i;
    i.settings[setting_index(s)] = Opt("x");
    variants.emplace_back(s.data(), std::move(i));
    Input empty;  // set to '' is not "not set"
    empty.settings[setting_index(s)] = Opt("");
    EXPECT_NE(empty.key(), base) << s << " = ''";
  }
  for (const auto& [what, v] : variants) EXPECT_NE(v.key(), base) << what;
}

TEST(CacheKey, FieldBoundariesCannotBeForged) {
  Input a, b;
  a.database = "ab";
  a.user = "c";
  b.database = "a";
  b.user = "bc";
  EXPECT_NE(a.key(), b.key());
  Input c, d;
  c.params = {Opt("1"), Opt("2")};
  d.params = {Opt("12")};
  EXPECT_NE(c.key(), d.key());
}

TEST(CacheKey, MissingSettingsAreRefused) {
  Input i;
  i.settings.pop_back();
  EXPECT_THROW(i.key(), std::invalid_argument);
}

}  // namespace
}  // namespace pgopt::pooler::cache
