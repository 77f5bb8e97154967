// Talking to the admin console (database "pgopt") from integration tests: result sets by column
// name, client ids as SHOW CLIENTS gives them, psql against the console.
#pragma once

#include <arpa/inet.h>
#include <sys/socket.h>

#include <map>

#include "harness.hpp"

namespace pgopt::test {

// A result set by column name, every value as text ("<null>" for NULL).
struct Table {
  std::vector<std::map<std::string, std::string>> rows;
  std::string error;
  // The rows where every `col = value` pair matches.
  std::vector<std::map<std::string, std::string>> where(const std::map<std::string, std::string>& match) const {
    std::vector<std::map<std::string, std::string>> out;
    for (const auto& r : rows) {
      bool all = true;
      for (const auto& [k, v] : match) all = all && r.count(k) && r.at(k) == v;
      if (all) out.push_back(r);
    }
    return out;
  }
};

inline Table show(PGconn* c, const std::string& cmd) {
  Table t;
  Result r = exec(c, cmd);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    t.error = PQerrorMessage(c);
    ADD_FAILURE() << cmd << ": " << t.error;
    return t;
  }
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    std::map<std::string, std::string> row;
    for (int j = 0; j < PQnfields(r.get()); ++j)
      row[PQfname(r.get(), j)] = PQgetisnull(r.get(), i, j) ? "<null>" : PQgetvalue(r.get(), i, j);
    t.rows.push_back(std::move(row));
  }
  return t;
}

inline Conn admin(const Pooler& p, const std::string& user = "postgres") { return connect_ok(p.conninfo(user, "pgopt")); }

// The client's own port, as SHOW CLIENTS reports it.
inline std::string local_port(PGconn* c) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(PQsocket(c), reinterpret_cast<sockaddr*>(&a), &len);
  return std::to_string(ntohs(a.sin_port));
}

// The id SHOW CLIENTS gives the client connected from `c`.
inline std::string client_id(PGconn* adm, PGconn* c) {
  auto rows = show(adm, "SHOW CLIENTS").where({{"port", local_port(c)}});
  EXPECT_EQ(rows.size(), 1u);
  return rows.empty() ? "" : rows[0]["id"];
}

inline std::map<std::string, std::string> pool_row(PGconn* adm, const std::string& node = "primary") {
  auto rows = show(adm, "SHOW POOLS").where({{"database", "pgopt_test"}, {"user", "postgres"}, {"node", node}});
  EXPECT_EQ(rows.size(), 1u);
  return rows.empty() ? std::map<std::string, std::string>{} : rows[0];
}

inline std::string psql(const Pooler& p, const std::string& user, const std::string& args, int* status) {
  return run(ClusterEnv::instance().get("PGOPT_PG_BIN") + "/psql -X -At -h 127.0.0.1 -p " + std::to_string(p.port) +
                 " -U " + user + " pgopt " + args,
             status);
}

}  // namespace pgopt::test
