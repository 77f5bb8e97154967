// Reading the pooler's HTTP endpoint (/metrics, /healthz) from integration tests: a quiet port for
// it, one request per connection, one series' value from a /metrics page.
#pragma once

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "harness.hpp"

namespace pgopt::test {

// A port for the metrics endpoint below the kernel's ephemeral range (ip_local_port_range starts at
// 32768 here), checked free by binding it. free_port()'s ephemeral ports can be taken by an
// outgoing connection before pgopt, which binds the endpoint late in its startup, gets there (seen
// once in CI under ASan: "cannot listen on 127.0.0.1:40753 for metrics: Address already in use").
inline int quiet_port() {
  static unsigned seed = unsigned(::getpid()) * 2654435761u;
  for (int attempt = 0; attempt < 200; ++attempt) {
    seed = seed * 1103515245u + 12345u;
    const int port = 20000 + int((seed >> 8) % 12000);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (ok) return port;
  }
  return free_port();
}

struct HttpReply {
  int status = 0;  // 0: no reply (connection refused or closed first)
  std::string head, body;
};

// One request on a fresh connection, read until the server closes it.
inline HttpReply http(int port, const std::string& request) {
  HttpReply r;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return r;
  }
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
