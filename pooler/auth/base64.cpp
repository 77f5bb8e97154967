// Base64 (RFC 4648, standard alphabet, padded) as SCRAM and pg_authid use it.
#include <openssl/evp.h>

#include <algorithm>
#include <array>

#include "pooler/auth/scram.hpp"

namespace pgopt::pooler::auth {

std::string base64_encode(std::string_view raw) {
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  // EVP_EncodeBlock takes an int length and writes a NUL; a multiple-of-3 chunk keeps the pieces
  // concatenable without padding in the middle.
  constexpr size_t kChunk = 3 * 4096;
  unsigned char buf[kChunk / 3 * 4 + 1];
  for (size_t pos = 0; pos < raw.size(); pos += kChunk) {
    size_t n = std::min(kChunk, raw.size() - pos);
    int len = EVP_EncodeBlock(buf, reinterpret_cast<const unsigned char*>(raw.data() + pos),
                              static_cast<int>(n));
    out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(len));
  }
  return out;
}

namespace {

constexpr std::array<int8_t, 256> make_table() {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr auto kDecode = make_table();

}  // namespace

// Hand-written because EVP_DecodeBlock is lax in ways that matter here: it skips surrounding
// whitespace and returns the padding as decoded zero bytes. This one accepts only the canonical
// encoding (length % 4 == 0, '=' only as the last one or two characters, unused bits zero), so
// every byte string has exactly one accepted spelling.
std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = (text[text.size() - 2] == '=') ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    size_t data_chars = last ? 4 - pad : 4;
    uint32_t acc = 0;
    for (size_t j = 0; j < 4; ++j) {
      int v = 0;
      if (j < data_chars) {
        v = kDecode[static_cast<uint8_t>(text[i + j])];
        if (v < 0) return std::nullopt;
      }
      acc = (acc << 6) | static_cast<uint32_t>(v);
    }
    // Non-canonical: bits that padding says are unused must be zero.
    if (last && pad == 1 && (acc & 0xFF) != 0) return std::nullopt;
    if (last && pad == 2 && (acc & 0xFFFF) != 0) return std::nullopt;
    out.push_back(static_cast<char>((acc >> 16) & 0xFF));
    if (data_chars > 2) out.push_back(static_cast<char>((acc >> 8) & 0xFF));
    if (data_chars > 3) out.push_back(static_cast<char>(acc & 0xFF));
  }
  return out;
}

}  // namespace pgopt::pooler::auth
