// One client connection: login, then relaying its traffic to a pooled server and back.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pooler/admin/snapshot.hpp"
#include "pooler/buffer.hpp"
#include "pooler/client_cache.hpp"
#include "pooler/capture/session_capture.hpp"
#include "pooler/guc_state.hpp"
#include "pooler/login_handshake.hpp"
#include "pooler/metrics/session_meter.hpp"
#include "pooler/net.hpp"
#include "pooler/prepared/tracker.hpp"
#include "pooler/relay_dock.hpp"
#include "pooler/runtime.hpp"
#include "pooler/routing/router.hpp"
#include "pooler/server_conn.hpp"
#include "pooler/session/tx_tracker.hpp"
#include "pooler/split_planner.hpp"
#include "pooler/tls/stream.hpp"
#include "sql/session_effects.hpp"

namespace pgopt::pooler {

namespace admin {
class AdminSession;
}
namespace tls {
class Contexts;
}
namespace fleet {
struct MovedClient;
}

// The states of a client connection, changed only by ClientSession::set_state():
//   Login    startup packet, authentication, welcome messages
//   Idle     logged in, no server attached (transaction mode between transactions)
//   Waiting  needs a server and waits for the pool (query_wait_timeout applies)
//   Active   a server is attached and traffic flows both ways
//   Closing  the connection is ending; `close_reason` says why
// An Idle client that sent nothing for a second is parked (park()): its coroutines end, its socket
// leaves Asio for the worker's ParkingLot and the session holds itself, so 10,000 idle clients cost
// no coroutine frames, buffers or pending Asio operations. Its next byte (or EOF) starts
// client_loop() again; the state stays Idle throughout.
enum class ClientState { Login, Idle, Waiting, Active, Closing };
std::string_view to_string(ClientState s);

class ClientSession : public std::enable_shared_from_this<ClientSession> {
 public:
  ClientSession(Runtime& rt, Worker& worker, tcp::socket sock, uint64_t id);
  // A client an old process handed over (client_takeover.cpp): its socket, and the cancel key it was
  // given, claimed here (on the thread that frees the unclaimed slots afterwards); then adopt() on
  // its worker.
  ClientSession(Runtime& rt, Worker& worker, int moved_fd, uint64_t id, protocol::CancelKey key);
  // Builds the session from the old process's state and parks it; on a refusal (logged) the session
  // is dropped by its last owner and the socket closed.
  void adopt(const fleet::MovedClient& m);
  ~ClientSession();

  awaitable<void> run();
  // After the workers stopped: a parked session lets go of itself and its socket.
  void drop_if_parked();

  // All of these run on the client's own worker (post to it from elsewhere).
  void forward_cancel();                             // a CancelRequest with our key arrived
  void check_timeouts(Clock::time_point now);        // the worker's once-a-second sweep
  void shutdown_when_idle();                         // graceful shutdown: close at the next idle point
  void move_when_idle();  // takeover: hand over to the new process at the next idle point, or drain
  // The one way a session ends: logs the reason, sends a FATAL to the client if there is a
  // SQLSTATE, and closes the socket so both relay loops finish.
  void disconnect(std::string reason, std::string sqlstate = {}, std::string client_message = {});

  uint64_t id() const { return ident_.id; }
  ClientState state() const { return state_; }
  const std::string& peer() const { return ident_.peer; }
  // Set at login: read them on this client's worker only. The pool's names once it has one (a
  // parked client keeps no copy); empty for a moved client not yet adopted (takeover).
  const std::string& database() const {
    return binding_.pool ? binding_.pool->database : awake_ && awake_->login_ ? awake_->login_->database() : kNoName;
  }
  const std::string& user() const { return binding_.pool ? binding_.pool->user : awake_ && awake_->login_ ? awake_->login_->user() : kNoName; }
  bool is_admin() const { return kind_ == Kind::Admin; }
  bool has_server() const { return server_ != nullptr; }
  const Pool* pool() const { return binding_.pool; }  // its primary pool, once logged in
  asio::any_io_executor executor() { return worker_.ctx.get_executor(); }
  ClientSnapshot snapshot() const;  // for the admin console, on this client's worker (admin/)

 private:
  // The session's parts that run it for a while and reach into its state: the login
  // (login_handshake.hpp, client_login.cpp) and the admin console (admin/admin_session.hpp).
  friend class LoginHandshake;
  friend class admin::AdminSession;

  // relay, client -> server (client_session.cpp)
  awaitable<void> client_loop();
  // relay, server -> client (client_replies.cpp): ServerReplies judges each server message.
  struct ServerReplies;
  // True: the server went back to the pool and the session goes on (the relay may dock).
  awaitable<bool> server_loop(ServerPtr server);
  // The server connection broke while attached: the retry of a batch that changed nothing, or the
  // in-flight requests fail and the client stays (outlives_server), or the client is closed.
  // `error_sent`: the client already has an ERROR for its first request (a softened FATAL).
  awaitable<void> server_failed(ServerPtr s, error_code ec, bool between_messages, bool error_sent);
  // Transaction mode, between transactions from the client's view, nothing of a group half sent:
  // losing the server costs this client only its requests in flight. Its session (settings,
  // prepared statements) lives in the pooler and goes to the next server as after any release.
  bool outlives_server() const;
  // Every request the dead server owed gets an ERROR and ReadyForQuery 'I', judged as server replies.
  awaitable<void> fail_in_flight(ServerPtr s, bool error_sent);
  awaitable<bool> resend_retired_group(const ServerPtr& s);  // false: the server was lost
  // Entry points for co_spawn: the owning pointers travel as coroutine parameters. relay_server
  // runs server_loop for one server after another, docked between them (relay_dock.hpp).
  static awaitable<void> relay_server(std::shared_ptr<ClientSession> self, ServerPtr s);
  static awaitable<void> send_cancel(std::shared_ptr<ClientSession> self, ServerPtr s);
  // One client message of a batch, decoded once by client_loop(); every later step reads `frame`
  // (its body points into the client's input buffer, which nothing changes while the batch lives).
  struct BatchItem {
    size_t offset, size;  // of one message in the client's input buffer
    protocol::Frame frame;
    bool ignored_sync = false;  // a Sync the server will ignore (sent during COPY FROM STDIN)
  };
  // client_loop's steps: whole messages decoded and checked (false: the client was disconnected),
  // the rest of a refused group dropped (bytes to consume), and the next read (false: over).
  bool decode_batch(std::span<uint8_t> data, std::vector<BatchItem>& items, size_t& ready, bool& terminate);
  size_t skip_refused_group(std::span<const uint8_t> data, std::span<const BatchItem> items, size_t ready);
  awaitable<bool> read_client();
  // A batch that needs no server (named Parses and Syncs while idle): answered into io_.out.
  bool answer_locally(std::span<const BatchItem> items);
  // Gets a server: a replica when `want_replica` and one is fit, else the primary. The caller starts
  // the relay. NoReplica: a read found no replica and replica_fallback is "error".
  enum class AttachResult { Ok, Closed, NoReplica };
  awaitable<AttachResult> attach(bool want_replica = false);
  // attach's steps: waiting in the pool's queue (leaving it if the client hangs up), and the
  // catalog look-up of what code the database can run unnamed (session_check.hpp).
  awaitable<Pool::Acquired> acquire_from(Pool& pool, std::chrono::milliseconds wait_timeout, const PoolLimits& limits);
  awaitable<void> look_up_code_reach(Pool& pool, ServerConn& s);
  awaitable<bool> wait_while_paused();
  // One try of attach's loop: the pool chosen, a replica's index (-1: the primary pool), where the
  // primary of a multi-host database is now.
  struct AttachTry {
    Pool* pool;
    int replica;
    std::optional<ServerTarget> primary;
    int attempt;
    Clock::time_point failover_deadline;
  };
  enum class AttachStep { Done, Again, Closed };
  // attach() when nothing has to wait (not paused, the primary of a single-host database, an idle
  // server whose settings match): no coroutine. False: attach() must run; nothing changed.
  bool attach_now(bool want_replica);
  void attached(ServerPtr s, const Config& cfg);  // the server is this client's from now on
  const DatabaseConfig& current_db(const std::shared_ptr<const Config>& cfg) const;
  awaitable<AttachStep> open_server(const AttachTry& at, const Config& cfg, const DatabaseConfig& db, SlotLease slot,
                                    ServerPtr& s);
  awaitable<AttachStep> restore_settings(const AttachTry& at, bool at_login, ServerPtr& s);
  bool settings_in_sync(const ServerConn& s) const;  // restore_settings() would have nothing to do
  // Sends one batch (`items` point into `data`) to server_; starts the relay when `spawn_relay`.
  awaitable<bool> send_batch(std::span<const uint8_t> data, std::span<BatchItem> items, bool spawn_relay);
  awaitable<void> release(ServerPtr server);
  // release() without its coroutine when it sends the server nothing (the common case: a clean
  // server in transaction mode); false, and `server` untouched, when release() must run.
  bool release_now(ServerPtr& server);
  bool release_talks(const ServerConn& s, const Config& cfg) const;  // a session check or a reset query
  void give_back(ServerPtr server, const Config& cfg);  // to the pool, or closed (too old, moved)
  // Asks the server what its session holds after statements whose effects the text does not show,
  // carries the settings to this client and marks what must be reset (session_check.hpp). False:
  // the connection broke and must be closed.
  awaitable<bool> check_session(ServerConn& s);
  // What a client message on its way to the server means for the session (client_notes.cpp).
  enum class Noted { Sent, IgnoredSync, Refused };  // IgnoredSync: sent, the server will not answer it
  Noted note_client_message(const protocol::Frame& f);
  // Before the rest of a message over Runtime::kLargeMessage is read: its size from the process's
  // large_message_memory. False: refused, the client is disconnected (53200).
  bool reserve_large_message(std::span<const uint8_t> unread);
  void note_session_effects(std::string_view sql);
  void note_bound_statement(const protocol::Frame& bind);  // effects of a named statement it runs
  void learn_bound_names(const protocol::Frame& bind);     // custom setting names in its values
  void on_ready_for_query(session::TxTracker::Ready ready);

  // result cache (client_cache.cpp), only while cache_ is set ([cache] enabled = true)
  // A lone cacheable Query, or one extended-protocol execution (CacheExtended), while no server is
  // attached: answered from the store into io_.out (the bytes it used), or armed as a fill (0).
  size_t cache_lookup(std::span<const BatchItem> items);
  bool cache_setting(std::string_view text);  // SET/RESET/SHOW pgopt.cache answered into io_.out
  bool cache_answer(std::string_view text, const CacheExtended* ext);  // a hit into io_.out, or a fill armed
  void cache_reply(std::string_view reply, const CacheExtended* ext);
  void cache_note_client(const protocol::Frame& f, Noted noted);  // writes going to the server
  void cache_on_reply(char type, std::span<const uint8_t> body, bool from_replica);
  void cache_server_lost();  // anything in flight may have committed: invalidate it all

  // read/write splitting (client_split.cpp)
  struct Plan {
    enum class Kind {
      Send,      // send the first `items` messages (`ready` bytes); to a replica if `replica`
      Answered,  // `consumed` bytes of input were answered into io_.out by the pooler
      Requeue,   // the attached server changed while waiting: plan the batch again
      NeedMore,  // an extended-protocol group to answer locally is not complete: read on
    };
    Kind kind = Kind::Send;
    size_t ready = 0, items = 0, consumed = 0;
    bool replica = false;
    bool writes = false;  // something in it may write (read-your-writes stamps the commit)
  };
  void refresh_split(const std::shared_ptr<const Config>& cfg);
  awaitable<Plan> plan_batch(std::span<uint8_t> data, std::span<const BatchItem> items, size_t ready);
  struct RoutedText {
    enum class Kind { Skip, Opaque, Sync, Text };
    Kind kind = Kind::Skip;
    std::string_view text = {};
    size_t text_at = 0;
  };
  RoutedText routed_text(std::span<const uint8_t> data, const BatchItem& it) const;
  Plan answer_planned(std::span<uint8_t> data, std::span<const BatchItem> items, char type, const routing::Decision& d);
  Pool& replica_pool(int index);
  void replica_failed(const ServerPtr& s, std::string_view why);
  // Answers the statement or group that starts the batch with the pooler's own replies.
  size_t answer_group(std::span<const uint8_t> data, std::span<const BatchItem> items, const routing::Decision& d,
                      bool single_statement);
  size_t fail_group(std::span<const uint8_t> data, std::span<const BatchItem> items, const routing::RouteError& e);
  bool settled() const;
  awaitable<void> wait_settled();
  // Until fewer than `limit` Queries/Syncs await their ReadyForQuery (max_pipeline_depth); woken by
  // notify_settled() like wait_settled().
  awaitable<void> wait_replies_below(int limit);
  void notify_settled();
  awaitable<void> wait_notified();  // one sleep of the two above, until notify_settled()
  // Keeps a copy of a batch that may run again if its server breaks before answering (or not).
  void arm_retry(std::span<const uint8_t> batch, std::span<const BatchItem> items, bool fresh, bool want_replica);
  // A batch whose server broke before it changed anything runs again on a fresh connection to the
  // same role (a replica's read, or a bare BEGIN on the primary), up to BatchRetry::kMaxRetries times.
  awaitable<void> retry_elsewhere(ServerPtr failed);
  awaitable<void> retry_elsewhere_now(ServerPtr failed);
  // What the client was last told: a BEGIN held back (SplitMemory::begin_pending) already said 'T'.
  char client_tx_status() const {
    return server_ ? char(awake_->tx_.status()) : split_memory_.begin_pending ? 'T' : 'I';
  }

  // Parking (see ClientState): requested by check_timeouts(), done by client_loop() once its read
  // is cancelled, undone by the first readable byte (or EOF).
  bool park();  // false: the client could not be parked and client_loop() reads on
  static awaitable<void> unpark(std::shared_ptr<ClientSession> self);
  friend void wake_parked_client(void* session);
  friend void hangup_waiting_client(void* session);
  void hung_up_while_waiting();  // its socket closed while it was queued for a server
  void stop_hangup_watch();
  // A server whose client vanished while it was attached: its work finished (cancelled, synced,
  // rolled back) and the connection pooled again, or closed if that fails (client_salvage.cpp).
  awaitable<void> salvage(ServerPtr s, size_t stream_left);
  awaitable<bool> finish_server_work(ServerConn& s, size_t stream_left);
  // takeover (client_takeover.cpp)
  bool movable() const;
  void park_now();   // between transactions, leaving for the new process: park at once
  void hand_over();  // parked: state and socket to the new process, then gone
  void wake_parked();       // its socket became readable (ParkingLot)
  bool take_back_socket();  // out of the ParkingLot, into a new Awake; false if that failed

  awaitable<bool> send(const std::string& data);
  awaitable<bool> send_out();  // sends io_.out and empties it, so no message is ever sent twice
  void set_state(ClientState s);
  // The client is gone or going: disconnect() or hand_over() ran (Closing is never left again).
  bool gone() const { return state_ == ClientState::Closing; }
  std::string tag() const;  // "C-12 app/alice@127.0.0.1:50001" for logs

  static constexpr size_t kKeepInBuffer = 16 * 1024;
  static inline const std::string kNoName;
  // A retriable read's replies are held up to this much until its ReadyForQuery (server_loop).
  static constexpr size_t kMaxHeldReply = 64 * 1024;

  // What an awake client needs and a parked one does not: its socket as Asio's, buffers, login
  // and per-batch scratch, and the read/write-splitting state looked up again from the config.
  // Made at connect and by every wake-up (take_back_socket), freed by park(): null exactly while
  // the client is parked, which is what makes 10,000 parked clients cheap (docs/architecture.md).
  struct Awake {
    Awake(tcp::socket s, SplitMemory& split) : io_(std::move(s)), split_(split) {}
    // The client's connection: its socket and what is read from it and written to it.
    struct ClientIo {
      explicit ClientIo(tcp::socket s) : sock(std::move(s)) {}
      tls::Stream sock;  // TLS after an SSLRequest the pooler accepted (tls/); never parked then
      Buffer in;
      std::array<uint8_t, 512> small;  // read target while `in` is empty (most messages fit)
      std::string out;  // reused write buffer for client-bound bytes the pooler builds
      BudgetLease large_message;  // of rt_.large_messages, while a message over kLargeMessage is in `in`
    };
    ClientIo io_;
    // While logging in (dropped after the welcome; the pool has the names), and for the whole of an
    // admin console session, which has no pool: the names it logged in with.
    std::unique_ptr<LoginHandshake> login_;
    // Scratch of the batch being sent, reused from batch to batch.
    struct BatchScratch {
      std::string to_server;  // a client batch with rewritten messages
      std::vector<protocol::Frame> frames;
      std::string retry;  // a client group sent to the server again (prepared::ReplyAction::Retry)
      size_t statement_capacity = 0;  // of the attached server's statement cache, as of the attach
    };
    BatchScratch batch_;
    // Requests the server owes, the transaction status, settings deferred to the commit, open
    // WITH HOLD cursors: reset for each server attached (session/tx_tracker.hpp).
    session::TxTracker tx_;
    // Read/write splitting (active for a transaction-mode database with read_write_split) and the
    // retry of a batch whose server broke before answering.
    SplitPlanner split_;
    std::string close_reason_;
    // What the session's coroutines sleep on.
    struct Waits {
      // What wait_settled() and wait_replies_below() sleep on until notify_settled(): a timer
      // made by the first wait, and whether one is waiting now.
      struct Settle {
        std::unique_ptr<asio::steady_timer> timer;
        bool waiting = false;
      };
      Settle settle;
      // While queued for a server (attach): its place in the queue, and whether its socket is in
      // the worker's hang-up watch, so a client that closes leaves the queue at once.
      struct Queued {
        Pool::WaitTicket* ticket = nullptr;
        bool hangup_watched = false;
      };
      Queued queued;
      RelayDock relay;  // the relay between transactions (relay_dock.hpp)
    };
    Waits waits_;
  };

  // What stays while parked. Small fields are grouped by size: this object is most of what a
  // parked client costs.
  Runtime& rt_;
  Worker& worker_;
  SplitMemory split_memory_;  // read-your-writes, SET pgopt.route, a held-back BEGIN (before awake_)
  std::unique_ptr<Awake> awake_;
  // Parking (see ClientState): what keeps a parked client, and how far an awake one is from it.
  struct Parking {
    // client_loop()'s read: Busy, Idle (waiting for the next message with nothing pending), or
    // ParkRequested (check_timeouts() or a takeover cancelled that read to park the client).
    enum class Read : uint8_t { Busy, Idle, ParkRequested };
    std::shared_ptr<ClientSession> self;  // what keeps a parked session alive
    int fd = -1;                          // the socket while parked (awake_ is null meanwhile)
    Read read = Read::Busy;
    bool v6 = false;
    bool tracker_dropped = false;  // prepared_ was dropped by park() and comes back on unpark()
  };
  Parking parking_;
  // Who the client is, from its connection.
  struct Identity {
    explicit Identity(uint64_t i) : id(i) {}
    uint64_t id;
    std::string peer;
    Clock::time_point connected_at = Clock::now();
    protocol::CancelKey cancel_key{};  // also this session's slot in rt_.client_table
  };
  Identity ident_;
  Clock::time_point last_activity_ = Clock::now();
  // What the login bound the client to.
  struct Binding {
    std::shared_ptr<const Config> config;  // as of login; limits are re-read from the live config
    const DatabaseConfig* db = nullptr;    // points into config
    Pool* pool = nullptr;
  };
  Binding binding_;
  GucState want_;  // the settings this client's session has, whichever server runs it
  // Transaction mode with max_prepared_statements > 0: the client's named statements, carried to
  // whichever server runs its next transaction. Null otherwise (session mode keeps its server).
  std::unique_ptr<prepared::Tracker> prepared_;
  metrics::SessionMeter meter_;  // this client's share of its database's statistics (metrics/)
  // Its statements for the workload capture (capture/): made by the first statement captured,
  // dropped by park() when blank.
  std::unique_ptr<capture::SessionCapture> capture_;
  std::unique_ptr<SessionCache> cache_;  // the result cache's per-session part; null when off
  ServerPtr server_;  // attached while a transaction (or, in session mode, the session) runs

  ClientState state_ = ClientState::Login;
  PoolMode mode_ = PoolMode::Transaction;
  // The process is shutting down: Drain closes the client at its next idle point, Move hands it
  // over to the process that took the listeners (takeover.hpp).
  enum class Leaving : uint8_t { Stay, Drain, Move };
  Leaving leaving_ = Leaving::Stay;
  // Which session runs: a relay to pooled servers, or the admin console (database "pgopt", decided
  // by the startup packet; admin/admin_session.hpp).
  enum class Kind : uint8_t { Relay, Admin };
  Kind kind_ = Kind::Relay;
};

}  // namespace pgopt::pooler
