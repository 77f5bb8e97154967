// `pgopt import-pgbouncer`: a pgbouncer.ini (PgBouncer 1.18's keys) translated to pgopt's TOML, with
// a `file:line: key: why` line for every key that is dropped or changes meaning. No sockets, no
// auth file reading (the CLI checks that with auth/); the output is checked with parse_config().
#pragma once

#include <string>
#include <vector>

#include "pooler/config/pgbouncer_ini.hpp"

namespace pgopt::pooler::pgbouncer {

struct ImportOptions {
  std::string userlist;  // --userlist: the auth file to use instead of the ini's auth_file
};

struct ImportResult {
  std::string toml;                       // the pgopt configuration, commented
  std::vector<std::string> diagnostics;   // "file:line: key: why", in file order
  std::vector<std::string> summary;       // behaviour that differs from PgBouncer, one sentence each
  std::vector<std::string> errors;        // why the output cannot be used as it is (no database, ...)
  std::string auth_file;                  // the auth file the output names, absolute; empty if none
};

ImportResult import_ini(const IniFile& ini, const ImportOptions& opts);
ImportResult import_file(const std::string& ini_path, const ImportOptions& opts);

}  // namespace pgopt::pooler::pgbouncer
