// The SCRAM-SHA-256 verifier as pg_authid.rolpassword stores it: building, parsing, printing.
#include <algorithm>
#include <stdexcept>

#include "pooler/auth/crypto.hpp"
#include "pooler/auth/scram.hpp"
#include "pooler/auth/scram_common.hpp"

namespace pgopt::pooler::auth {

namespace {

constexpr std::string_view kPrefix = "SCRAM-SHA-256$";

std::optional<Key> decode_key(std::string_view b64) {
  auto raw = base64_decode(b64);
  if (!raw || raw->size() != Key{}.size()) return std::nullopt;
  Key k{};
  std::copy(raw->begin(), raw->end(), k.begin());
  return k;
}

}  // namespace

std::optional<ScramSecret> parse_scram_verifier(std::string_view v) {
  if (!v.starts_with(kPrefix)) return std::nullopt;
  v.remove_prefix(kPrefix.size());
  // <iter>:<salt>$<StoredKey>:<ServerKey>; base64 has no ':' or '$', so the separators are exact.
  size_t colon1 = v.find(':');
  size_t dollar = v.find('$');
  if (colon1 == std::string_view::npos || dollar == std::string_view::npos || dollar < colon1)
    return std::nullopt;
  size_t colon2 = v.find(':', dollar);
  if (colon2 == std::string_view::npos) return std::nullopt;

  auto iterations = scram::parse_iterations(v.substr(0, colon1));
  auto salt = base64_decode(v.substr(colon1 + 1, dollar - colon1 - 1));
  auto stored = decode_key(v.substr(dollar + 1, colon2 - dollar - 1));
  auto server = decode_key(v.substr(colon2 + 1));
  if (!iterations || !salt || salt->empty() || !stored || !server) return std::nullopt;
  return ScramSecret{*iterations, std::move(*salt), *stored, *server};
}

std::string format_scram_verifier(const ScramSecret& s) {
  return std::string(kPrefix) + std::to_string(s.iterations) + ":" + base64_encode(s.salt) + "$" +
         base64_encode(crypto::view(s.stored_key)) + ":" +
         base64_encode(crypto::view(s.server_key));
}

ScramSecret make_scram_secret(std::string_view password, std::string_view salt, int iterations) {
  if (iterations < 1) throw std::invalid_argument("make_scram_secret: iterations must be >= 1");
  auto keys = scram::keys_from_password(password, salt, iterations);
  ScramSecret s;
  s.iterations = iterations;
  s.salt = std::string(salt);
  s.stored_key = crypto::sha256(crypto::view(keys.client_key));
  s.server_key = keys.server_key;
  crypto::cleanse(keys.client_key);
  return s;
}

}  // namespace pgopt::pooler::auth
