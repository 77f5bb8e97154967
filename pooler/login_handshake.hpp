// A client's login as a part of its session (client_login.cpp): startup packet, TLS (or SSL/GSS
// refusal), cancel requests, protocol negotiation, authentication, the database and pool, the
// welcome. It owns what only login needs (the names asked for, startup parameters, the SCRAM
// ClientKey proved); the session drops it once logged in, keeping the pool, which has the names.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pooler/auth/scram.hpp"
#include "pooler/net.hpp"
#include "pooler/protocol/codec.hpp"

namespace pgopt::pooler {

class ClientSession;
namespace tls {
class Contexts;
}

class LoginHandshake {
 public:
  explicit LoginHandshake(ClientSession& c) : c_(c) {}

  // The whole login up to the ReadyForQuery after the welcome. Done: a relay session goes on with
  // client_loop(); Admin: a client of the admin console (database "pgopt", no pool, no server),
  // authenticated; Over: the client was disconnected (or its cancel request handled).
  enum class Outcome { Done, Admin, Over };
  awaitable<Outcome> run();

  // The names the client asked for (the session reads the pool's once it has one).
  const std::string& user() const { return user_; }
  const std::string& database() const { return database_; }

 private:
  awaitable<bool> startup();
  awaitable<bool> answer_encryption_request(uint32_t code, const tls::Contexts* contexts);
  bool take_startup_params(const protocol::StartupParams& params, std::vector<std::string>& unsupported);
  awaitable<bool> authenticate();
  awaitable<bool> welcome();
  bool resolve_database();  // the client's database in the config, after authentication
  awaitable<std::optional<std::string>> read_password_message();
  // A CancelRequest instead of a startup packet: passed to the session it names, here or, in a
  // fleet, at the peer that issued the key (fleet/). `forwarded`: a peer sent it (never again).
  awaitable<void> handle_cancel_request(std::span<const uint8_t> payload, bool forwarded);

  ClientSession& c_;
  std::string user_, database_;
  std::vector<std::pair<std::string, std::string>> startup_gucs_;  // until welcome() puts them in want_
  std::optional<auth::Key> scram_client_key_;  // SCRAM passthrough: given to the pool
};

}  // namespace pgopt::pooler
