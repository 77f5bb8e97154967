// cache::Store: hits, LRU under the memory cap, TTL, invalidation by table with fill tickets, the
// client's-own-commit rule, per-rule counters, and many threads at once (run under TSan too).
#include "pooler/cache/store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "pooler/cache/client_commits.hpp"

namespace pgopt::pooler::cache {
namespace {

using namespace std::chrono_literals;
using Tables = std::vector<std::string>;
using Opt = std::optional<std::string_view>;

Key key_of(std::string_view sql, std::string_view user = "web") {
  std::vector<Opt> settings(output_settings().size());
  return Key(KeyInput{"app", user, "", settings, sql, {}, {}, {}, {}});
}

const Clock::time_point t0 = Clock::now();
const Clock::time_point later = t0 + 1h;

Tables tables(std::initializer_list<const char*> names) { return Tables(names.begin(), names.end()); }

TEST(CacheStore, HitReturnsTheSameBytesAndCounts) {
  Store s({}, 2);
  Key k = key_of("SELECT * FROM t");
  EXPECT_FALSE(s.lookup(k, 0, t0).reply);
  EXPECT_EQ(s.put(k, tables({"t"}), "reply-bytes", later, 0, s.begin_fill()), PutResult::Stored);
  Hit h = s.lookup(k, 0, t0);
  ASSERT_TRUE(h.reply);
  EXPECT_EQ(*h.reply, "reply-bytes");
  EXPECT_FALSE(s.lookup(key_of("SELECT * FROM t", "other"), 0, t0).reply);  // another user
  auto c = s.counters();
  EXPECT_EQ(c[0].hits, 1u);
  EXPECT_EQ(c[0].misses, 2u);
  EXPECT_EQ(c[0].entries, 1u);
  EXPECT_EQ(c[0].bytes, s.bytes());
  EXPECT_EQ(c[1].entries, 0u);
  EXPECT_EQ(s.put(k, tables({"t"}), "newer", later, 0, s.begin_fill()), PutResult::Replaced);
  EXPECT_EQ(*s.lookup(k, 0, t0).reply, "newer");
  EXPECT_EQ(s.size(), 1u);
}

TEST(CacheStore, ExpiredEntriesAreNotServed) {
  Store s({}, 1);
  Key k = key_of("SELECT 1");
  s.put(k, {}, "r", t0 + 5s, 0, s.begin_fill());
  EXPECT_TRUE(s.lookup(k, 0, t0 + 4s).reply);
  EXPECT_FALSE(s.lookup(k, 0, t0 + 5s).reply);
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.counters()[0].expirations, 1u);
  EXPECT_EQ(s.bytes(), 0u);
}

TEST(CacheStore, LeastRecentlyUsedGoesFirstUnderTheCap) {
  const std::string reply(1000, 'x');
  const uint64_t charge = reply.size() + key_of("SELECT 0").bytes().size() + Store::kEntryOverhead + 1;
  Store s({3 * charge, 4096}, 1);
  Key a = key_of("SELECT 1"), b = key_of("SELECT 2"), c = key_of("SELECT 3"), d = key_of("SELECT 4");
  for (const Key* k : {&a, &b, &c}) EXPECT_EQ(s.put(*k, tables({"t"}), reply, later, 0, s.begin_fill()), PutResult::Stored);
  EXPECT_TRUE(s.lookup(a, 0, t0).reply);  // a is now the most recent; b the least
  s.put(d, tables({"t"}), reply, later, 0, s.begin_fill());
  EXPECT_FALSE(s.lookup(b, 0, t0).reply);
  EXPECT_TRUE(s.lookup(a, 0, t0).reply);
  EXPECT_TRUE(s.lookup(c, 0, t0).reply);
  EXPECT_TRUE(s.lookup(d, 0, t0).reply);
  EXPECT_LE(s.bytes(), 3 * charge);
  EXPECT_EQ(s.counters()[0].evictions, 1u);
}

TEST(CacheStore, OversizedRepliesAreRefused) {
  Store s({1 << 20, 100}, 1);
  EXPECT_EQ(s.put(key_of("SELECT 1"), {}, std::string(101, 'x'), later, 0, s.begin_fill()), PutResult::TooLarge);
  EXPECT_EQ(s.put(key_of("SELECT 1"), {}, std::string(100, 'x'), later, 0, s.begin_fill()), PutResult::Stored);
  EXPECT_EQ(s.counters()[0].refused, 1u);
  EXPECT_EQ(s.put(key_of("SELECT 1"), {}, "x", later, 7, s.begin_fill()), PutResult::BadRule);
}

TEST(CacheStore, InvalidationRemovesOnlyTheTablesEntriesWhateverTheSchema) {
  Store s({}, 1);
  Key a = key_of("SELECT * FROM orders"), b = key_of("SELECT * FROM app.orders JOIN users USING (id)"),
      c = key_of("SELECT * FROM users");
  s.put(a, tables({"orders"}), "a", later, 0, s.begin_fill());
  s.put(b, tables({"app.orders", "users"}), "b", later, 0, s.begin_fill());
  s.put(c, tables({"users"}), "c", later, 0, s.begin_fill());
  s.invalidate(tables({"public.orders"}));  // the writer qualifies; readers did or did not
  EXPECT_FALSE(s.lookup(a, 0, t0).reply);
  EXPECT_FALSE(s.lookup(b, 0, t0).reply);
  EXPECT_TRUE(s.lookup(c, 0, t0).reply);
  EXPECT_EQ(s.counters()[0].invalidations, 2u);
  s.invalidate({}, true);
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.bytes(), 0u);
}

TEST(CacheStore, AFillThatStartedBeforeAnInvalidationIsRefused) {
  Store s({}, 1);
  Key k = key_of("SELECT * FROM t");
  FillTicket before = s.begin_fill();  // the reader's query goes out ...
  s.invalidate(tables({"t"}));         // ... a writer commits ...
  EXPECT_EQ(s.put(k, tables({"t"}), "old rows", later, 0, before), PutResult::Invalidated);  // ... too late
  EXPECT_FALSE(s.lookup(k, 0, t0).reply);
  FillTicket after = s.begin_fill();
  s.invalidate(tables({"other"}));  // unrelated tables do not spoil a fill
  EXPECT_EQ(s.put(k, tables({"t"}), "new rows", later, 0, after), PutResult::Stored);
  FillTicket before_all = s.begin_fill();
  s.invalidate({}, true);
  EXPECT_EQ(s.put(k, tables({"t"}), "x", later, 0, before_all), PutResult::Invalidated);
}

TEST(CacheStore, AClientNeverReadsAnEntryOlderThanItsOwnCommit) {
  Store s({}, 1);
  Key k = key_of("SELECT * FROM t");
  FillTicket ticket = s.begin_fill();
  s.put(k, tables({"app.t"}), "rows", later, 0, ticket);
  ClientCommits writer, other;
  // The writer's commit is recorded with a later seq (here without removing the entry, as a
  // commit the store was not told about would leave it).
  writer.note(tables({"t"}), false, ticket.seq + 1);
  EXPECT_FALSE(s.lookup(k, 0, t0, &writer).reply);
  EXPECT_TRUE(s.lookup(k, 0, t0, &other).reply);
  ClientCommits everything;
  everything.note({}, true, ticket.seq + 1);
  EXPECT_FALSE(s.lookup(k, 0, t0, &everything).reply);
  // A fill that began after the client's commit is fine for it.
  FillTicket fresh = s.begin_fill();
  ClientCommits old;
  old.note(tables({"t"}), false, fresh.seq);
  s.put(k, tables({"t"}), "rows2", later, 0, fresh);
  EXPECT_TRUE(s.lookup(k, 0, t0, &old).reply);
}

TEST(CacheStore, ClearRuleKeepsTheOtherRules) {
  Store s({}, 2);
  s.put(key_of("SELECT 1"), {}, "1", later, 0, s.begin_fill());
  s.put(key_of("SELECT 2"), {}, "2", later, 1, s.begin_fill());
  s.clear_rule(0);
  EXPECT_FALSE(s.lookup(key_of("SELECT 1"), 0, t0).reply);
  EXPECT_TRUE(s.lookup(key_of("SELECT 2"), 1, t0).reply);
  auto c = s.counters();
  EXPECT_EQ(c[0].entries, 0u);
  EXPECT_EQ(c[0].bytes, 0u);
  EXPECT_EQ(c[1].entries, 1u);
  s.clear();
  EXPECT_EQ(s.size(), 0u);
}

// Workers filling, reading and invalidating the same keys at once. Checked after: the books
// balance (bytes and entries per rule equal what is left), the cap held, and no reply whose fill
// read the data before a write is served once that write's invalidation has returned.
TEST(CacheStore, ManyThreadsKeepTheBooksAndNeverServeAnInvalidatedFill) {
  constexpr int kThreads = 4, kRounds = 20000;
  Store s({64 * 1024, 4096}, 2);
  std::atomic<uint64_t> stale{0};
  // The "data" of each table is its generation: a writer bumps it (its commit), then invalidates;
  // `done` is the newest generation whose invalidation has returned.
  std::atomic<uint64_t> generation[4] = {};
  std::atomic<uint64_t> done[4] = {};
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kRounds; ++i) {
        const int table = (i * 7 + w) % 4;
        const std::string name = "t" + std::to_string(table);
        Key k = key_of("SELECT * FROM " + name + " WHERE id = " + std::to_string(i % 16));
        if (i % 11 == w) {
          const uint64_t g = generation[table].fetch_add(1) + 1;
          s.invalidate(Tables{name});
          uint64_t d = done[table].load();
          while (d < g && !done[table].compare_exchange_weak(d, g)) {
          }
          continue;
        }
        const uint64_t must_see = done[table].load();
        if (Hit h = s.lookup(k, size_t(table % 2), Clock::now()); h.reply) {
          if (std::stoull(*h.reply) < must_see) stale.fetch_add(1);
          continue;
        }
        FillTicket ticket = s.begin_fill();
        const uint64_t seen = generation[table].load();  // the query reads the data after its ticket
        std::this_thread::yield();                       // the reply takes a while: writers get in
        s.put(k, Tables{name}, std::to_string(seen) + std::string(200, ' '), Clock::now() + 1h, size_t(table % 2),
              ticket);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(stale.load(), 0u);
  auto c = s.counters();
  EXPECT_EQ(c[0].entries + c[1].entries, s.size());
  EXPECT_EQ(c[0].bytes + c[1].bytes, s.bytes());
  EXPECT_LE(s.bytes(), 64u * 1024);
  EXPECT_GT(c[0].hits + c[1].hits, 0u);
  EXPECT_GT(c[0].invalidations + c[1].invalidations, 0u);
}

// Logical-decoding invalidation's gate: a watched database is served only while its stream is up,
// and only entries whose fill began after it last came up; other databases are not affected.
TEST(CacheStore, AWatchedDatabaseIsServedOnlyWhileItsStreamIsUpAndOnlyFillsAfterIt) {
  Store s({}, 1);
  const Key k = key_of("SELECT * FROM t");  // database "app"
  s.watch_stream("app");
  EXPECT_TRUE(s.stream_watched("app"));
  EXPECT_FALSE(s.stream_watched("other"));
  EXPECT_EQ(s.stream_state("app"), StreamState::Down);
  // Down: fills are refused.
  EXPECT_EQ(s.put(k, tables({"t"}), "r", later, 0, s.begin_fill()), PutResult::Invalidated);
  // A fill that began before the stream came up is refused after it, too.
  const FillTicket early = s.begin_fill();
  s.stream_up("app");
  EXPECT_EQ(s.stream_state("app"), StreamState::Up);
  EXPECT_EQ(s.put(k, tables({"t"}), "r", later, 0, early), PutResult::Invalidated);
  EXPECT_EQ(s.put(k, tables({"t"}), "r", later, 0, s.begin_fill()), PutResult::Stored);
  EXPECT_TRUE(s.lookup(k, 0, t0).reply);
  // Broken: no hit; back up: the entry filled before the break is never served again.
  s.stream_down("app");
  EXPECT_FALSE(s.lookup(k, 0, t0).reply);
  EXPECT_EQ(s.put(k, tables({"t"}), "r2", later, 0, s.begin_fill()), PutResult::Invalidated);
  s.stream_up("app");
  EXPECT_FALSE(s.lookup(k, 0, t0).reply);
  EXPECT_EQ(s.put(k, tables({"t"}), "r3", later, 0, s.begin_fill()), PutResult::Stored);
  EXPECT_EQ(*s.lookup(k, 0, t0).reply, "r3");
  // An unwatched database is not gated.
  std::vector<Opt> settings(output_settings().size());
  const Key other(KeyInput{"other", "web", "", settings, "SELECT 1", {}, {}, {}, {}});
  s.stream_down("app");
  EXPECT_EQ(s.put(other, tables({"t"}), "o", later, 0, s.begin_fill()), PutResult::Stored);
  EXPECT_TRUE(s.lookup(other, 0, t0).reply);
}

TEST(CacheStore, AnEntryFilledWhileUpSurvivesAnotherDatabasesStreamComingUp) {
  Store s({}, 1);
  s.watch_stream("app");
  s.watch_stream("b");
  s.stream_up("app");
  const Key k = key_of("SELECT * FROM t");
  ASSERT_EQ(s.put(k, tables({"t"}), "r", later, 0, s.begin_fill()), PutResult::Stored);
  s.stream_up("b");
  s.stream_down("b");
  EXPECT_TRUE(s.lookup(k, 0, t0).reply);
}

}  // namespace
}  // namespace pgopt::pooler::cache
