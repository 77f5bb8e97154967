// The component fixture: the real `pgopt pool` binary (integration/pooler/harness.hpp's Pooler)
// with its one database on a scripted FakeBackend, and libpq clients in front. No PostgreSQL.
#pragma once

#include <poll.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"
#include "support/fake_backend.hpp"

namespace pgopt::test {

class Component : public ::testing::Test {
 protected:
  // Starts the fake (running `script` on each server connection) and a pooler in front of it.
  void start(FakeBackend::Script script, PoolerOptions o = {}) {
    fake = std::make_unique<FakeBackend>(std::move(script));
    o.databases = "[databases.pgopt_test]\nhost = \"127.0.0.1\"\nport = " + std::to_string(fake->port()) + "\n";
    o.pooler_extra += "server_tls_mode = \"disable\"\n";
    pooler = std::make_unique<Pooler>(o);
  }
  void TearDown() override {
    if (pooler) pooler->stop();
    if (!fake) return;
    fake->stop();
    for (const auto& f : fake->failures()) ADD_FAILURE() << "fake backend: " << f;
    if (HasFailure() && pooler) std::cerr << "pgopt log:\n" << pooler->log();
  }

  std::unique_ptr<FakeBackend> fake;
  std::unique_ptr<Pooler> pooler;
};

// PostgreSQL's answer to the pooler's settings sync (`SELECT pg_catalog.set_config($q$name$q$,
// $q$value$q$, false), ...;` statements): one row per statement, then each setting reported back
// as ParameterStatus, as the server does for reported settings. Empty if `sql` is not one.
inline std::string set_config_answer(const std::string& sql) {
  namespace proto = pgopt::protocol;
  static const std::string kCall = "set_config($q$", kQ = "$q$";
  if (sql.find(kCall) == std::string::npos) return {};
  std::string out, reports;
  std::vector<std::string> columns;
  std::vector<std::optional<std::string>> values;
  auto end_statement = [&] {
    if (columns.empty()) return;
    proto::row_description(out, columns);
    proto::data_row(out, values);
    proto::command_complete(out, "SELECT 1");
    columns.clear();
    values.clear();
  };
  for (size_t at = 0; at < sql.size();) {
    if (sql[at] == ';') {
      end_statement();
      ++at;
    } else if (sql.compare(at, kCall.size(), kCall) == 0) {
      const size_t name_at = at + kCall.size(), name_end = sql.find(kQ, name_at);
      const size_t value_at = sql.find(kQ, name_end + kQ.size()) + kQ.size(), value_end = sql.find(kQ, value_at);
      if (name_end == std::string::npos || value_end == std::string::npos) return {};
      const std::string value = sql.substr(value_at, value_end - value_at);
      proto::parameter_status(reports, sql.substr(name_at, name_end - name_at), value);
      columns.push_back("set_config");
      values.push_back(value);
      at = value_end + kQ.size();
    } else {
      ++at;
    }
  }
  end_statement();
  return out + reports;
}

// Replies to simple queries until the pooler closes the connection. `custom` may answer a query
// itself (returns true); otherwise: BEGIN, COMMIT/ROLLBACK and SET get their tags, the pooler's
// set_config sync its rows and ParameterStatus, `SELECT 'x'` one row `x`, each followed by ReadyForQuery with the transaction status PostgreSQL would give.
inline void serve_queries(FakeConn& c, const std::function<bool(FakeConn&, const std::string&)>& custom = {}) {
  namespace proto = pgopt::protocol;
  char status = 'I';
  while (auto m = c.next(FakeConn::Idle::UntilStop)) {
    if (m->type != 'Q') throw ScriptError("expected a Query, got '" + std::string(1, m->type) + "'");
    const std::string sql = m->text();
    if (custom && custom(c, sql)) continue;
    std::string out;
    if (sql == "BEGIN") {
      proto::command_complete(out, "BEGIN");
      status = 'T';
    } else if (sql == "COMMIT" || sql == "ROLLBACK") {
      proto::command_complete(out, sql);
      status = 'I';
    } else if (sql.rfind("SET ", 0) == 0 || sql.rfind("RESET ", 0) == 0) {
      proto::command_complete(out, sql.rfind("SET ", 0) == 0 ? "SET" : "RESET");
    } else if (auto synced = set_config_answer(sql); !synced.empty()) {
      out = synced;
    } else if (sql.size() > 9 && sql.rfind("SELECT '", 0) == 0 && sql.back() == '\'') {
      out = FakeBackend::result({"?column?"}, {{sql.substr(8, sql.size() - 9)}});
      out.resize(out.size() - 6);  // without its ReadyForQuery: the status is this connection's
    } else {
      throw ScriptError("no scripted answer to: " + sql);
    }
    proto::ready_for_query(out, status);
    c.send(out);
  }
}

// Waits until PQgetResult would not block, for at most `patience`: false if it still would (the
// pooler got something wrong and the client would hang).
inline bool ready_within(PGconn* c, std::chrono::milliseconds patience = std::chrono::seconds(3)) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (PQisBusy(c)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{PQsocket(c), POLLIN, 0};
    ::poll(&p, 1, int(left.count()));
    if (PQconsumeInput(c) != 1) return true;  // the connection failed: PQgetResult says so at once
  }
  return true;
}

// The one value `sql` returns, or nullopt when it fails or has not answered within `patience`:
// for a client that may wait forever if the pooler got it wrong (a server never released).
inline std::optional<std::string> value_within(PGconn* c, const std::string& sql,
                                               std::chrono::milliseconds patience = std::chrono::seconds(3)) {
  if (PQsendQuery(c, sql.c_str()) != 1) return std::nullopt;
  std::optional<std::string> out;
  while (ready_within(c, patience)) {  // false: the caller's connection is mid-query, to be dropped
    PGresult* r = PQgetResult(c);
    if (!r) return out;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) out = PQgetvalue(r, 0, 0);
    PQclear(r);
  }
  return std::nullopt;
}

// What a libpq connection's notice receiver got (primary messages).
struct Notices {
  std::vector<std::string> messages;
  void attach(PGconn* c) { PQsetNoticeReceiver(c, &Notices::receive, this); }
  static void receive(void* self, const PGresult* r) {
    const char* m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    static_cast<Notices*>(self)->messages.emplace_back(m ? m : "");
  }
};

// Notifications a connection has now (after reading what the socket holds).
inline std::vector<std::string> take_notifies(PGconn* c) {
  std::vector<std::string> out;
  PQconsumeInput(c);
  while (PGnotify* n = PQnotifies(c)) {
    out.push_back(std::string(n->relname) + ":" + n->extra);
    PQfreemem(n);
  }
  return out;
}

}  // namespace pgopt::test
