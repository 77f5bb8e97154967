// Messages with file descriptors attached (SCM_RIGHTS) over a Unix SOCK_SEQPACKET socket: how an
// old pgopt process hands its listening sockets and idle clients to the new one (takeover).
//
// SEQPACKET keeps each message whole and its descriptors with it, so a receiver never has to match
// descriptors to the bytes of a stream. A message is one kind byte and a payload, at most
// kMaxMessage bytes (a client whose state is larger is not moved: it drains instead).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgopt::pooler::fleet {

inline constexpr size_t kMaxMessage = 128 * 1024;
inline constexpr size_t kMaxFds = 16;

struct FdMessage {
  char kind = 0;
  std::string payload;
  std::vector<int> fds;  // owned by the receiver: close what it does not keep
};

// A listening SEQPACKET socket at `path` (an old file there is removed first), mode 0600. -1 and
// `error` set on failure.
int listen_unix(const std::string& path, std::string& error);
int connect_unix(const std::string& path, std::string& error);
// One whole message; blocks up to 2 s for buffer space (the receiver reads continuously). The
// descriptors stay the caller's (the kernel gives the receiver its own).
bool send_message(int sock, char kind, std::string_view payload, std::span<const int> fds, std::string& error);
enum class Received { Message, WouldBlock, Closed, Error };
// One message if one is waiting (the socket may be non-blocking). A message with its descriptors
// cut (MSG_CTRUNC) or its bytes cut (MSG_TRUNC) is an Error, its descriptors closed.
Received receive_message(int sock, FdMessage& out, std::string& error);

}  // namespace pgopt::pooler::fleet
