// A hand-rolled protocol client for tests that must send what libpq never would.
#pragma once

#include "harness.hpp"

#include <poll.h>

#include <cstring>
#include <functional>

namespace pgopt::test {

struct RawMessage {
  char type = 0;
  std::string body;
};

class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }

  static void put32(std::string& s, uint32_t v) {
    uint32_t n = htonl(v);
    s.append(reinterpret_cast<const char*>(&n), 4);
  }
  bool send_raw(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size());
  }
  bool send_startup(uint32_t version, const std::vector<std::pair<std::string, std::string>>& params) {
    std::string body;
    put32(body, version);
    for (auto& [k, v] : params) body += k + '\0' + v + '\0';
    body += '\0';
    std::string msg;
    put32(msg, uint32_t(body.size() + 4));
    return send_raw(msg + body);
  }
  bool send_message(char type, const std::string& body) {
    std::string msg(1, type);
    put32(msg, uint32_t(body.size() + 4));
    return send_raw(msg + body);
  }
  // Exactly n bytes, or fewer if the peer closed / the deadline passed.
  std::string read_bytes(size_t n, std::chrono::milliseconds patience = std::chrono::seconds(5)) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + patience;
    while (out.size() < n) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, int(left.count())) <= 0) break;
      char buf[4096];
      ssize_t k = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (k <= 0) {
        eof_ = true;
        break;
      }
      out.append(buf, size_t(k));
    }
    return out;
  }
  std::optional<RawMessage> read_message() {
    std::string head = read_bytes(5);
    if (head.size() < 5) return std::nullopt;
    uint32_t len;
    std::memcpy(&len, head.data() + 1, 4);
    len = ntohl(len);
    if (len < 4) return std::nullopt;
    RawMessage m{head[0], read_bytes(len - 4)};
    if (m.body.size() != len - 4) return std::nullopt;
    return m;
  }
  // Reads until ReadyForQuery or an ErrorResponse; returns everything read.
  std::vector<RawMessage> read_until_ready_or_error() {
    std::vector<RawMessage> out;
    while (auto m = read_message()) {
      out.push_back(*m);
      if (m->type == 'Z' || m->type == 'E') break;
    }
    return out;
  }
  // True when the peer has closed the connection (reads return EOF).
  bool closed_by_peer() {
    read_bytes(1 << 20, std::chrono::seconds(3));
    return eof_;
  }
  // An ErrorResponse's SQLSTATE ('C' field).
  static std::string sqlstate(const RawMessage& m) {
    size_t i = 0;
    while (i < m.body.size() && m.body[i] != '\0') {
      char f = m.body[i++];
      size_t end = m.body.find('\0', i);
      if (end == std::string::npos) break;
      if (f == 'C') return m.body.substr(i, end - i);
      i = end + 1;
    }
    return "";
  }
  // Logs in with trust; true when ReadyForQuery arrived.
  bool login(const std::string& user = "postgres", const std::string& db = "pgopt_test") {
    if (!send_startup(196608, {{"user", user}, {"database", db}})) return false;
    auto msgs = read_until_ready_or_error();
    return !msgs.empty() && msgs.back().type == 'Z';
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
};

}  // namespace pgopt::test
