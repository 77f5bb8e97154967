// A scripted PostgreSQL server stand-in on 127.0.0.1 for component tests of the pooler's relay
// (tests/component/): no PostgreSQL needed, and the test decides every byte the server sends, how
// it is cut into writes, and when (after which client message) it is sent.
//
// Each accepted server connection runs in a thread of its own: the fake answers the startup
// (SSLRequest refused with 'N', AuthenticationOk, ParameterStatus, BackendKeyData with a key of its
// own, ReadyForQuery), then runs the test's script on it. What the pooler sends is decoded with
// pooler/protocol's codec and recorded, so a test asserts what reached the server. Every wait has a
// deadline; the destructor stops the listener and every connection and joins their threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "pooler/protocol/codec.hpp"

namespace pgopt::test {

// One message the pooler sent: `type` 0 for a startup-phase message (then `body` is its payload
// after the code, and `code` the code).
struct FakeMessage {
  char type = 0;
  uint32_t code = 0;
  std::string body;
  std::string text() const;  // a Query's SQL (the body without its NUL)
};

// Thrown inside a script when a wait runs out or the pooler sends something unexpected; the
// connection's thread records it (FakeBackend::failures) and closes the connection.
struct ScriptError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class FakeBackend;

// One server connection as its script sees it.
class FakeConn {
 public:
  FakeConn(FakeBackend& owner, int fd, int index);
  ~FakeConn();
  FakeConn(const FakeConn&) = delete;
  FakeConn& operator=(const FakeConn&) = delete;

  int index() const { return index_; }
  protocol::CancelKey key() const { return key_; }
  FakeBackend& backend() { return owner_; }

  // The next message from the pooler (recorded), answering the pooler's own catalog query
  // (code reach) and DISCARD ALL as PostgreSQL would. nullopt on Terminate, EOF or stop; throws
  // ScriptError when nothing arrives within the backend's patience.
  // `Idle::UntilStop`: waiting for the pooler's next use of an idle server is no failure (it may
  // never come); the wait ends when the pooler closes or the fixture stops the fake.
  enum class Idle { Patience, UntilStop };
  std::optional<FakeMessage> next(Idle idle = Idle::Patience);
  // The next message, which must be of `type` (else ScriptError).
  FakeMessage expect(char type);
  // Messages up to and including the first of `type`.
  std::vector<FakeMessage> until(char type);

  // Writes: all at once, cut before each offset in `cuts`, one byte per write, or one write per
  // message (cut at every message boundary).
  void send(const std::string& bytes);
  void send_cut(const std::string& bytes, const std::vector<size_t>& cuts);
  void send_bytewise(const std::string& bytes);
  void send_per_message(const std::string& bytes);
  // Closes the connection now (a server that dies mid-reply).
  void close();
  // Waits (polling, bounded by the backend's patience) until `cond` holds; ScriptError otherwise.
  void wait_until(const std::function<bool()>& cond, const char* what);

  // Startup-phase handshake; false if the peer sent a CancelRequest (recorded) or went away.
  bool handshake();

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);  // more bytes; false on EOF/stop
  void write_all(const char* data, size_t n);
  bool answer_internal(const FakeMessage& m);

  FakeBackend& owner_;
  int fd_;
  int index_;
  protocol::CancelKey key_;
  std::string buf_;
};

class FakeBackend {
 public:
  using Script = std::function<void(FakeConn&)>;
  // `script` runs once per server connection after its startup, in that connection's thread.
  explicit FakeBackend(Script script, std::chrono::milliseconds patience = std::chrono::seconds(8));
  ~FakeBackend();
  FakeBackend(const FakeBackend&) = delete;
  FakeBackend& operator=(const FakeBackend&) = delete;

  int port() const { return port_; }
  // Server connections that completed their startup (cancel requests do not count).
  int connections() const;
  std::vector<FakeMessage> received(int conn) const;
  // Frontend messages of `type` a connection received (its Query texts for 'Q').
  std::vector<std::string> queries(int conn) const;
  std::vector<protocol::CancelKey> cancels() const;
  // While held, a cancel request's connection stays open after it was recorded, as a busy
  // postmaster's does until its child has signalled the backend (and at most `patience`).
  void hold_cancels(bool held) { cancels_held_ = held; }
  protocol::CancelKey key_of(int conn) const;
  std::vector<std::string> failures() const;
  // Polls `cond` until it holds or `patience` runs out.
  bool wait(const std::function<bool()>& cond) const;
  std::chrono::milliseconds patience() const { return patience_; }
  bool stopping() const { return stopping_.load(); }
  void stop();

  // Bytes of a simple-query result: RowDescription (text columns), DataRows, CommandComplete
  // ("SELECT n"), ReadyForQuery `status`.
  static std::string result(const std::vector<std::string>& columns,
                            const std::vector<std::vector<std::optional<std::string>>>& rows, char status = 'I');

 private:
  friend class FakeConn;
  void accept_loop();
  void serve(int fd);
  void record(int conn, FakeMessage m);
  int register_conn();  // a connection past its startup: its index, its key made
  void add_cancel(protocol::CancelKey key);
  void add_failure(std::string what);

  Script script_;
  std::chrono::milliseconds patience_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> cancels_held_{false};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<std::thread> threads_;
  std::vector<int> open_fds_;
  std::vector<std::vector<FakeMessage>> received_;
  std::vector<protocol::CancelKey> keys_;
  std::vector<protocol::CancelKey> cancels_;
  std::vector<std::string> failures_;
};

}  // namespace pgopt::test
