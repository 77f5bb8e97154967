// The server end of SCRAM-SHA-256: the pooler checking a client's proof against a stored verifier.
#include <algorithm>

#include "pooler/auth/crypto.hpp"
#include "pooler/auth/scram.hpp"
#include "pooler/auth/scram_common.hpp"

namespace pgopt::pooler::auth {

namespace {

// Steps of one exchange; a failed exchange stays failed.
constexpr int kStart = 0, kSentFirst = 1, kDone = 2, kFailed = -1;

}  // namespace

ScramServer::ScramServer(ScramSecret secret, std::string server_nonce)
    : secret_(std::move(secret)), server_nonce_(std::move(server_nonce)) {
  if (server_nonce_.empty()) server_nonce_ = scram::new_nonce();
}

std::optional<std::string> ScramServer::client_first(std::string_view msg, std::string& error) {
  auto fail = [&](std::string why) -> std::optional<std::string> {
    error = "malformed SCRAM client-first-message: " + std::move(why);
    step_ = kFailed;
    failure_ = ScramFailure::Malformed;
    return std::nullopt;
  };
  if (step_ != kStart) {
    bool was_failed = step_ == kFailed;
    error = was_failed ? "SCRAM exchange already failed" : "unexpected SCRAM client-first-message";
    step_ = kFailed;
    if (!was_failed) failure_ = ScramFailure::Malformed;
    return std::nullopt;
  }

  auto tokens = scram::split(msg);
  // gs2-header: cbind-flag "," [authzid] ","
  std::string_view flag = tokens[0];
  if (flag.starts_with("p=")) {
    // Not "malformed" in the RFC sense, but the exchange cannot go on either way.
    error = "channel binding not supported";
    step_ = kFailed;
    failure_ = ScramFailure::Malformed;
    return std::nullopt;
  }
  if (flag != "n" && flag != "y") return fail("invalid channel-binding flag");
  if (tokens.size() < 2) return fail("incomplete gs2 header");
  if (tokens[1].starts_with("a=")) return fail("authorization identity (a=) is not supported");
  if (!tokens[1].empty()) return fail("invalid gs2 header");
  if (tokens.size() < 3) return fail("incomplete gs2 header");

  // client-first-message-bare: [reserved-mext ","] username "," nonce ["," extensions]
  size_t i = 2;
  if (tokens[i].starts_with("m=")) return fail("mandatory extension (m=) is not supported");
  auto user = scram::parse_attr(tokens[i]);
  // The name is ignored: PostgreSQL takes the user from the startup packet and libpq sends "n=".
  if (!user || user->name != 'n') return fail("expected attribute \"n\"");
  ++i;
  if (i >= tokens.size()) return fail("expected attribute \"r\"");
  auto nonce = scram::parse_attr(tokens[i]);
  if (!nonce || nonce->name != 'r') return fail("expected attribute \"r\"");
  if (!scram::valid_nonce(nonce->value)) return fail("nonce is empty or not printable");
  if (!scram::valid_extensions(std::span(tokens).subspan(i + 1), '\0'))
    return fail("malformed extension attribute");

  gs2_header_ = std::string(flag) + ",,";
  client_first_bare_ = std::string(msg.substr(gs2_header_.size()));
  combined_nonce_ = std::string(nonce->value) + server_nonce_;
  server_first_ = "r=" + combined_nonce_ + ",s=" + base64_encode(secret_.salt) +
                  ",i=" + std::to_string(secret_.iterations);
  step_ = kSentFirst;
  return server_first_;
}

std::optional<std::string> ScramServer::client_final(std::string_view msg, std::string& error) {
  auto fail = [&](std::string why) -> std::optional<std::string> {
    error = "malformed SCRAM client-final-message: " + std::move(why);
    step_ = kFailed;
    failure_ = ScramFailure::Malformed;
    return std::nullopt;
  };
  if (step_ != kSentFirst) {
    bool was_failed = step_ == kFailed;
    error = was_failed ? "SCRAM exchange already failed" : "unexpected SCRAM client-final-message";
    step_ = kFailed;
    if (!was_failed) failure_ = ScramFailure::Malformed;
    return std::nullopt;
  }

  // client-final-message = "c=" cbind "," "r=" nonce ["," extensions] "," "p=" proof
  auto tokens = scram::split(msg);
  auto cbind = scram::parse_attr(tokens[0]);
  if (!cbind || cbind->name != 'c') return fail("expected attribute \"c\"");
  // Only the gs2 header the client sent is acceptable: with no channel binding it is all c= holds.
  if (cbind->value != base64_encode(gs2_header_))
    return fail("channel-binding data does not match the gs2 header");
  if (tokens.size() < 2) return fail("expected attribute \"r\"");
  auto nonce = scram::parse_attr(tokens[1]);
  if (!nonce || nonce->name != 'r') return fail("expected attribute \"r\"");
  if (nonce->value != combined_nonce_) return fail("nonce does not match");
  if (tokens.size() < 3) return fail("expected attribute \"p\"");
  auto proof_attr = scram::parse_attr(tokens.back());
  if (!proof_attr || proof_attr->name != 'p') return fail("expected attribute \"p\" last");
  if (!scram::valid_extensions(std::span(tokens).subspan(2, tokens.size() - 3), 'p'))
    return fail("malformed extension attribute");
  auto proof_raw = base64_decode(proof_attr->value);
  if (!proof_raw || proof_raw->size() != Key{}.size())
    return fail("proof is not 32 bytes of base64");
  Key proof{};
  std::copy(proof_raw->begin(), proof_raw->end(), proof.begin());

  std::string_view without_proof = msg.substr(0, msg.size() - tokens.back().size() - 1);
  std::string auth_message =
      client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);

  Key signature = crypto::hmac_sha256(crypto::view(secret_.stored_key), auth_message);
  Key client_key = crypto::xor_keys(proof, signature);
  if (!crypto::equal_ct(crypto::sha256(crypto::view(client_key)), secret_.stored_key)) {
    crypto::cleanse(client_key);
    error = "SCRAM client proof does not match the stored verifier (wrong password)";
    step_ = kFailed;
    failure_ = ScramFailure::WrongProof;
    return std::nullopt;
  }
  client_key_ = client_key;
  crypto::cleanse(client_key);
  step_ = kDone;
  return "v=" +
         base64_encode(crypto::view(scram::server_signature(secret_.server_key, auth_message)));
}

}  // namespace pgopt::pooler::auth
