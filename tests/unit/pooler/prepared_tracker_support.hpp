// What the prepared-statement tracker's unit tests share: protocol messages built by hand, a
// readable summary of what went to the server, and a fixture with one server's statements.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pooler/prepared/tracker.hpp"

namespace pgopt::pooler::prepared::test {

namespace proto = pgopt::protocol;

inline std::string msg(char type, const std::string& body) {
  std::string out;
  proto::Writer(out).begin(type).raw(body).end();
  return out;
}
inline std::string z(const std::string& s) { return s + '\0'; }
inline std::string parse(const std::string& name, const std::string& q) { return msg('P', z(name) + z(q) + std::string(2, '\0')); }
inline std::string bind(const std::string& name) { return msg('B', z("") + z(name) + std::string(6, '\0')); }
inline std::string describe_stmt(const std::string& name) { return msg('D', "S" + z(name)); }
inline std::string close_stmt(const std::string& name) { return msg('C', "S" + z(name)); }
inline std::string execute() { return msg('E', z("") + std::string(4, '\0')); }
inline std::string sync() { return msg('S', ""); }
inline std::string query(const std::string& q) { return msg('Q', z(q)); }

inline proto::Frame frame(const std::string& bytes) {
  auto r = proto::decode_frame({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, 1 << 20);
  EXPECT_EQ(r.status, proto::DecodeStatus::Frame);
  return r.frame;
}
inline std::span<const uint8_t> bytes_of(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// Message types in a byte stream, with statement names for P/B/D/C: "P(pgopt_1) B(pgopt_1) E S".
inline std::string describe_stream(const std::string& out) {
  std::string s;
  size_t pos = 0;
  while (pos < out.size()) {
    auto r = proto::decode_frame(bytes_of(out).subspan(pos), 1 << 20);
    if (r.status != proto::DecodeStatus::Frame) return s + " <bad>";
    if (!s.empty()) s += ' ';
    s += r.frame.type;
    proto::Reader rd(r.frame.body);
    if (r.frame.type == 'P') s += "(" + std::string(rd.cstr()) + ")";
    if (r.frame.type == 'B') {
      rd.cstr();
      s += "(" + std::string(rd.cstr()) + ")";
    }
    if (r.frame.type == 'D' || r.frame.type == 'C') {
      rd.u8();
      s += "(" + std::string(rd.cstr()) + ")";
    }
    pos += r.frame.size;
  }
  return s;
}

struct PreparedTracker : ::testing::Test {
  StatementRegistry registry;
  ServerStatements server;
  // Feeds client messages as one batch; returns what went to the server.
  std::string send(Tracker& t, std::vector<std::string> msgs, size_t capacity = 200) {
    std::string out;
    for (const auto& m : msgs) t.on_client_message(frame(m), bytes_of(m), server, capacity, &out);
    return out;
  }
  // A named Parse and Sync, answered as by a server that lacked the statement.
  void prepare(Tracker& t, const std::string& name, const std::string& sql) {
    send(t, {parse(name, sql), sync()});
    EXPECT_EQ(reply(t, '1').action, ReplyAction::Forward);
    EXPECT_EQ(reply(t, 'Z', "I").action, ReplyAction::Forward);
  }
  ReplyDecision reply(Tracker& t, char type, const std::string& body = {}) {
    return t.on_server_message(type, bytes_of(body), server);
  }
  static std::string error_body(const std::string& code) {
    std::string e;
    proto::error_response(e, "ERROR", code, "boom");
    return e.substr(5);
  }
};

inline std::string describe_portal() { return msg('D', "P" + z("")); }
// The query text of the first Parse in `out`.
inline std::string parse_text(const std::string& out) {
  size_t pos = 0;
  while (pos < out.size()) {
    auto r = proto::decode_frame(bytes_of(out).subspan(pos), 1 << 20);
    if (r.status != proto::DecodeStatus::Frame) break;
    if (r.frame.type == 'P') return std::string(proto::parse_parse(r.frame.body)->query);
    pos += r.frame.size;
  }
  return "<no Parse>";
}
inline std::string complete(const std::string& tag) {
  std::string out;
  proto::command_complete(out, tag);
  return out;
}
inline std::string error_msg(const std::string& code, const std::string& text) {
  std::string e;
  proto::error_response(e, "ERROR", code, text);
  return e;
}

}  // namespace pgopt::pooler::prepared::test
