// The auth file in PgBouncer's userlist.txt format: one `"user" "secret"` pair a line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pooler/auth/scram.hpp"

namespace pgopt::pooler::auth {

// None: an empty secret (`"user" ""`), which PgBouncer accepts for auth_type = trust. Such a user
// logs in only with trust; password methods refuse it (an empty password proves nothing), and the
// pooler logs in to the server with no password.
enum class SecretKind { Plain, Md5, Scram, None };

struct UserEntry {
  std::string name;
  std::string secret;  // as written in the file
  SecretKind kind = SecretKind::Plain;
  std::optional<ScramSecret> scram;  // set when kind == Scram
};

struct UserList {
  std::unordered_map<std::string, UserEntry> users;
  const UserEntry* find(std::string_view name) const;
};

// Each error is "file:line: message". A file with errors yields no list, so a bad reload keeps the
// old one. Blank lines and lines starting with ';' or '#' are skipped; '""' inside quotes is one '"';
// fields after the second are ignored (as PgBouncer does).
struct UserListResult {
  std::optional<UserList> list;
  std::vector<std::string> errors;
};
UserListResult parse_userlist(std::string_view text, std::string_view file_name);
UserListResult load_userlist(const std::string& path);

}  // namespace pgopt::pooler::auth
