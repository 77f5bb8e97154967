// The failover suite's own clusters (never the shared test cluster): a primary + replica from
// scripts/cluster.sh, or three Patroni members from scripts/patroni.sh, each started in a
// directory of its own and stopped by that script (by PID) when the test is done.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "harness.hpp"

namespace pgopt::test {

// KEY=VALUE lines of a script's DIR/env.
inline std::map<std::string, std::string> read_env(const std::filesystem::path& file) {
  std::map<std::string, std::string> vars;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string v = line.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
    vars[line.substr(0, eq)] = v;
  }
  return vars;
}

// One cluster started by `script` (cluster.sh or patroni.sh) for the lifetime of this object.
class ScriptCluster {
 public:
  explicit ScriptCluster(std::string script) : script_(std::string(PGOPT_SOURCE_DIR) + "/scripts/" + std::move(script)) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pgopt-failover-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    int st = 0;
    output = run(cmd("start"), &st);
    started = st == 0;
    env = read_env(dir_ / "env");
  }
  ~ScriptCluster() {
    run(cmd("stop"));
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ScriptCluster(const ScriptCluster&) = delete;
  ScriptCluster& operator=(const ScriptCluster&) = delete;

  // "bash SCRIPT SUB DIR EXTRA": the scripts take the cluster's directory second.
  std::string cmd(const std::string& sub, const std::string& extra = "") const {
    return "bash " + script_ + " " + sub + " " + dir_.string() + (extra.empty() ? "" : " " + extra);
  }
  std::string run_cmd(const std::string& sub, const std::string& extra = "", int* status = nullptr) const {
    return run(cmd(sub, extra), status);
  }
  int port(const std::string& key) const { return env.count(key) ? std::atoi(env.at(key).c_str()) : 0; }

  bool started = false;
  std::string output;
  std::map<std::string, std::string> env;

 private:
  std::string script_;
  std::filesystem::path dir_;
};

inline Conn direct_to(int port, const std::string& db) {
  return connect("host=127.0.0.1 port=" + std::to_string(port) + " dbname=" + db + " user=postgres connect_timeout=5");
}

// PQexec that reports only whether the statement succeeded: "" when it did, else the SQLSTATE, or
// for a FATAL that closed the connection (libpq then keeps only the text) "connection: MESSAGE".
inline std::string try_exec(PGconn* c, const std::string& sql) {
  Result r = exec(c, sql);
  auto st = PQresultStatus(r.get());
  if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return "";
  std::string s = sqlstate(r.get());
  return s.empty() ? "connection: " + std::string(PQerrorMessage(c)) : s;
}

}  // namespace pgopt::test
