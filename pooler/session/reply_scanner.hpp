// The server -> client direction of the relay without sockets: cuts what a server sent into
// messages, lets a listener judge each one, and says which bytes go on to the client.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace pgopt::pooler::session {

// What the listener decides for one server message.
enum class Verdict {
  Forward,  // the client gets it as the server sent it
  Drop,     // the client never sees it (a hidden BEGIN's replies, a reply to the pooler's own Parse)
  Replace,  // the client gets `replacement` instead (appended by the listener)
  Stop,     // scanning ends before this message, which stays unread (the listener knows why)
};

// The relay's judgement of server messages (Envoy's decoder callbacks): the scanner never looks
// inside a message, the listener never cuts bytes.
class ReplyListener {
 public:
  virtual ~ReplyListener() = default;
  // Whether messages of this type must be judged whole. The others may be larger than what was
  // read so far: they are judged by type alone, with an empty body, and forwarded as they stream
  // by (a large DataRow or CopyData is never buffered whole).
  virtual bool needs_body(char type) const = 0;
  // One message: `body` is its payload (empty and `streamed` when judged by type alone, in which
  // case only Forward and Stop are allowed).
  virtual Verdict on_message(char type, std::span<const uint8_t> body, bool streamed, std::string& replacement) = 0;
};

// Rules: a message is judged exactly once, in stream order, when it is complete or, if its type
// allows streaming, when its header has arrived; the bytes of a streamed message go to the client
// as they arrive (stream_left() of them are still to come); output preserves the server's order
// with dropped messages cut out and replacements in their place; a Stop leaves its message and
// everything after it unread, and a message length below 4 is Malformed (the connection is
// unusable). Holds no bytes between calls: what is not consumed stays in the caller's buffer.
class ReplyScanner {
 public:
  ReplyScanner() = default;
  // Taking over a server in the middle of a streamed message (the relay's, after its client left).
  explicit ReplyScanner(size_t stream_left) : stream_left_(stream_left) {}

  enum class Status { Ok, Stopped, Malformed };
  struct Result {
    Status status = Status::Ok;
    size_t consumed = 0;            // bytes of the input dealt with: consume them from the buffer
    std::span<const uint8_t> out;   // for the client: the input's first bytes, or the scanner's copy
  };
  Result scan(std::span<const uint8_t> data, ReplyListener& listener);
  size_t stream_left() const { return stream_left_; }  // bytes of a streamed message still to come
  // Ended from outside (the server connection is given up): nothing is streaming any more.
  void reset() { stream_left_ = 0; }

 private:
  size_t stream_left_ = 0;
  std::string copy_;  // the output when something was dropped or replaced
};

}  // namespace pgopt::pooler::session
