// One connection from the pooler to a PostgreSQL server: login as a client, and its pooled state.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pooler/auth/scram.hpp"
#include "pooler/buffer.hpp"
#include "pooler/guc_state.hpp"
#include "pooler/net.hpp"
#include "pooler/prepared/server_statements.hpp"
#include "pooler/protocol/codec.hpp"
#include "pooler/routing/replica_set.hpp"
#include "pooler/tls/stream.hpp"

namespace pgopt::pooler {

using Clock = std::chrono::steady_clock;
class Pool;

// What the pooler knows to log in as a user. Which fields are set depends on the auth file entry:
// plaintext gives every method; an md5 hash only md5; a SCRAM verifier only SCRAM, and only once a
// client has proven the password so its ClientKey is known (passthrough).
struct ServerCredentials {
  std::string user;
  std::optional<std::string> password;
  std::optional<std::string> md5_hash;
  std::optional<auth::Key> scram_client_key, scram_server_key;
};

struct ServerTarget {
  std::string host;
  int port = 5432;
  std::string dbname;
};

class ServerConn {
 public:
  ServerConn(tcp::socket s, ServerTarget target, uint64_t id);

  tls::Stream sock;  // TLS when server_tls_mode asked for it and the server agreed
  Buffer buf{32 * 1024};  // few of these; big enough that large results need few reads
  ServerTarget target;
  uint64_t id;
  protocol::CancelKey backend_key;
  GucState state;  // what this server's session has now
  // The last client settings this server was brought in line with, and its own state then: while
  // both handles are unchanged, the next attach needs no comparison (GucState is copy-on-write).
  GucState::Handle synced_want, synced_have;
  prepared::ServerStatements statements;  // transaction mode: the shared statements prepared here
  // What its last client may have left in the session, and so what must happen before anyone else
  // gets the connection. Only ever raised while a client has it (need_check, need_reset); release
  // acts on it and lowers it to Clean:
  //   Clean   nothing beyond the settings sync every attach does
  //   Check   something ran whose effects the text does not show (a user function, DO, CALL, a
  //           write where triggers exist ...): ask the server (session_check.hpp), carry what can
  //           be carried to the client, reset if anything else is left
  //   Reset   state that cannot be carried (LISTEN, temp tables, WITH HOLD cursors ...): DISCARD ALL
  enum class Residue : char { Clean, Check, Reset };
  Residue residue = Residue::Clean;
  std::string residue_reason;  // the first thing that raised it, for the log
  void need_check(std::string_view why) { raise(Residue::Check, why); }
  void need_reset(std::string_view why) { raise(Residue::Reset, why); }
  Clock::time_point created = Clock::now();
  Clock::time_point last_used = Clock::now();
  Pool* pool = nullptr;
  int worker = 0;  // the worker whose io_context the socket is registered with
  int cancels_in_flight = 0;
  // Woken (cancelled) when cancels_in_flight drops to 0, for whoever waits to reuse the connection
  // until no cancel of its previous client can land any more (ClientSession::salvage).
  asio::steady_timer* cancels_done = nullptr;
  uint64_t last_client = 0;
  // Read/write splitting: which replica of `replica_set` this is (-1: the primary), and whether it
  // counts as in use there (least_connections) until it goes back to the pool or is closed.
  std::shared_ptr<routing::ReplicaSet> replica_set;
  int replica_index = -1;
  bool leased = false;
  ~ServerConn();
  void raise(Residue r, std::string_view why) {
    if (r <= residue) return;
    residue = r;
    residue_reason.assign(why);
  }
  void lease();
  void unlease();
  bool is_replica() const { return replica_index >= 0; }

  std::string describe() const;  // "S-7 127.0.0.1:5432"
  // For a connection sitting idle: any byte or EOF waiting means the server sent something
  // unsolicited (usually a FATAL before closing), so it must not be handed out.
  bool idle_healthy() const;
  // Moves the socket to another worker's io_context. Only for idle connections (no pending I/O).
  // A TLS session moves with it: OpenSSL works on the descriptor, which stays the same.
  void rebind(const asio::any_io_executor& exec, int worker_index);
  void close();
};
using ServerPtr = std::shared_ptr<ServerConn>;

struct LoginResult {
  ServerPtr server;
  std::string error;  // set on failure: says what failed and where, for the client and the log
  std::string sqlstate = "08006";
  std::vector<std::pair<std::string, std::string>> parameters;  // ParameterStatus at login
};

// Connects, authenticates and waits for ReadyForQuery, all within `timeout`. `replication`, when
// not empty, is the startup packet's `replication` value ("database": a logical replication
// connection, the result cache's change stream).
awaitable<LoginResult> connect_server(const ServerTarget& target, const ServerCredentials& creds,
                                      std::chrono::milliseconds timeout, uint64_t id,
                                      std::string_view replication = {});

// Result of a statement the pooler runs for itself (state sync, reset, rollback).
struct InternalResult {
  bool ok = false;         // server answered with ReadyForQuery and no error
  bool broken = false;     // the connection failed: close it
  char status = 'I';
  std::string error;
  std::string sqlstate;  // of the error, if the server sent one
  std::vector<std::pair<std::string, std::string>> parameters;  // ParameterStatus seen
  std::vector<std::optional<std::string>> row;  // the first DataRow's values, as text
};
// Sends `sql` as a simple Query and swallows everything up to ReadyForQuery.
awaitable<InternalResult> run_internal(ServerConn& server, const std::string& sql);
// run_internal() within `timeout` (the pollers' health checks): past it the connection is closed,
// which ends the query, and `timed_out` is set.
awaitable<InternalResult> run_internal_within(const ServerPtr& server, const std::string& sql,
                                              std::chrono::milliseconds timeout, bool& timed_out);

awaitable<error_code> send_all(tls::Stream& sock, const std::string& data);

// Reads until one whole message is buffered in `buf`. On success the frame points into `buf`; the
// caller consumes frame.size bytes when done with it.
awaitable<std::pair<error_code, protocol::Frame>> read_message(tls::Stream& sock, Buffer& buf,
                                                                uint32_t max_len);

}  // namespace pgopt::pooler
