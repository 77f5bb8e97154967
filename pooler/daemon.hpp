// The running pooler: workers, the listener, signals (reload, graceful shutdown) and the sweeper.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "pooler/runtime.hpp"
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

class Daemon {
 public:
  explicit Daemon(LoadedConfig loaded);
  int run();  // blocks until shut down; returns the process exit code

 private:
  awaitable<void> accept_loop(tcp::acceptor& acceptor);
  // The client port (shared by the fleet's processes with so_reuseport) and, in a fleet, this
  // process's own [peers] address. Throws with the address that could not be bound.
  void open_listeners(const Config& cfg);
  awaitable<void> sweep_loop(Worker& w);
  awaitable<void> signal_loop(asio::signal_set& signals);
  awaitable<void> shutdown();
  awaitable<void> warm_up(int worker, Pool* p, ServerTarget target, ServerCredentials creds,
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
  int exit_code_ = 0;
};

}  // namespace pgopt::pooler
