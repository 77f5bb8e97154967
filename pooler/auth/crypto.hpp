// Internal: the OpenSSL hash, MAC and key-derivation calls SCRAM and MD5 need, in one place.
#pragma once

#include <string>
#include <string_view>

#include "pooler/auth/scram.hpp"

namespace pgopt::pooler::auth::crypto {

// OpenSSL failing here means the library is unusable (allocation failure, missing provider), not
// bad input, so these throw std::runtime_error rather than returning errors.
Key sha256(std::string_view data);
Key hmac_sha256(std::string_view key, std::string_view data);
Key pbkdf2_sha256(std::string_view password, std::string_view salt, int iterations);
std::string md5_digest(std::string_view data);  // 16 raw bytes

// Constant time in the contents, so a mismatch position never leaks through timing.
bool equal_ct(const Key& a, const Key& b);
Key xor_keys(const Key& a, const Key& b);
std::string_view view(const Key& k);
// Wipes key material that lived only on the stack, so it is not left behind in freed memory.
void cleanse(Key& k);

}  // namespace pgopt::pooler::auth::crypto
