// The running pooler: workers, the listener, signals (reload, graceful shutdown) and the sweeper.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "pooler/runtime.hpp"
#include "pooler/takeover.hpp"
#include "pooler/tls/context.hpp"

namespace pgopt::pooler {

struct LoadedConfig {
  std::shared_ptr<const Config> config;
  std::shared_ptr<const auth::UserList> users;
  std::vector<std::string> errors;  // "file:line: message", config and auth file together
  std::shared_ptr<const tls::Contexts> tls;  // the certificates the config names, read and checked
};
// Reads the config file and the auth file it names; nothing is returned unless both are valid.
LoadedConfig load_all(const std::string& path);

// Command-line choices that are not configuration: an online takeover (takeover.hpp).
struct DaemonOptions {
  std::string handover_socket;  // offer: a successor connecting here takes listeners and idle clients
  std::string takeover;         // take: the old process's handover socket
};

class Daemon {
 public:
  explicit Daemon(LoadedConfig loaded, DaemonOptions options = {});
  int run();  // blocks until shut down; returns the process exit code

 private:
  awaitable<void> accept_loop(tcp::acceptor& acceptor);
  // The client port (shared by the fleet's processes with so_reuseport) and, in a fleet, this
  // process's own [peers] address. Throws with the address that could not be bound.
  void open_listeners(const Config& cfg);
  awaitable<void> sweep_loop(Worker& w);
  awaitable<void> signal_loop(asio::signal_set& signals);
  // Drain: idle clients are closed (57P01) at once, the others at their next idle point. Move (a
  // successor took the listeners): clients that can move are handed over instead.
  enum class ShutdownKind { Drain, Move };
  awaitable<void> shutdown(ShutdownKind kind = ShutdownKind::Drain);
  awaitable<void> handover_loop();
  bool adopt_listeners(const std::vector<int>& fds);  // the old process's, in a takeover
  // open_listeners(), or the old process's sockets with --takeover; the handover socket with
  // --handover-socket. False: logged, the process exits with 1.
  bool bind_listeners(const Config& cfg);
  // Opens the connection for `slot` (a min_pool_size slot of its pool) and pools it.
  awaitable<void> warm_up(int worker, SlotLease slot, ServerTarget target, ServerCredentials creds,
                          std::chrono::milliseconds timeout);
  std::vector<std::string> reload();  // the errors that kept the running config; empty: applied
  // Puts a validated config in place: restart-only changes are logged, servers of a database whose
  // address changed are dropped, pollers follow the replica lists.
  void apply(std::shared_ptr<const Config> config, std::shared_ptr<const auth::UserList> users);
  void start_pollers(const Config& cfg);  // for databases whose replica set is new
  void start_change_streams(const Config& cfg);  // for databases without one (result cache)
  std::set<std::string> change_streams_;         // databases whose change stream was started
  void for_each_client(const std::function<void(const std::shared_ptr<ClientSession>&)>& fn);

  std::string path_;
  Runtime rt_;
  asio::io_context main_{1};
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
  DaemonOptions options_;
  std::unique_ptr<Handover> handover_;
  std::unique_ptr<Takeover> takeover_;
  int exit_code_ = 0;
};

}  // namespace pgopt::pooler
