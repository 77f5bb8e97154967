// Shared helpers for the protocol unit tests: byte conversions and a relay-loop style frame reader.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pooler/protocol/codec.hpp"

namespace pgopt::protocol::test {

inline std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

inline std::string as_string(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

inline std::string from_hex(std::string_view hex) {
  std::string out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int hi = -1;
  for (char c : hex) {
    int v = nibble(c);
    if (v < 0) continue;  // allow spaces and line breaks for readability
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<char>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

// A whole typed message from its type and raw body (length computed by the Writer under test's
// sibling, so tests that check the Writer itself spell lengths out by hand instead).
inline std::string message(char type, std::string_view body) {
  std::string out;
  Writer(out).begin(type).raw(body).end();
  return out;
}

struct OwnedFrame {
  char type;
  std::string body;
  bool operator==(const OwnedFrame&) const = default;
};

// Mimics the pooler's relay loop: bytes arrive in arbitrary pieces, complete frames are taken off
// the front of the buffer, NeedMore waits for the next piece.
class FrameCollector {
 public:
  explicit FrameCollector(uint32_t max_len = 1u << 20) : max_len_(max_len) {}

  // Returns false once the stream turned out malformed.
  bool feed(std::string_view piece) {
    buf_.append(piece);
    for (;;) {
      auto r = decode_frame(as_bytes(std::string_view(buf_).substr(pos_)), max_len_);
      if (r.status == DecodeStatus::NeedMore) break;
      if (r.status == DecodeStatus::Malformed) {
        error_ = r.error;
        return false;
      }
      frames_.push_back({r.frame.type, as_string(r.frame.body)});
      pos_ += r.frame.size;
    }
    if (pos_ > 4096) {  // compact like a real ring of buffers would
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    return true;
  }

  const std::vector<OwnedFrame>& frames() const { return frames_; }
  size_t pending() const { return buf_.size() - pos_; }
  const std::string& error() const { return error_; }

 private:
  uint32_t max_len_;
  std::string buf_;
  size_t pos_ = 0;
  std::vector<OwnedFrame> frames_;
  std::string error_;
};

}  // namespace pgopt::protocol::test
