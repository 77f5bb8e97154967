// Collecting the bytes of one statement's reply as the relay forwards them, and deciding whether
// they may be stored: exactly RowDescription, DataRow*, CommandComplete, nothing else. Socket-free,
// one per statement being filled; the relay already frames the server's messages and hands them
// over whole.
//
// Rules:
// - ParseComplete and BindComplete are skipped (not stored): a hit answers the client's own
//   Parse/Bind as its protocol requires, which the relay does for prepared statements already.
// - The stored reply always starts with RowDescription. An extended-protocol Execute without a
//   Describe gets no RowDescription from the server: such a reply is abandoned, not stored without
//   it (a later simple-protocol client with the same key needs it). A hit for a client that did not
//   Describe skips it (row_description_size()).
// - Anything else abandons the capture: ErrorResponse (no answer), NoticeResponse and
//   ParameterStatus (the statement did more than answer), PortalSuspended (an Execute row limit:
//   a partial answer), EmptyQueryResponse, COPY, NotificationResponse (not part of the answer,
//   and to be relayed, not replayed), NoData.
// - Past max_bytes the capture is abandoned and its bytes freed at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pgopt::pooler::cache {

class ReplyCapture {
 public:
  explicit ReplyCapture(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  // One whole server message: type byte, int32 length, body. False once abandoned (the relay may
  // stop feeding it); the message is still the relay's to forward either way.
  bool on_message(std::string_view message);

  bool abandoned() const { return !why_not_.empty(); }
  // CommandComplete seen after a RowDescription, and nothing abandoned the capture.
  bool complete() const { return complete_ && !abandoned(); }
  std::string_view why_not() const { return why_not_; }
  // The reply bytes; only meaningful when complete(). Leaves the capture empty.
  std::string take() { return std::move(bytes_); }

 private:
  void abandon(std::string why);

  uint64_t max_bytes_;
  std::string bytes_;
  std::string why_not_;
  bool described_ = false;
  bool complete_ = false;
};

// Size of the RowDescription at the start of a stored reply (type byte + length), or 0 when the
// bytes do not start with one; a hit for a client that did not Describe sends what follows it.
size_t row_description_size(std::string_view reply);

}  // namespace pgopt::pooler::cache
