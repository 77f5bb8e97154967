// Index DDL for partitioned tables (issue 17, section 1): ON ONLY the parent, each partition
// CONCURRENTLY, ATTACH PARTITION, sub-partitions recursively, an equal existing partition index
// reused, names unique against indexes and tables; INHERITS trees; drops PostgreSQL accepts.
#include <gtest/gtest.h>

#include "analyzer/advisor/drops.hpp"
#include "analyzer/advisor/index_ddl.hpp"

using namespace pgopt::analyzer::advisor;

namespace {

TableInfo table(const std::string& name, const std::string& partition_by = "", std::vector<std::string> parts = {}) {
  TableInfo t;
  t.name = name;
  t.partition_by = partition_by;
  t.partitions = std::move(parts);
  return t;
}

// ev (RANGE) -> ev_2024, ev_2025, ev_2026 (LIST) -> ev_2026_a, ev_2026_b
Catalog partitioned() {
  Catalog c;
  c.tables.push_back(table("ev", "RANGE (created)", {"public.ev_2024", "public.ev_2025", "public.ev_2026"}));
  c.tables.push_back(table("ev_2024"));
  c.tables.push_back(table("ev_2025"));
  c.tables.push_back(table("ev_2026", "LIST (kind)", {"public.ev_2026_a", "public.ev_2026_b"}));
  c.tables.push_back(table("ev_2026_a"));
  c.tables.push_back(table("ev_2026_b"));
  return c;
}

IndexSpec on_id(const std::string& t) {
  IndexSpec s;
  s.table = t;
  s.columns = {"id"};
  s.descending = {false};
  s.opclass = {""};
  return s;
}

}  // namespace

TEST(IndexDdl, PlainTableIsOneConcurrentCreate) {
  Catalog c;
  c.tables.push_back(table("orders"));
  std::set<std::string> taken;
  EXPECT_EQ(index_build_statements(on_id("orders"), "orders_id_idx", c, taken),
            (std::vector<std::string>{"CREATE INDEX CONCURRENTLY orders_id_idx ON public.orders (id)"}));
}

TEST(IndexDdl, PartitionedTableIsOnlyThenEachPartitionThenAttach) {
  Catalog c = partitioned();
  EXPECT_EQ(c.leaves(c.tables[0]).size(), 4u);
  EXPECT_TRUE(c.leaves(c.tables[1]).empty());
  std::set<std::string> taken = {"public.ev_2025_id_idx"};  // taken by a table or another index
  auto ddl = index_build_statements(on_id("ev"), "ev_id_idx", c, taken);
  EXPECT_EQ(ddl, (std::vector<std::string>{
                     "CREATE INDEX ev_id_idx ON ONLY public.ev (id)",
                     "CREATE INDEX CONCURRENTLY ev_2024_id_idx ON public.ev_2024 (id)",
                     "ALTER INDEX public.ev_id_idx ATTACH PARTITION public.ev_2024_id_idx",
                     "CREATE INDEX CONCURRENTLY ev_2025_id_2_idx ON public.ev_2025 (id)",
                     "ALTER INDEX public.ev_id_idx ATTACH PARTITION public.ev_2025_id_2_idx",
                     "CREATE INDEX ev_2026_id_idx ON ONLY public.ev_2026 (id)",
                     "CREATE INDEX CONCURRENTLY ev_2026_a_id_idx ON public.ev_2026_a (id)",
                     "ALTER INDEX public.ev_2026_id_idx ATTACH PARTITION public.ev_2026_a_id_idx",
                     "CREATE INDEX CONCURRENTLY ev_2026_b_id_idx ON public.ev_2026_b (id)",
                     "ALTER INDEX public.ev_2026_id_idx ATTACH PARTITION public.ev_2026_b_id_idx",
                     "ALTER INDEX public.ev_id_idx ATTACH PARTITION public.ev_2026_id_idx",
                 }));
  EXPECT_TRUE(taken.count("public.ev_2026_b_id_idx"));
}

TEST(IndexDdl, AnEqualUnattachedPartitionIndexIsAttachedNotRebuilt) {
  Catalog c = partitioned();
  IndexInfo same;
  same.name = "dba_made_it";
  same.schema = "public";
  same.columns = {"id"};
  same.descending = {false};
  c.tables[1].indexes.push_back(same);  // ev_2024
  IndexInfo attached = same;
  attached.name = "belongs_elsewhere";
  attached.attached = true;
  c.tables[2].indexes.push_back(attached);  // ev_2025: already part of another parent index
  std::set<std::string> taken;
  auto ddl = index_build_statements(on_id("ev"), "ev_id_idx", c, taken);
  ASSERT_GE(ddl.size(), 4u);
  EXPECT_EQ(ddl[1], "ALTER INDEX public.ev_id_idx ATTACH PARTITION public.dba_made_it");
  EXPECT_EQ(ddl[2], "CREATE INDEX CONCURRENTLY ev_2025_id_idx ON public.ev_2025 (id)");
}

TEST(IndexDdl, UniqueNamesStayWithin63Bytes) {
  std::set<std::string> taken;
  std::string base = std::string(59, 'a') + "_idx";
  EXPECT_EQ(unique_index_name(base, "s", taken), base);
  std::string second = unique_index_name(base, "s", taken);
  EXPECT_NE(second, base);
  EXPECT_LE(second.size(), 63u);
  EXPECT_EQ(unique_index_name(base, "other", taken), base);  // another schema's namespace
}

TEST(IndexDdl, InheritanceBuildsOneIndexPerTableOfTheTree) {
  Catalog c;
  c.tables.push_back(table("readings"));
  c.tables[0].inheritors = {"public.readings_2023", "public.readings_2024"};
  c.tables.push_back(table("readings_2023"));
  c.tables.push_back(table("readings_2024"));
  c.tables[2].inheritors = {"public.readings_2024_q1"};
  c.tables.push_back(table("readings_2024_q1"));
  EXPECT_EQ(c.inheritance_tree(c.tables[0]).size(), 4u);
  std::set<std::string> taken;
  EXPECT_EQ(index_build_statements(on_id("readings"), "readings_id_idx", c, taken),
            (std::vector<std::string>{
                "CREATE INDEX CONCURRENTLY readings_id_idx ON public.readings (id)",
                "CREATE INDEX CONCURRENTLY readings_2023_id_idx ON public.readings_2023 (id)",
                "CREATE INDEX CONCURRENTLY readings_2024_id_idx ON public.readings_2024 (id)",
                "CREATE INDEX CONCURRENTLY readings_2024_q1_id_idx ON public.readings_2024_q1 (id)",
            }));
}

// PostgreSQL refuses to drop a partition's attached index alone, and a partitioned index
// CONCURRENTLY: neither is ever suggested in a form it would refuse.
TEST(IndexDdl, DropsRespectPartitionedIndexes) {
  Catalog c = partitioned();
  c.source = "schema file";
  IndexInfo parent_dup;
  parent_dup.name = "ev_id_a";
  parent_dup.schema = "public";
  parent_dup.columns = {"id"};
  parent_dup.descending = {false};
  IndexInfo parent_twin = parent_dup;
  parent_twin.name = "ev_id_b";
  c.tables[0].indexes = {parent_dup, parent_twin};
  IndexInfo leaf_a = parent_dup, leaf_b = parent_twin;
  leaf_a.name = "ev_2024_id_a";
  leaf_b.name = "ev_2024_id_b";
  leaf_a.attached = leaf_b.attached = true;
  c.tables[1].indexes = {leaf_a, leaf_b};
  auto drops = find_drops(c, {});
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0].ddl, "DROP INDEX public.ev_id_b;");
  EXPECT_NE(drops[0].reason.find("cannot be dropped CONCURRENTLY"), std::string::npos) << drops[0].reason;
}
