// SCRAM-SHA-256 client end: the pooler logging in to PostgreSQL by password or passthrough keys.
#include <algorithm>

#include "pooler/auth/crypto.hpp"
#include "pooler/auth/scram.hpp"
#include "pooler/auth/scram_common.hpp"

namespace pgopt::pooler::auth {

namespace {

constexpr int kStart = 0, kSentFirst = 1, kSentFinal = 2, kDone = 3, kFailed = -1;

}  // namespace

ScramClient ScramClient::with_password(std::string password, std::string client_nonce) {
  ScramClient c;
  c.password_ = std::move(password);
  c.client_nonce_ = client_nonce.empty() ? scram::new_nonce() : std::move(client_nonce);
  return c;
}

ScramClient ScramClient::with_keys(const Key& client_key, const Key& server_key,
                                   std::string client_nonce) {
  ScramClient c;
  c.client_key_ = client_key;
  c.server_key_ = server_key;
  c.client_nonce_ = client_nonce.empty() ? scram::new_nonce() : std::move(client_nonce);
  return c;
}

std::string ScramClient::client_first() {
  // Idempotent before the server answers, so a caller may rebuild the message (e.g. to resend).
  if (step_ == kStart || step_ == kSentFirst) {
    client_first_bare_ = "n=" + scram::escape_saslname(username_) + ",r=" + client_nonce_;
    step_ = kSentFirst;
  }
  return "n,," + client_first_bare_;
}

std::optional<std::string> ScramClient::server_first(std::string_view msg, std::string& error) {
  auto fail = [&](std::string why) -> std::optional<std::string> {
    error = "malformed SCRAM server-first-message: " + std::move(why);
    step_ = kFailed;
    return std::nullopt;
  };
  if (step_ != kSentFirst) {
    error = step_ == kFailed ? "SCRAM exchange already failed"
                             : "unexpected SCRAM server-first-message";
    step_ = kFailed;
    return std::nullopt;
  }

  // server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions]
  auto tokens = scram::split(msg);
  if (tokens[0].starts_with("m=")) return fail("mandatory extension (m=) is not supported");
  auto nonce = scram::parse_attr(tokens[0]);
  if (!nonce || nonce->name != 'r') return fail("expected attribute \"r\"");
  // The server must extend our nonce with its own part, or it could be replaying an old exchange.
  if (!scram::valid_nonce(nonce->value) || nonce->value.size() <= client_nonce_.size() ||
      !nonce->value.starts_with(client_nonce_))
    return fail("server nonce does not extend the client nonce");
  auto salt_attr = tokens.size() > 1 ? scram::parse_attr(tokens[1]) : std::nullopt;
  if (!salt_attr || salt_attr->name != 's') return fail("expected attribute \"s\"");
  auto salt = base64_decode(salt_attr->value);
  if (!salt || salt->empty()) return fail("salt is not valid base64");
  auto iter_attr = tokens.size() > 2 ? scram::parse_attr(tokens[2]) : std::nullopt;
  if (!iter_attr || iter_attr->name != 'i') return fail("expected attribute \"i\"");
  auto iterations = scram::parse_iterations(iter_attr->value);
  if (!iterations) return fail("iteration count is not a positive integer");
  if (tokens.size() > 3 && !scram::valid_extensions(std::span(tokens).subspan(3), '\0'))
    return fail("malformed extension attribute");

  if (password_) {
    auto keys = scram::keys_from_password(*password_, *salt, *iterations);
    client_key_ = keys.client_key;
    server_key_ = keys.server_key;
    crypto::cleanse(keys.client_key);
  }
  std::string without_proof = "c=biws,r=" + std::string(nonce->value);
  auth_message_ = client_first_bare_ + "," + std::string(msg) + "," + without_proof;
  Key proof = scram::client_proof(client_key_, auth_message_);
  step_ = kSentFinal;
  return without_proof + ",p=" + base64_encode(crypto::view(proof));
}

bool ScramClient::server_final(std::string_view msg, std::string& error) {
  if (step_ != kSentFinal) {
    error = step_ == kFailed ? "SCRAM exchange already failed"
                             : "unexpected SCRAM server-final-message";
    step_ = kFailed;
    return false;
  }
  step_ = kFailed;  // until proven otherwise
  // server-final-message = (server-error / verifier) ["," extensions]
  auto tokens = scram::split(msg);
  auto first = scram::parse_attr(tokens[0]);
  if (!scram::valid_extensions(std::span(tokens).subspan(1), '\0') || !first) {
    error = "malformed SCRAM server-final-message";
    return false;
  }
  if (first->name == 'e') {
    // The server's error value is a fixed RFC token such as "invalid-proof", safe to log.
    error = "server rejected SCRAM authentication: " + std::string(first->value);
    return false;
  }
  if (first->name != 'v') {
    error = "malformed SCRAM server-final-message: expected attribute \"v\" or \"e\"";
    return false;
  }
  auto sig = base64_decode(first->value);
  if (!sig || sig->size() != Key{}.size()) {
    error = "malformed SCRAM server-final-message: signature is not 32 bytes of base64";
    return false;
  }
  Key got{};
  std::copy(sig->begin(), sig->end(), got.begin());
  if (!crypto::equal_ct(got, scram::server_signature(server_key_, auth_message_))) {
    error = "SCRAM server signature does not match (server does not know the password)";
    return false;
  }
  step_ = kDone;
  return true;
}

}  // namespace pgopt::pooler::auth
