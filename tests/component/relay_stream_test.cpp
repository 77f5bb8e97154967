// How server bytes reach the client: cut anywhere (byte at a time, at every message boundary, at
// odd offsets) and a DataRow far bigger than any buffer of the pooler's.
#include <fstream>

#include "component_fixture.hpp"

namespace pgopt::test {
namespace {

using Rows = std::vector<std::vector<std::optional<std::string>>>;

// Rows of varied widths, with NULLs, so a byte lost, doubled or moved shows in some value.
Rows varied_rows() {
  Rows rows;
  for (int i = 0; i < 24; ++i) {
    std::optional<std::string> s;
    if (i % 5 != 0) s = std::string(size_t(i) * 7 + 1, char('a' + i % 26));
    rows.push_back({std::to_string(i), s});
  }
  return rows;
}

void expect_rows(PGconn* c, const PGresult* r, const Rows& rows) {
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(c);
  ASSERT_EQ(PQntuples(r), int(rows.size()));
  ASSERT_EQ(PQnfields(r), 2);
  for (int i = 0; i < PQntuples(r); ++i) {
    EXPECT_EQ(PQgetvalue(r, i, 0), *rows[size_t(i)][0]);
    if (rows[size_t(i)][1]) EXPECT_EQ(PQgetvalue(r, i, 1), *rows[size_t(i)][1]) << "row " << i;
    else EXPECT_TRUE(PQgetisnull(r, i, 1)) << "row " << i;
  }
}

TEST_F(Component, ReplyCutByteAtATimeOrAtEveryBoundaryReachesTheClientIntact) {
  const Rows rows = varied_rows();
  const std::string reply = FakeBackend::result({"n", "s"}, rows);
  start([reply](FakeConn& c) {
    c.expect('Q');
    c.send_bytewise(reply);
    c.expect('Q');
    c.send_per_message(reply);
    c.expect('Q');
    std::vector<size_t> cuts;  // odd offsets: inside headers, lengths and values alike
    for (size_t at = 3; at < reply.size(); at += 13) cuts.push_back(at);
    c.send_cut(reply, cuts);
    serve_queries(c);
  }, [] {
    PoolerOptions o;
    o.pool_size = 1;
    o.workers = 1;
    return o;
  }());
  Conn a = connect_ok(pooler->conninfo());
  for (const char* sql : {"SELECT 'bytewise'", "SELECT 'per message'", "SELECT 'odd cuts'"}) {
    SCOPED_TRACE(sql);
    Result r = exec(a.get(), sql);
    expect_rows(a.get(), r.get(), rows);
  }
  // The pooler framed the cut replies too (the client alone could not tell): it saw each
  // ReadyForQuery, so the one server went back to the pool and the next client gets it.
  Conn b = connect_ok(pooler->conninfo());
  EXPECT_EQ(value_within(b.get(), "SELECT 'b'"), "b");
  EXPECT_EQ(fake->queries(0),
            (std::vector<std::string>{"SELECT 'bytewise'", "SELECT 'per message'", "SELECT 'odd cuts'", "SELECT 'b'"}));
  EXPECT_EQ(fake->connections(), 1);
}

// Peak resident set of a process in bytes (VmHWM), or -1.
long peak_rss(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmHWM:") {
      long kb = 0;
      in >> kb;
      return kb * 1024;
    }
    std::string rest;
    std::getline(in, rest);
  }
  return -1;
}

TEST_F(Component, FourMegabyteDataRowStreamsThroughWithoutBeingHeldWhole) {
  constexpr size_t kRow = 4u << 20;
  std::string big(kRow, '\0');
  for (size_t i = 0; i < kRow; ++i) big[i] = char('A' + (i * 2654435761u >> 7) % 26);  // no repeats to hide a shift
  std::string reply = FakeBackend::result({"big"}, {{big}});
  start([reply](FakeConn& c) {
    serve_queries(c, [&](FakeConn& conn, const std::string& sql) {
      if (sql != "SELECT 'big'") return false;
      std::vector<size_t> cuts;  // 64 kB writes, as a server flushes its output buffer
      for (size_t at = 1000; at < reply.size(); at += 65536) cuts.push_back(at);
      conn.send_cut(reply, cuts);
      return true;
    });
  }, [] {
    PoolerOptions o;
    o.pool_size = 1;
    o.workers = 1;
    return o;
  }());
  Conn a = connect_ok(pooler->conninfo());
  EXPECT_EQ(value(a.get(), "SELECT 'warm'"), "warm");
  const long before = peak_rss(pooler->pid);
  Result r = exec(a.get(), "SELECT 'big'");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(a.get());
  ASSERT_EQ(size_t(PQgetlength(r.get(), 0, 0)), kRow);
  EXPECT_TRUE(std::string(PQgetvalue(r.get(), 0, 0), kRow) == big) << "the row arrived changed";
  const long after = peak_rss(pooler->pid);
  std::cerr << "pgopt peak RSS before " << before / 1024 << " kB, after the 4 MB row " << after / 1024 << " kB\n";
  ASSERT_GT(before, 0);
  // Streamed, the row passes through the relay's buffer a chunk at a time; held whole it would add
  // at least its own size to the peak.
  EXPECT_LT(after - before, long(kRow) / 2);
  // And the pooler kept the row's framing: it saw the ReadyForQuery after it and released the server.
  Conn b = connect_ok(pooler->conninfo());
  EXPECT_EQ(value_within(b.get(), "SELECT 'b'"), "b");
  EXPECT_EQ(fake->connections(), 1);
}


// CopyOutResponse/CopyInResponse ('H'/'G'): text format, `columns` columns.
std::string copy_response(char type, int columns) {
  std::string out;
  protocol::Writer w(out);
  w.begin(type).u8(0).i16(int16_t(columns));
  for (int i = 0; i < columns; ++i) w.i16(0);
  w.end();
  return out;
}

TEST_F(Component, CopyOutCutByteAtATimeAndCopyInReachTheirEndsIntact) {
  const std::vector<std::string> lines{"1\tone\n", std::string(5000, 'w') + "\n", "3\tthree\n"};
  start([lines](FakeConn& c) {
    serve_queries(c, [&](FakeConn& conn, const std::string& sql) {
      std::string out;
      if (sql == "COPY t TO STDOUT") {
        out = copy_response('H', 2);
        for (const auto& l : lines) protocol::Writer(out).begin('d').raw(l).end();
        protocol::Writer(out).begin('c').end();
        protocol::command_complete(out, "COPY 3");
        protocol::ready_for_query(out, 'I');
        conn.send_bytewise(out);
        return true;
      }
      if (sql != "COPY t FROM STDIN") return false;
      conn.send(copy_response('G', 2));
      const auto got = conn.until('c');  // CopyData..., CopyDone
      protocol::command_complete(out, "COPY " + std::to_string(got.size() - 1));
      protocol::ready_for_query(out, 'I');
      conn.send(out);
      return true;
    });
  });
  Conn a = connect_ok(pooler->conninfo());
  Result out(PQexec(a.get(), "COPY t TO STDOUT"));
  ASSERT_EQ(PQresultStatus(out.get()), PGRES_COPY_OUT) << PQerrorMessage(a.get());
  std::vector<std::string> got;
  char* line = nullptr;
  for (int n; (n = PQgetCopyData(a.get(), &line, 0)) > 0; PQfreemem(line)) got.emplace_back(line, size_t(n));
  EXPECT_EQ(got, lines);
  Result done(PQgetResult(a.get()));
  EXPECT_EQ(PQresultStatus(done.get()), PGRES_COMMAND_OK);
  EXPECT_EQ(PQgetResult(a.get()), nullptr);

  Result in(PQexec(a.get(), "COPY t FROM STDIN"));
  ASSERT_EQ(PQresultStatus(in.get()), PGRES_COPY_IN) << PQerrorMessage(a.get());
  for (const auto& l : lines) ASSERT_EQ(PQputCopyData(a.get(), l.data(), int(l.size())), 1);
  ASSERT_EQ(PQputCopyEnd(a.get(), nullptr), 1);
  Result copied(PQgetResult(a.get()));
  EXPECT_EQ(PQresultStatus(copied.get()), PGRES_COMMAND_OK) << PQerrorMessage(a.get());
  EXPECT_STREQ(PQcmdTuples(copied.get()), "3");
  EXPECT_EQ(PQgetResult(a.get()), nullptr);
  // What the server got: the client's rows, whole and in order (libpq may merge them; compare bytes).
  std::string sent, received;
  for (const auto& l : lines) sent += l;
  for (const auto& m : fake->received(0))
    if (m.type == 'd') received += m.body;
  EXPECT_EQ(received, sent);
  EXPECT_EQ(value(a.get(), "SELECT 'after copy'"), "after copy");
}

}  // namespace
}  // namespace pgopt::test
