// parse_schema: tables, keys and indexes from a pg_dump-style file (tests/fixtures/extract/schema.sql).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sql/extract.hpp"

namespace {

pgopt::sql::SchemaDefinition load() {
  std::ifstream in(std::string(PGOPT_FIXTURES) + "/extract/schema.sql");
  std::stringstream ss;
  ss << in.rdbuf();
  return pgopt::sql::parse_schema(ss.str());
}

const pgopt::sql::IndexDefinition* index_named(const pgopt::sql::SchemaDefinition& s, const std::string& name) {
  for (const auto& i : s.indexes)
    if (i.name == name) return &i;
  return nullptr;
}

TEST(ExtractSchema, TablesAndColumns) {
  auto s = load();
  ASSERT_EQ(s.tables.size(), 3u);
  EXPECT_EQ(s.tables[0].relation, "public.orders");
  ASSERT_EQ(s.tables[0].columns.size(), 6u);
  EXPECT_EQ(s.tables[0].columns[0].name, "id");
  EXPECT_EQ(s.tables[0].columns[0].type, "bigint");
  EXPECT_TRUE(s.tables[0].columns[0].not_null);
  EXPECT_EQ(s.tables[0].columns[1].type, "integer");
  EXPECT_FALSE(s.tables[0].columns[1].not_null);
  EXPECT_EQ(s.tables[0].columns[2].type, "character varying");
  EXPECT_EQ(s.tables[0].columns[4].type, "timestamp with time zone");
  EXPECT_EQ(s.tables[1].relation, "customers");
  EXPECT_TRUE(s.tables[1].columns[0].not_null);  // PRIMARY KEY implies NOT NULL
  EXPECT_EQ(s.tables[2].partition_by, "RANGE (at)");
}

TEST(ExtractSchema, KeysAndIndexes) {
  auto s = load();
  const auto* pk = index_named(s, "orders_pkey");
  ASSERT_NE(pk, nullptr);
  EXPECT_TRUE(pk->primary);
  EXPECT_EQ(pk->relation, "public.orders");
  EXPECT_EQ(pk->columns, std::vector<std::string>{"id"});

  const auto* cpk = index_named(s, "customers_pkey");
  ASSERT_NE(cpk, nullptr);
  EXPECT_EQ(cpk->columns, std::vector<std::string>{"id"});
  const auto* email = index_named(s, "customers_email_key");
  ASSERT_NE(email, nullptr);
  EXPECT_TRUE(email->unique);
  EXPECT_FALSE(email->primary);

  const auto* epk = index_named(s, "events_pk");
  ASSERT_NE(epk, nullptr);
  EXPECT_EQ(epk->columns, (std::vector<std::string>{"tenant_id", "id"}));
  EXPECT_EQ(epk->include, std::vector<std::string>{"at"});

  const auto* cust = index_named(s, "orders_customer_idx");
  ASSERT_NE(cust, nullptr);
  EXPECT_EQ(cust->columns, (std::vector<std::string>{"customer_id", "created_at"}));
  EXPECT_EQ(cust->descending, (std::vector<bool>{false, true}));
  EXPECT_EQ(cust->method, "btree");

  const auto* open = index_named(s, "orders_open");
  ASSERT_NE(open, nullptr);
  EXPECT_TRUE(open->unique);
  EXPECT_EQ(open->columns, std::vector<std::string>{"(lower(status))"});
  EXPECT_EQ(open->include, std::vector<std::string>{"total"});
  EXPECT_EQ(open->where, "deleted_at IS NULL AND status <> 'done'");

  const auto* brin = index_named(s, "events_at_idx");
  ASSERT_NE(brin, nullptr);
  EXPECT_EQ(brin->method, "brin");
  EXPECT_EQ(s.indexes.size(), 7u);
}

TEST(ExtractSchema, BadStatementReportsItsLineAndKeepsTheRest) {
  auto s = load();
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0].rfind("line 22:", 0), 0u) << s.errors[0];
}

TEST(ExtractSchema, EmptyInput) {
  auto s = pgopt::sql::parse_schema("");
  EXPECT_TRUE(s.tables.empty());
  EXPECT_TRUE(s.errors.empty());
}

}  // namespace

namespace {

// PARTITION OF names its parent, INHERITS its parents; UNLOGGED and TEMP are kept for the advisor
// to skip.
TEST(ExtractSchema, PartitionOfInheritsAndPersistence) {
  auto s = pgopt::sql::parse_schema(
      "CREATE TABLE ev (id int, at date) PARTITION BY RANGE (at);\n"
      "CREATE TABLE s.ev_2024 PARTITION OF ev FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n"
      "CREATE TABLE child (extra text) INHERITS (ev, other.base);\n"
      "CREATE UNLOGGED TABLE staging (id int);\n"
      "CREATE TEMPORARY TABLE scratch (id int);\n"
      "CREATE TABLE plain (id int);\n");
  ASSERT_TRUE(s.errors.empty());
  ASSERT_EQ(s.tables.size(), 6u);
  EXPECT_EQ(s.tables[1].partition_of, "ev");
  EXPECT_TRUE(s.tables[1].inherits.empty());
  EXPECT_TRUE(s.tables[1].columns.empty());
  EXPECT_EQ(s.tables[2].inherits, (std::vector<std::string>{"ev", "other.base"}));
  EXPECT_TRUE(s.tables[2].partition_of.empty());
  EXPECT_EQ(s.tables[3].persistence, "unlogged");
  EXPECT_EQ(s.tables[4].persistence, "temporary");
  EXPECT_EQ(s.tables[5].persistence, "");
}

}  // namespace
