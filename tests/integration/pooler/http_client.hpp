// Reading the pooler's HTTP endpoint (/metrics, /healthz) from integration tests: a quiet port for
// it (support/loopback.hpp), one request per connection, one series' value from a /metrics page.
#pragma once

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "harness.hpp"
#include "support/loopback.hpp"

namespace pgopt::test {

struct HttpReply {
  int status = 0;  // 0: no reply (connection refused or closed first)
  std::string head, body;
};

// One request on a fresh connection, read until the server closes it.
inline HttpReply http(int port, const std::string& request) {
  HttpReply r;
  const int fd = dial(port);
  if (fd < 0) return r;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += size_t(n);
  }
  std::string in;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) in.append(buf, size_t(n));
  ::close(fd);
  auto end = in.find("\r\n\r\n");
  if (in.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) return r;
  r.status = std::atoi(in.c_str() + 9);
  r.head = in.substr(0, end);
  r.body = in.substr(end + 4);
  return r;
}

inline HttpReply get(int port, const std::string& path, const std::string& method = "GET") {
  return http(port, method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
}

// The value of one series (`name{labels}` exactly as rendered); -1 when absent.
inline double metric(const std::string& page, const std::string& series) {
  const std::string needle = "\n" + series + " ";
  auto at = page.find(needle);
  if (at == std::string::npos) return -1;
  return std::strtod(page.c_str() + at + needle.size(), nullptr);
}

}  // namespace pgopt::test
