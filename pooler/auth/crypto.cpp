// OpenSSL 3 wrappers for SHA-256, HMAC-SHA-256, PBKDF2, MD5 and the random source.
#include "pooler/auth/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <climits>
#include <stdexcept>

namespace pgopt::pooler::auth {

namespace {

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

[[noreturn]] void openssl_failed(const char* what) {
  throw std::runtime_error(std::string("OpenSSL ") + what + " failed");
}

int checked_int(size_t n, const char* what) {
  if (n > static_cast<size_t>(INT_MAX))
    throw std::length_error(std::string(what) + ": input too large");
  return static_cast<int>(n);
}

}  // namespace

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  // RAND_bytes takes an int; chunk so any size works.
  size_t done = 0;
  while (done < n) {
    int chunk = static_cast<int>(std::min<size_t>(n - done, 1 << 20));
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data() + done), chunk) != 1)
      openssl_failed("RAND_bytes");
    done += static_cast<size_t>(chunk);
  }
  return out;
}

namespace crypto {

Key sha256(std::string_view data) {
  Key out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != out.size())
    openssl_failed("SHA-256");
  return out;
}

Key hmac_sha256(std::string_view key, std::string_view data) {
  Key out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), checked_int(key.size(), "HMAC key"), bytes(data), data.size(),
           out.data(), &len) == nullptr ||
      len != out.size())
    openssl_failed("HMAC-SHA-256");
  return out;
}

Key pbkdf2_sha256(std::string_view password, std::string_view salt, int iterations) {
  Key out{};
  if (PKCS5_PBKDF2_HMAC(password.data(), checked_int(password.size(), "password"), bytes(salt),
                        checked_int(salt.size(), "salt"), iterations, EVP_sha256(),
                        static_cast<int>(out.size()), out.data()) != 1)
    openssl_failed("PBKDF2");
  return out;
}

std::string md5_digest(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, EVP_md5(), nullptr) != 1 || len != 16)
    openssl_failed("MD5");
  return std::string(reinterpret_cast<const char*>(out), len);
}

bool equal_ct(const Key& a, const Key& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Key xor_keys(const Key& a, const Key& b) {
  Key out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(a[i] ^ b[i]);
  return out;
}

std::string_view view(const Key& k) { return {reinterpret_cast<const char*>(k.data()), k.size()}; }

void cleanse(Key& k) { OPENSSL_cleanse(k.data(), k.size()); }

}  // namespace crypto
}  // namespace pgopt::pooler::auth
