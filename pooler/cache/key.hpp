// The result cache's key: everything that can change a cached statement's answer, as one byte
// string compared in full (the hash only picks the bucket, so a collision can never serve the wrong
// reply).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pgopt::pooler::cache {

// The session settings that change how the same rows come out, or what the same text means:
// output formats (DateStyle, IntervalStyle, TimeZone, extra_float_digits, bytea_output, xml*),
// encodings and locales (client_encoding, lc_*), name resolution (search_path), and parsing or
// semantics (standard_conforming_strings, array_nulls, transform_null_equals, row_security,
// default_text_search_config). Lower-case GUC names, in the order KeyInput::settings follows.
std::span<const std::string_view> output_settings();

struct KeyInput {
  std::string_view database;  // the client's database name
  std::string_view user;      // the session user
  std::string_view role;      // the current role after SET ROLE; empty when none was set
  // One value per output_settings() entry, same order; nullopt when the session has not changed it
  // (the server's default for this database and user, which `database` and `user` already pin).
  std::span<const std::optional<std::string_view>> settings;
  std::string_view statement;  // the exact text the client sent (Query, or the Parse it binds)
  // Extended protocol: Parse's parameter type OIDs, Bind's parameter format codes, values (nullopt
  // is NULL) and result format codes, as sent. Empty for the simple protocol.
  std::span<const uint32_t> param_types;
  std::span<const int16_t> param_formats;
  std::span<const std::optional<std::string_view>> params;
  std::span<const int16_t> result_formats;
};

class Key {
 public:
  Key() = default;
  // Throws std::invalid_argument when input.settings does not have one value per output setting:
  // a key that silently lacks a setting would let two sessions share an answer they must not.
  explicit Key(const KeyInput& input);

  std::string_view bytes() const { return bytes_; }
  // The database the key was made for (its first field): what Store's per-database stream gate
  // is looked up by.
  std::string_view database() const;
  size_t hash() const { return hash_; }
  bool operator==(const Key& o) const { return hash_ == o.hash_ && bytes_ == o.bytes_; }

 private:
  std::string bytes_;
  size_t hash_ = 0;
};

struct KeyHash {
  size_t operator()(const Key& k) const { return k.hash(); }
};

}  // namespace pgopt::pooler::cache
