// PgBouncer's ini file read as PgBouncer reads it: sections, `key = value` lines, `%include`, and
// the libpq-style `key=value ...` strings of [databases] and [users], each with its file and line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgopt::pooler::pgbouncer {

struct IniEntry {
  std::string file;
  int line = 0;
  std::string section;  // lower case: "pgbouncer", "databases", "users", or any other name
  std::string key;      // as written (database and user names are case-sensitive)
  std::string value;    // trimmed; surrounding double quotes are not part of PgBouncer's syntax
};

struct IniFile {
  std::vector<IniEntry> entries;
  std::vector<std::string> errors;  // "file:line: why": unreadable files, lines that are not key = value
  std::vector<std::string> files;   // every file read, the main one first
};

// Reads `path` and the files it %includes (a relative name is taken from the including file's
// directory; nested includes allowed, cycles and depth beyond 10 are errors).
IniFile read_ini(const std::string& path);
// The same from text already in memory; %include still reads from disk.
IniFile parse_ini(std::string_view text, const std::string& path);

// One `name=value` of a connection string; `value` with single quotes removed and \' unescaped.
struct ConnParam {
  std::string key;
  std::string value;
};
// PgBouncer's database/user strings: `host=a port=5 dbname='x y'`. On a syntax error returns what
// was read before it and sets `error`.
std::vector<ConnParam> parse_conn_string(std::string_view s, std::string& error);

}  // namespace pgopt::pooler::pgbouncer
