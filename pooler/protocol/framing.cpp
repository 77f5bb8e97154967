// Message framing: splitting byte buffers into typed/startup frames, and the Reader/Writer
// primitives.
#include <cstring>
#include <string>

#include "pooler/protocol/codec.hpp"

namespace pgopt::protocol {
namespace {

uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void store_be32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

// Shared length check for both frame kinds. The length field is signed on the wire (the server
// reads it as int32), so values with the top bit set are reported as the negative numbers they are.
std::string check_length(uint32_t len, uint32_t min_len, uint32_t max_len, const char* what) {
  auto signed_len = static_cast<int32_t>(len);
  if (signed_len < static_cast<int32_t>(min_len)) {
    return std::string("invalid ") + what + " length " + std::to_string(signed_len);
  }
  if (len > max_len) {
    return std::string(what) + " length " + std::to_string(len) + " exceeds max_packet_size " +
           std::to_string(max_len);
  }
  return {};
}

}  // namespace

DecodeResult decode_frame(std::span<const uint8_t> buf, uint32_t max_len) {
  DecodeResult r;
  if (buf.size() < 5) return r;  // NeedMore
  uint32_t len = load_be32(buf.data() + 1);
  if (auto err = check_length(len, 4, max_len, "message"); !err.empty()) {
    r.status = DecodeStatus::Malformed;
    r.error = std::move(err);
    return r;
  }
  // Compare in size_t: 1 + len cannot overflow because len <= INT32_MAX was checked above.
  size_t total = size_t{1} + len;
  if (buf.size() < total) return r;
  r.status = DecodeStatus::Frame;
  r.frame.type = static_cast<char>(buf[0]);
  r.frame.body = buf.subspan(5, len - 4);
  r.frame.size = total;
  return r;
}

bool reply_ready(std::span<const uint8_t> buf) {
  for (size_t pos = 0; buf.size() - pos >= 5;) {
    const uint32_t len = load_be32(buf.data() + pos + 1);
    if (len < 4 || len > INT32_MAX) return true;
    const size_t total = size_t{1} + len;
    if (buf.size() - pos < total) return false;
    if (buf[pos] == 'Z') return true;
    pos += total;
  }
  return false;
}

StartupDecodeResult decode_startup(std::span<const uint8_t> buf, uint32_t max_len) {
  StartupDecodeResult r;
  if (buf.size() < 4) return r;
  uint32_t len = load_be32(buf.data());
  if (auto err = check_length(len, 8, max_len, "startup packet"); !err.empty()) {
    r.status = DecodeStatus::Malformed;
    r.error = std::move(err);
    return r;
  }
  if (buf.size() < len) return r;
  r.status = DecodeStatus::Frame;
  r.frame.code = load_be32(buf.data() + 4);
  r.frame.payload = buf.subspan(8, len - 8);
  r.frame.size = len;
  return r;
}

// ---- Reader -------------------------------------------------------------------------------------

uint8_t Reader::u8() {
  if (failed_ || remaining() < 1) {
    failed_ = true;
    return 0;
  }
  return data_[pos_++];
}

int16_t Reader::i16() {
  if (failed_ || remaining() < 2) {
    failed_ = true;
    return 0;
  }
  auto v = static_cast<uint16_t>((uint16_t{data_[pos_]} << 8) | data_[pos_ + 1]);
  pos_ += 2;
  return static_cast<int16_t>(v);
}

int32_t Reader::i32() {
  if (failed_ || remaining() < 4) {
    failed_ = true;
    return 0;
  }
  uint32_t v = load_be32(data_.data() + pos_);
  pos_ += 4;
  return static_cast<int32_t>(v);
}

std::string_view Reader::cstr() {
  if (failed_ || remaining() == 0) {
    failed_ = true;
    return {};
  }
  const auto* start = data_.data() + pos_;
  const void* nul = std::memchr(start, 0, remaining());
  if (nul == nullptr) {
    failed_ = true;
    return {};
  }
  size_t n = static_cast<size_t>(static_cast<const uint8_t*>(nul) - start);
  pos_ += n + 1;
  return {reinterpret_cast<const char*>(start), n};
}

std::span<const uint8_t> Reader::bytes(size_t n) {
  if (failed_ || remaining() < n) {
    failed_ = true;
    return {};
  }
  auto s = data_.subspan(pos_, n);
  pos_ += n;
  return s;
}

std::span<const uint8_t> Reader::rest() {
  if (failed_) return {};
  auto s = data_.subspan(pos_);
  pos_ = data_.size();
  return s;
}

// ---- Writer -------------------------------------------------------------------------------------
// start_ records where the length field sits; end() patches it with everything written since.

Writer& Writer::begin(char type) {
  out_.push_back(type);
  start_ = out_.size();
  out_.append(4, '\0');
  return *this;
}

Writer& Writer::begin_untyped() {
  start_ = out_.size();
  out_.append(4, '\0');
  return *this;
}

Writer& Writer::u8(uint8_t v) {
  out_.push_back(static_cast<char>(v));
  return *this;
}

Writer& Writer::i16(int16_t v) {
  auto u = static_cast<uint16_t>(v);
  out_.push_back(static_cast<char>(u >> 8));
  out_.push_back(static_cast<char>(u));
  return *this;
}

Writer& Writer::i32(int32_t v) {
  char b[4];
  store_be32(b, static_cast<uint32_t>(v));
  out_.append(b, 4);
  return *this;
}

Writer& Writer::cstr(std::string_view s) {
  // A C string cannot carry NUL: writing one would end the field early and shift every later field,
  // desynchronising the peer. Truncating at the first NUL keeps the stream well-framed.
  if (auto nul = s.find('\0'); nul != std::string_view::npos) s = s.substr(0, nul);
  out_.append(s);
  out_.push_back('\0');
  return *this;
}

Writer& Writer::raw(std::string_view s) {
  out_.append(s);
  return *this;
}

Writer& Writer::raw(std::span<const uint8_t> s) {
  out_.append(reinterpret_cast<const char*>(s.data()), s.size());
  return *this;
}

void Writer::end() {
  store_be32(out_.data() + start_, static_cast<uint32_t>(out_.size() - start_));
}

}  // namespace pgopt::protocol
