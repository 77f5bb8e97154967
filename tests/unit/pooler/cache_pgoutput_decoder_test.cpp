// cache::PgoutputDecoder on hand-built pgoutput streams: every message type, a committed
// transaction's tables reported once at its Commit, keepalives, and every truncation of every
// message reported as malformed without changing the decoder's state.
#include "pooler/cache/pgoutput_decoder.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace pgopt::pooler::cache {
namespace {

namespace b = pgoutput_build;
using Status = PgoutputDecoder::Status;
using Cols = std::vector<std::string_view>;

struct Recorder : ChangeListener {
  std::vector<std::string> relations;
  std::vector<CommittedTransaction> commits;
  struct Keepalive {
    uint64_t wal_end;
    PgTimestamp time;
    bool reply;
  };
  std::vector<Keepalive> keepalives;
  void on_relation(uint32_t id, std::string_view schema, std::string_view table) override {
    relations.push_back(std::to_string(id) + ":" + std::string(schema) + "." + std::string(table));
  }
  void on_commit(const CommittedTransaction& tx) override { commits.push_back(tx); }
  void on_keepalive(uint64_t wal_end, PgTimestamp time, bool reply) override {
    keepalives.push_back({wal_end, time, reply});
  }
};

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string w(std::string_view message, uint64_t end = 0x100) { return b::xlog_data(0x10, end, 42, message); }

const Cols kCols{"id", "name"};
const Cols kRow{"1", "tea"};
const Cols kKey{"1"};

TEST(PgoutputDecoder, ReportsTheTablesOfACommittedTransactionAtItsCommit) {
  Recorder rec;
  PgoutputDecoder d(rec);
  const uint32_t products = 16385, orders = 16390;
  const uint32_t both[] = {orders};
  std::vector<std::string> stream{
      w(b::begin(0x500, 777, 9)),
      w(b::origin(0x400, "elsewhere")),
      w(b::type(90001, "public", "mood")),
      w(b::relation(products, "public", "products", kCols)),
      w(b::insert(products, kRow)),
      w(b::update(products, {}, kRow)),
      w(b::update(products, kKey, kRow)),
      w(b::relation(orders, "app", "orders", kCols)),
      w(b::remove(orders, kKey)),
      w(b::truncate(both, 0)),
      w(b::commit(0x500, 0x530, 777), 0x530),
  };
  for (const auto& m : stream) {
    ASSERT_EQ(d.on_copy_data(bytes(m)), Status::Ok) << d.error();
    if (&m != &stream.back()) {
      EXPECT_TRUE(rec.commits.empty());  // nothing before the Commit
    }
  }
  ASSERT_EQ(rec.commits.size(), 1u);
  const CommittedTransaction& tx = rec.commits[0];
  EXPECT_EQ(tx.tables, (std::vector<std::string>{"app.orders", "public.products"}));
  EXPECT_FALSE(tx.all);
  EXPECT_EQ(tx.commit_lsn, 0x500u);
  EXPECT_EQ(tx.end_lsn, 0x530u);
  EXPECT_EQ(tx.commit_time, 777);
  EXPECT_EQ(tx.xid, 9u);
  EXPECT_EQ(rec.relations, (std::vector<std::string>{"16385:public.products", "16390:app.orders"}));
  EXPECT_EQ(d.wal_end(), 0x530u);
  EXPECT_FALSE(d.in_transaction());
}

TEST(PgoutputDecoder, RelationsOutliveTheirTransactionAndAnEmptyOneReportsNoTables) {
  Recorder rec;
  PgoutputDecoder d(rec);
  for (const auto& m : {w(b::relation(7, "public", "t", kCols)), w(b::begin(1, 1, 1)), w(b::insert(7, kRow)),
                        w(b::commit(1, 2, 1)), w(b::begin(3, 3, 2)), w(b::update(7, {}, kRow)), w(b::commit(3, 4, 3)),
                        w(b::begin(5, 5, 3)), w(b::commit(5, 6, 5))})
    ASSERT_EQ(d.on_copy_data(bytes(m)), Status::Ok) << d.error();
  ASSERT_EQ(rec.commits.size(), 3u);
  EXPECT_EQ(rec.commits[1].tables, std::vector<std::string>{"public.t"});
  EXPECT_TRUE(rec.commits[2].tables.empty());
  EXPECT_FALSE(rec.commits[2].all);
}

TEST(PgoutputDecoder, AChangeToAnUnnamedRelationTouchesEverything) {
  Recorder rec;
  PgoutputDecoder d(rec);
  for (const auto& m : {w(b::begin(1, 1, 1)), w(b::insert(99, kRow)), w(b::commit(1, 2, 1))})
    ASSERT_EQ(d.on_copy_data(bytes(m)), Status::Ok) << d.error();
  ASSERT_EQ(rec.commits.size(), 1u);
  EXPECT_TRUE(rec.commits[0].all);
}

TEST(PgoutputDecoder, PgCatalogRelationsComeWithAnEmptySchema) {
  Recorder rec;
  PgoutputDecoder d(rec);
  for (const auto& m : {w(b::relation(5, "", "pg_class", kCols)), w(b::begin(1, 1, 1)), w(b::insert(5, kRow)),
                        w(b::commit(1, 2, 1))})
    ASSERT_EQ(d.on_copy_data(bytes(m)), Status::Ok);
  EXPECT_EQ(rec.commits.at(0).tables, std::vector<std::string>{"pg_catalog.pg_class"});
}

TEST(PgoutputDecoder, KeepalivesReportWhetherAReplyIsWanted) {
  Recorder rec;
  PgoutputDecoder d(rec);
  ASSERT_EQ(d.on_copy_data(bytes(b::keepalive(0x900, 12345, true))), Status::Ok);
  ASSERT_EQ(d.on_copy_data(bytes(b::keepalive(0x800, 12346, false))), Status::Ok);
  ASSERT_EQ(rec.keepalives.size(), 2u);
  EXPECT_EQ(rec.keepalives[0].wal_end, 0x900u);
  EXPECT_EQ(rec.keepalives[0].time, 12345);
  EXPECT_TRUE(rec.keepalives[0].reply);
  EXPECT_FALSE(rec.keepalives[1].reply);
  EXPECT_EQ(d.wal_end(), 0x900u);  // never goes back
}

// Every message cut at every length is malformed, reports nothing and leaves the state alone: the
// same stream fed whole afterwards gives exactly the one commit.
TEST(PgoutputDecoder, EveryTruncationIsMalformedAndChangesNothing) {
  const uint32_t ids[] = {7};
  const std::vector<std::string> stream{
      w(b::relation(7, "public", "t", kCols)), w(b::begin(1, 1, 1)),  w(b::origin(1, "o")),
      w(b::type(1, "public", "ty")),           w(b::insert(7, kRow)), w(b::update(7, kKey, kRow)),
      w(b::remove(7, kKey)),                   w(b::truncate(ids, 1)), w(b::commit(1, 2, 1)),
      b::keepalive(3, 4, true)};
  Recorder rec;
  PgoutputDecoder d(rec);
  for (const auto& m : stream) {
    for (size_t len = 0; len < m.size(); ++len) {
      const std::string cut = m.substr(0, len);
      const Status s = d.on_copy_data(bytes(cut));
      // A cut right after the XLogData header leaves an empty pgoutput message: malformed too.
      EXPECT_EQ(s, Status::Malformed) << "message '" << m[len > 25 ? 25 : 0] << "' cut at " << len;
    }
    ASSERT_EQ(d.on_copy_data(bytes(m)), Status::Ok) << d.error();
  }
  EXPECT_EQ(rec.commits.size(), 1u);
  EXPECT_EQ(rec.commits.at(0).tables, std::vector<std::string>{"public.t"});
  EXPECT_EQ(rec.keepalives.size(), 1u);
  EXPECT_EQ(rec.relations.size(), 1u);
}

TEST(PgoutputDecoder, ExtraBytesUnknownKindsAndOutOfOrderMessagesAreRefused) {
  Recorder rec;
  PgoutputDecoder d(rec);
  EXPECT_EQ(d.on_copy_data(bytes(b::keepalive(1, 1, false) + "x")), Status::Malformed);
  EXPECT_EQ(d.on_copy_data(bytes(std::string("z123"))), Status::Unsupported);
  EXPECT_EQ(d.on_copy_data(bytes(w("S\0\0\0\1"))), Status::Unsupported);  // protocol 2's Stream Start
  EXPECT_EQ(d.on_copy_data(bytes(w(b::commit(1, 2, 1)))), Status::Malformed);   // no Begin
  EXPECT_EQ(d.on_copy_data(bytes(w(b::insert(1, kRow)))), Status::Malformed);   // outside a transaction
  ASSERT_EQ(d.on_copy_data(bytes(w(b::begin(1, 1, 1)))), Status::Ok);
  EXPECT_EQ(d.on_copy_data(bytes(w(b::begin(1, 1, 1)))), Status::Malformed);    // nested
  std::string bad_tuple = b::insert(1, kRow);
  bad_tuple[5 + 1 + 2] = 'x';  // the first column's kind
  EXPECT_EQ(d.on_copy_data(bytes(w(bad_tuple))), Status::Malformed);
  std::string long_len = b::insert(1, kRow);
  long_len[5 + 1 + 2 + 1] = char(0x7f);  // a column length past the end
  EXPECT_EQ(d.on_copy_data(bytes(w(long_len))), Status::Malformed);
  EXPECT_TRUE(rec.commits.empty());
  d.reset();
  EXPECT_FALSE(d.in_transaction());
}

TEST(PgoutputDecoder, StandbyStatusUpdateLayout) {
  const std::string s = b::standby_status(0x0102030405060708ull, 9, true);
  ASSERT_EQ(s.size(), 34u);
  EXPECT_EQ(s[0], 'r');
  EXPECT_EQ(s[1], 0x01);
  EXPECT_EQ(s[8], 0x08);
  EXPECT_EQ(s[9 + 7], 0x08);   // flushed
  EXPECT_EQ(s[17 + 7], 0x08);  // applied
  EXPECT_EQ(s[33], 1);
}

}  // namespace
}  // namespace pgopt::pooler::cache
