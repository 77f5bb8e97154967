// Running real client programs (driver scripts, javac, node) from integration tests: by PID, with a
// time limit, output captured to a file.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/wait.hpp"

extern char** environ;

namespace pgopt::test {

inline const std::filesystem::path& drivers_dir() {
  static const std::filesystem::path dir = std::filesystem::path(PGOPT_SOURCE_DIR) / "tests/integration/pooler/drivers";
  return dir;
}

inline std::string getenv_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// Debian's interpreter: python3-asyncpg and python3-psycopg live there, not in a pyenv python3 on PATH.
inline std::string python() { return getenv_or("PGOPT_TEST_PYTHON", "/usr/bin/python3"); }

inline std::string find_in_path(const std::string& program) {
  std::stringstream path(getenv_or("PATH", "/usr/bin:/bin"));
  std::string dir;
  while (std::getline(path, dir, ':')) {
    auto p = std::filesystem::path(dir) / program;
    if (!dir.empty() && ::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return {};
}

inline std::string tail(const std::string& s, size_t n = 6000) { return s.size() <= n ? s : "..." + s.substr(s.size() - n); }

struct ProgramRun {
  int status = -1;  // exit code, 128 + signal, or -1 when it was killed for running too long
  bool timed_out = false;
  std::string output;  // stdout and stderr interleaved
};

// Runs argv (PATH-searched) with `env_extra` added to the environment and its output in `log`; a run
// longer than `limit` is killed by its PID so a hung driver cannot hang the suite.
inline ProgramRun run_program(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env_extra,
                       const std::filesystem::path& log, std::chrono::seconds limit) {
  // Everything the child needs is built before fork(): between fork and exec only syscalls run.
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    if (!env_extra.count(kv.substr(0, kv.find('=')))) env.push_back(std::move(kv));
  }
  for (const auto& [k, v] : env_extra) env.push_back(k + "=" + v);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (auto& kv : env) cenv.push_back(kv.data());
  cenv.push_back(nullptr);

  ProgramRun run;
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execvpe(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  if (pid < 0) {
    run.output = "fork failed";
    return run;
  }
  int st = 0;
  if (poll_until([&] { return ::waitpid(pid, &st, WNOHANG) == pid; }, limit, std::chrono::milliseconds(50))) {
    run.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  } else {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &st, 0);
    run.timed_out = true;
  }
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  run.output = ss.str();
  if (run.timed_out) run.output += "\n[killed by the test after " + std::to_string(limit.count()) + " s]";
  return run;
}

}  // namespace pgopt::test
