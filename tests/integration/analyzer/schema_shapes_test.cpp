// Golden end-to-end cases for the schema shapes of issue 17, section 1, on the real PG15 + HypoPG
// cluster: each test builds a small database, runs its statements through a real session with
// log_min_duration_statement = 0, and checks the CREATE INDEX lines `pgopt analyze --format sql`
// prints for the part of the server log those statements produced. Every recommended DDL is then
// applied as printed: PostgreSQL must accept it.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "analyzer_test_util.hpp"
#include "support/wait.hpp"

namespace {

using pgopt::test::analyzer_util::create_lines;
using pgopt::test::analyzer_util::ScratchDatabaseTest;
using pgopt::test::analyzer_util::slurp;

int run(const std::string& cmd, std::string* out) {
  std::string path = std::string(::testing::TempDir()) + "pgopt_shapes.out";
  int rc = std::system((cmd + " > " + path + " 2>&1").c_str());
  *out = slurp(path);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

class SchemaShapes : public ScratchDatabaseTest {
 protected:
  static constexpr const char* kDb = "pgopt_shapes";
  SchemaShapes() : ScratchDatabaseTest(kDb) {}

  // Runs `statements` in one session (simple protocol, one call each) and returns a file holding
  // the part of the server log they produced.
  // `param`: each statement is sent through the extended protocol with this one parameter value.
  std::string logged(const std::vector<std::string>& statements, const std::string& name,
                     const std::string& user = "postgres", const char* param = nullptr) {
    std::string log = env_["PGOPT_DATA_DIR"] + "/primary.log";
    std::error_code ec;
    auto start = std::filesystem::file_size(log, ec);
    EXPECT_FALSE(ec) << log;
    PGconn* c = PQconnectdb(("host=127.0.0.1 port=" + port_ + " user=" + user + " dbname=" + kDb).c_str());
    EXPECT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
    for (const auto& s : statements) {
      const char* values[1] = {param};
      PGresult* r = param ? PQexecParams(c, s.c_str(), 1, nullptr, values, nullptr, nullptr, 0) : PQexec(c, s.c_str());
      auto st = PQresultStatus(r);
      EXPECT_TRUE(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) << s << ": " << PQerrorMessage(c);
      PQclear(r);
    }
    PQfinish(c);
    // The server writes the log asynchronously: wait until the last statement is in it.
    std::string all, last = statements.empty() ? std::string() : statements.back();
    pgopt::test::poll_until([&] {
      all = slurp(log);
      return all.find(last, std::min<size_t>(start, all.size())) != std::string::npos;
    }, std::chrono::seconds(10));
    std::string path = std::string(::testing::TempDir()) + "pgopt_shapes_" + name + ".log";
    std::ofstream(path, std::ios::binary) << all.substr(std::min<size_t>(start, all.size()));
    return path;
  }

  // `pgopt analyze --format sql` over `log`: its CREATE INDEX lines (the run must exit 0).
  std::vector<std::string> recommended(const std::string& log, std::string* report = nullptr) {
    std::string out;
    EXPECT_EQ(run(std::string(PGOPT_BINARY) + " analyze --db '" + conninfo_ + "' --format sql " + log, &out), 0) << out;
    if (report) *report = out;
    return create_lines(out);
  }

  // Applies each printed statement as is (they end with ';').
  void apply(const std::vector<std::string>& lines) {
    for (const auto& l : lines) exec(kDb, l);
  }

  // customers (20,000) and orders (100,000: 5 per customer, one a minute from 2024-01-01, 2% never
  // shipped), analysed and vacuumed.
  void shop() {
    exec(kDb,
         "CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL, name text);"
         "CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL, "
         "created timestamptz NOT NULL, note text, shipped_at timestamptz);"
         "INSERT INTO customers SELECT g, 'user' || g || '@example.com', md5(g::text) FROM generate_series(1, 20000) g;"
         "INSERT INTO orders SELECT g, 1 + g % 20000, (ARRAY['new', 'paid', 'shipped', 'done'])[1 + g % 4], "
         "timestamptz '2024-01-01' + g * interval '1 minute', md5(g::text), CASE WHEN g % 50 = 0 THEN NULL "
         "ELSE timestamptz '2024-01-02' + g * interval '1 minute' END FROM generate_series(1, 100000) g");
    exec(kDb, "VACUUM ANALYZE customers, orders");
  }

  // Every statement `pgopt analyze --format sql` prints (not its comments), one per line.
  std::vector<std::string> ddl(const std::string& log, std::string* report = nullptr) {
    std::string out;
    EXPECT_EQ(run(std::string(PGOPT_BINARY) + " analyze --db '" + conninfo_ + "' --format sql " + log, &out), 0) << out;
    if (report) *report = out;
    std::vector<std::string> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && line.rfind("--", 0) != 0) lines.push_back(line);
    return lines;
  }

  // The rows of a query's first column, one per line.
  std::string query(const std::string& sql) {
    PGconn* c = PQconnectdb(conninfo_.c_str());
    EXPECT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
    PGresult* r = PQexec(c, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << sql << ": " << PQerrorMessage(c);
    std::string out;
    for (int i = 0; i < PQntuples(r); ++i) out += std::string(PQgetvalue(r, i, 0)) + "\n";
    PQclear(r);
    PQfinish(c);
    return out;
  }
};

// 20,000 rows with a selective integer key and a text payload, analysed.
std::string filled(const std::string& table, const std::string& key, const std::string& payload) {
  return "CREATE TABLE " + table + " (" + key + " integer NOT NULL, " + payload + " text); INSERT INTO " + table +
         " SELECT g, md5(g::text) FROM generate_series(1, 20000) g; ANALYZE " + table;
}

std::vector<std::string> repeated(const std::string& before, const std::string& after, int n = 20) {
  std::vector<std::string> out;
  for (int i = 1; i <= n; ++i) out.push_back(before + std::to_string(i * 37) + after);
  return out;
}

TEST_F(SchemaShapes, QuotedMixedCaseIdentifiersAreKeptAsWritten) {
  exec(kDb, "CREATE SCHEMA \"Bar\"; CREATE SCHEMA bar");
  exec(kDb, filled("\"Bar\".\"Foo\"", "\"Id\"", "\"Val\""));
  exec(kDb, filled("bar.foo", "id", "val"));  // the lower-case twin the query never reads
  std::string log = logged(repeated("SELECT \"Val\" FROM \"Bar\".\"Foo\" WHERE \"Id\" = ", ""), "quoted");
  std::string report;
  auto lines = recommended(log, &report);
  ASSERT_EQ(lines.size(), 1u) << report;
  EXPECT_NE(lines[0].find(" ON \"Bar\".\"Foo\" (\"Id\");"), std::string::npos) << lines[0];
  EXPECT_EQ(report.find("not in the database"), std::string::npos) << report;
  apply(lines);
  // The applied index is recognised as existing (pg_get_indexdef quotes "Id"): not proposed again.
  std::string again;
  for (const auto& l : recommended(log, &again)) EXPECT_EQ(l.find("(\"Id\");"), std::string::npos) << again;
}

// The same table name in two schemas; the application's role resolves unqualified names through
// its own search_path (ALTER ROLE ... IN DATABASE ... SET), not the analyzer's.
TEST_F(SchemaShapes, UnqualifiedNamesResolveThroughTheLoggedRolesSearchPath) {
  exec("postgres", "DROP ROLE IF EXISTS pgopt_shapes_app; CREATE ROLE pgopt_shapes_app LOGIN");
  exec(kDb, "CREATE SCHEMA s1; CREATE SCHEMA s2");
  exec(kDb, filled("s1.items", "id", "val"));
  exec(kDb, filled("s2.items", "id", "val"));
  exec(kDb, "GRANT USAGE ON SCHEMA s1, s2 TO pgopt_shapes_app; GRANT SELECT ON s1.items, s2.items TO pgopt_shapes_app");
  exec(kDb, std::string("ALTER ROLE pgopt_shapes_app IN DATABASE ") + kDb + " SET search_path = s2, s1");
  // The analyzer's own connection (postgres) would find s1.items first.
  exec(kDb, std::string("ALTER DATABASE ") + kDb + " SET search_path = s1, s2");
  std::string log = logged(repeated("SELECT val FROM items WHERE id = ", ""), "search_path", "pgopt_shapes_app");
  std::string report;
  auto lines = recommended(log, &report);
  exec("postgres", std::string("DROP DATABASE IF EXISTS ") + kDb + " WITH (FORCE)");
  exec("postgres", "DROP ROLE pgopt_shapes_app");
  ASSERT_EQ(lines.size(), 1u) << report;
  EXPECT_NE(lines[0].find(" ON s2.items (id)"), std::string::npos) << lines[0];
}

// A role whose search_path (set for the role alone, in no database) lacks public, where HypoPG's
// functions live: the what-if EXPLAINs run under that path, and every candidate must still be
// costed (the HypoPG calls were unqualified: after the first, each failed and the statements got
// no advice at all). Two statement groups, so several configurations are costed.
TEST_F(SchemaShapes, ARoleSearchPathWithoutHypopgsSchemaStillGetsAdvice) {
  exec("postgres", "DROP ROLE IF EXISTS pgopt_shapes_app; CREATE ROLE pgopt_shapes_app LOGIN");
  exec(kDb, "CREATE SCHEMA s1");
  exec(kDb, filled("s1.items", "id", "val"));
  exec(kDb, filled("public.items", "id", "val"));  // what the analyzer's own search_path finds
  exec(kDb, "GRANT USAGE ON SCHEMA s1 TO pgopt_shapes_app; GRANT SELECT ON s1.items TO pgopt_shapes_app");
  exec("postgres", "ALTER ROLE pgopt_shapes_app SET search_path = s1");
  std::vector<std::string> statements = repeated("SELECT val FROM items WHERE id = ", "");
  for (const auto& s : repeated("SELECT id FROM items WHERE val = '", "'")) statements.push_back(s);
  std::string log = logged(statements, "role_path", "pgopt_shapes_app");
  std::string report;
  auto lines = recommended(log, &report);
  exec("postgres", std::string("DROP DATABASE IF EXISTS ") + kDb + " WITH (FORCE)");
  exec("postgres", "DROP ROLE pgopt_shapes_app");
  ASSERT_EQ(lines.size(), 2u) << report;
  for (const auto& l : lines) EXPECT_NE(l.find(" ON s1.items ("), std::string::npos) << report;
}

// With --db, statements logged in other databases are not part of the workload.
TEST_F(SchemaShapes, LogLinesOfOtherDatabasesAreLeftOut) {
  exec(kDb, filled("items", "id", "val"));
  std::string log = logged(repeated("SELECT val FROM items WHERE id = ", ""), "otherdb");
  // The same lines again, as if another database had logged them.
  std::string own = slurp(log), text = own;
  const std::string tag = std::string("@") + kDb + " ";
  for (size_t pos = 0; (pos = text.find(tag, pos)) != std::string::npos; ++pos) text.replace(pos, tag.size(), "@elsewhere ");
  std::string both = std::string(::testing::TempDir()) + "pgopt_shapes_both.log";
  std::ofstream(both, std::ios::binary) << own << text;
  auto summary = [&](const std::string& file) {
    std::string out;
    EXPECT_EQ(run(std::string(PGOPT_BINARY) + " analyze --db '" + conninfo_ + "' --format json " + file, &out), 0) << out;
    return out;
  };
  std::string alone = summary(log), mixed = summary(both);
  auto statements = [](const std::string& json) { return json.substr(json.find("\"statements\":"), 20); };
  EXPECT_EQ(statements(alone), statements(mixed)) << mixed;
  EXPECT_NE(mixed.find("of other databases than pgopt_shapes were left out"), std::string::npos) << mixed;
}

// A view: the index goes on the base table. A materialized view is a table: indexed itself.
TEST_F(SchemaShapes, ViewsIndexTheBaseTableMaterializedViewsThemselves) {
  exec(kDb, filled("orders", "id", "note"));
  exec(kDb, "CREATE VIEW recent_orders AS SELECT id, note FROM orders WHERE id > 0");
  std::string report;
  auto lines = recommended(logged(repeated("SELECT note FROM recent_orders WHERE id = ", ""), "view"), &report);
  ASSERT_EQ(lines.size(), 1u) << report;
  EXPECT_NE(lines[0].find(" ON public.orders (id);"), std::string::npos) << lines[0];

  exec(kDb, "CREATE MATERIALIZED VIEW order_notes AS SELECT id AS order_id, note FROM orders; ANALYZE order_notes");
  lines = recommended(logged(repeated("SELECT note FROM order_notes WHERE order_id = ", ""), "matview"), &report);
  ASSERT_EQ(lines.size(), 1u) << report;
  EXPECT_NE(lines[0].find(" ON public.order_notes (order_id);"), std::string::npos) << lines[0];
  apply(lines);
}

// PostgreSQL pushes a condition on a view's output column into each arm of its UNION ALL, and into
// a grouped view's WHERE when the column is a grouping column: the base tables get the index (the
// report said these statements had no filter at all).
TEST_F(SchemaShapes, UnionAndGroupedViewsTakeTheFilterDown) {
  shop();
  exec(kDb, "CREATE TABLE orders_archive (LIKE orders); INSERT INTO orders_archive SELECT * FROM orders;"
            "CREATE VIEW all_orders AS SELECT id, customer_id, note FROM orders "
            "UNION ALL SELECT id, customer_id, note FROM orders_archive;"
            "CREATE VIEW per_customer AS SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id");
  exec(kDb, "VACUUM ANALYZE orders_archive");
  std::string report;
  auto lines = recommended(logged(repeated("SELECT note FROM all_orders WHERE customer_id = ", ""), "union_view"), &report);
  ASSERT_EQ(lines.size(), 2u) << report;
  std::string both = lines[0] + "\n" + lines[1];
  EXPECT_NE(both.find(" ON public.orders (customer_id"), std::string::npos) << report;
  EXPECT_NE(both.find(" ON public.orders_archive (customer_id"), std::string::npos) << report;
  lines = recommended(logged(repeated("SELECT n FROM per_customer WHERE customer_id = ", ""), "grouped_view"), &report);
  ASSERT_EQ(lines.size(), 1u) << report;
  EXPECT_NE(lines[0].find(" ON public.orders (customer_id"), std::string::npos) << report;
}

// A CTE the planner inlines (plain or NOT MATERIALIZED) whose query filters a table.
TEST_F(SchemaShapes, InlinedCtesFilteringATableGetTheirIndex) {
  exec(kDb, filled("orders", "id", "note"));
  std::vector<std::string> statements =
      repeated("WITH o AS (SELECT id, note FROM orders WHERE id = ", ") SELECT note FROM o");
  for (const auto& s : repeated("WITH o AS NOT MATERIALIZED (SELECT * FROM orders) SELECT note FROM o WHERE id = ", ""))
    statements.push_back(s);
  std::string report;
  auto lines = recommended(logged(statements, "cte"), &report);
  ASSERT_EQ(lines.size(), 1u) << report;
  // (id), or (id) INCLUDE (note) once autovacuum has set the visibility map during the test (an
  // index-only scan then costs less): either is the index the inlined CTE needs.
  EXPECT_NE(lines[0].find(" ON public.orders (id)"), std::string::npos) << lines[0];
}

// Extended-protocol statements logged without their values (log_parameter_max_length = 0): the
// samples keep $1, which EXPLAIN cannot bind; they are costed with their generic plan.
TEST_F(SchemaShapes, PlaceholdersWithoutLoggedValuesAreCostedWithAGenericPlan) {
  exec(kDb, filled("orders", "id", "note"));
  exec(kDb, std::string("ALTER DATABASE ") + kDb + " SET log_parameter_max_length = 0");
  std::vector<std::string> statements(20, "SELECT note FROM orders WHERE id = $1");
  std::string log = logged(statements, "generic", "postgres", "4711");
  ASSERT_EQ(slurp(log).find("4711"), std::string::npos) << "the values were logged after all";
  std::string report;
  auto lines = recommended(log, &report);
  ASSERT_EQ(lines.size(), 1u) << report;
  EXPECT_NE(lines[0].find(" ON public.orders (id)"), std::string::npos) << lines[0];
}

// Nothing usable read (a JSON file given as csvlog, a stderr log given as jsonlog): say so, exit 1.
// A plain .sql file of statements is a workload of its own.
TEST_F(SchemaShapes, NothingUsableIsAnErrorAndAPlainSqlFileIsAWorkload) {
  exec(kDb, filled("orders", "id", "note"));
  std::string log = logged(repeated("SELECT note FROM orders WHERE id = ", ""), "plain");
  std::string json = std::string(::testing::TempDir()) + "pgopt_shapes_not_csv.json";
  std::ofstream(json) << "{\"a\": 1}\n{\"b\": 2}\n";
  std::string out;
  for (const std::string& args : {"--log-format csvlog " + json, "--log-format jsonlog " + log}) {
    EXPECT_EQ(run(std::string(PGOPT_BINARY) + " analyze --db '" + conninfo_ + "' " + args, &out), 1) << args << out;
    EXPECT_NE(out.find("nothing usable was read"), std::string::npos) << out;
  }
  std::string script = std::string(::testing::TempDir()) + "pgopt_shapes_queries.sql";
  {
    std::ofstream f(script);
    f << "-- the statements the team wants advice on\n";
    for (int i = 1; i <= 5; ++i) f << "SELECT note\n  FROM orders WHERE id = " << i * 11 << ";\n";
    f << "SELECT ';' AS not_a_split FROM orders WHERE id = 3;\n";
  }
  std::string report;
  auto lines = recommended(script, &report);
  ASSERT_EQ(lines.size(), 1u) << report;
  EXPECT_NE(lines[0].find(" ON public.orders (id)"), std::string::npos) << lines[0];
}

// A partitioned table, sub-partitioned in part: PostgreSQL refuses CREATE INDEX CONCURRENTLY on
// it. The advice builds the index ON ONLY the parent, each partition CONCURRENTLY and attaches
// them; applied as printed, every index is valid and the planner uses them. A statement that names
// a partition itself is served by the parent's index (its hypothetical indexes are per leaf), so
// it gets no index of its own.
TEST_F(SchemaShapes, PartitionedTablesGetDdlPostgresqlAccepts) {
  exec(kDb,
       "CREATE TABLE events (id integer NOT NULL, kind integer NOT NULL, created date NOT NULL, note text) "
       "PARTITION BY RANGE (created);"
       "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');"
       "CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') "
       "PARTITION BY LIST (kind);"
       "CREATE TABLE events_2025_low PARTITION OF events_2025 FOR VALUES IN (0, 1, 2);"
       "CREATE TABLE events_2025_rest PARTITION OF events_2025 DEFAULT;"
       "INSERT INTO events SELECT g, g % 10, date '2024-01-01' + g % 700, md5(g::text) "
       "FROM generate_series(1, 60000) g; ANALYZE events");
  std::vector<std::string> statements = repeated("SELECT note FROM events WHERE id = ", "");
  for (const auto& s : repeated("SELECT note FROM events_2024 WHERE id = ", "", 5)) statements.push_back(s);
  std::string log = logged(statements, "partitioned"), report;
  auto lines = ddl(log, &report);
  ASSERT_FALSE(lines.empty()) << report;
  EXPECT_EQ(lines[0], "CREATE INDEX events_id_idx ON ONLY public.events (id);") << report;
  int attaches = 0, on_2024 = 0;
  for (const auto& l : lines) {
    EXPECT_EQ(l.find("CONCURRENTLY events_id"), std::string::npos) << l;
    attaches += l.find(" ATTACH PARTITION ") != std::string::npos;
    on_2024 += l.find(" ON public.events_2024 ") != std::string::npos;
  }
  EXPECT_EQ(attaches, 4) << report;  // three leaves and the sub-partitioned events_2025
  EXPECT_EQ(on_2024, 1) << report;   // the parent's index covers the partition's own statements
  apply(lines);
  EXPECT_EQ(query("SELECT count(*)::text || ' ' || bool_and(indisvalid)::text FROM pg_index "
                  "WHERE indrelid::regclass::text LIKE 'events%'"),
            "5 true\n");
  std::string plan = query("EXPLAIN SELECT note FROM events WHERE id = 37");
  EXPECT_EQ(plan.find("Seq Scan"), std::string::npos) << plan;
  EXPECT_NE(plan.find("events_2025_rest"), std::string::npos) << plan;
  // The built indexes are seen as existing (the parent's is valid): not proposed again.
  for (const auto& l : ddl(log, &report)) EXPECT_EQ(l.find(" ON ONLY public.events (id);"), std::string::npos) << report;
}

// SET search_path inside a logged session: that session's later unqualified names resolve through
// it, until RESET. The database's own path (the analyzer's too) would find s1.items first.
TEST_F(SchemaShapes, SetSearchPathInASessionChangesItsLaterNames) {
  exec(kDb, "CREATE SCHEMA s1; CREATE SCHEMA s2");
  exec(kDb, filled("s1.items", "id", "val"));
  exec(kDb, filled("s2.items", "id", "val"));
  exec(kDb, std::string("ALTER DATABASE ") + kDb + " SET search_path = s1, s2");
  std::vector<std::string> statements = {"SET search_path TO s2, public"};
  for (const auto& s : repeated("SELECT val FROM items WHERE id = ", "")) statements.push_back(s);
  statements.push_back("RESET search_path");
  for (const auto& s : repeated("SELECT id FROM items WHERE val = '", "'")) statements.push_back(s);
  std::string report;
  auto lines = recommended(logged(statements, "set_search_path"), &report);
  ASSERT_EQ(lines.size(), 2u) << report;
  std::string both = lines[0] + "\n" + lines[1];
  EXPECT_NE(both.find(" ON s2.items (id"), std::string::npos) << report;
  EXPECT_NE(both.find(" ON s1.items (val"), std::string::npos) << report;
}

struct StatementShape {
  std::string name;
  std::vector<std::string> statements;
  std::vector<std::string> expected;  // each in one of the CREATE INDEX lines, in this order
};

std::vector<std::string> numbered(const std::string& text, int n = 12) {
  std::vector<std::string> out;
  for (int i = 1; i <= n; ++i) {
    std::string s = text;
    for (size_t pos; (pos = s.find("#")) != std::string::npos;) s.replace(pos, 1, std::to_string(i));
    for (size_t pos; (pos = s.find("@D")) != std::string::npos;) s.replace(pos, 2, (i < 10 ? "0" : "") + std::to_string(i));
    out.push_back(s);
  }
  return out;
}

// The statement shapes of issue 17, section 1, each a workload of its own: the index each needs,
// and nothing else.
TEST_F(SchemaShapes, StatementShapesGetTheIndexTheyNeed) {
  shop();
  const std::vector<StatementShape> shapes = {
      {"update_from",
       numbered("UPDATE orders o SET note = 'x' FROM customers c WHERE o.customer_id = c.id AND c.email = 'user#7@example.com'"),
       {" ON public.orders (customer_id);", " ON public.customers (email);"}},
      {"delete_using",
       numbered("DELETE FROM orders o USING customers c WHERE o.customer_id = c.id AND c.email = 'user#3@example.com'"),
       {" ON public.orders (customer_id);", " ON public.customers (email);"}},
      {"lateral",
       numbered("SELECT c.name, x.created FROM customers c CROSS JOIN LATERAL (SELECT o.created FROM orders o "
                "WHERE o.customer_id = c.id ORDER BY o.created DESC LIMIT 3) x WHERE c.email = 'user#5@example.com'"),
       {" ON public.orders (customer_id", " ON public.customers (email);"}},
      // A time window is one range: each bound alone keeps about half the table.
      {"window",
       numbered("SELECT note FROM orders WHERE created >= '2024-02-@D 10:00' AND created < '2024-02-@D 11:00'"),
       {" ON public.orders (created"}},
      {"exists_window",
       numbered("SELECT c.name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id "
                "AND o.created >= '2024-02-@D 10:00' AND o.created < '2024-02-@D 11:00')"),
       {" ON public.orders (created"}},
      {"in_subquery",
       numbered("SELECT note FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE email = 'user#9@example.com')"),
       {" ON public.orders (customer_id", " ON public.customers (email"}},
      {"between",
       numbered("SELECT note FROM orders WHERE created BETWEEN '2024-03-@D 10:00' AND '2024-03-@D 11:00'"),
       {" ON public.orders (created"}},
      {"any_array", numbered("SELECT note FROM orders WHERE customer_id = ANY('{#,2#,3#}'::int[])"),
       {" ON public.orders (customer_id"}},
      {"is_null", numbered("SELECT id FROM orders WHERE shipped_at IS NULL AND customer_id = #1"),
       {" ON public.orders (customer_id) WHERE shipped_at IS NULL;"}},
      {"distinct_on",
       numbered("SELECT DISTINCT ON (customer_id) customer_id, created, status FROM orders "
                "WHERE customer_id IN (#, 1#, 2#) ORDER BY customer_id, created DESC"),
       {" ON public.orders (customer_id"}},
      {"group_order_limit",
       numbered("SELECT customer_id, count(*) FROM orders WHERE status = 'new' AND created >= '2024-02-@D' "
                "GROUP BY customer_id ORDER BY count(*) DESC LIMIT 10"),
       {" ON public.orders (status, created"}},
      // The upsert is costed with the rest (EXPLAIN of an INSERT executes nothing); its conflict
      // target's unique index is all it needs.
      {"on_conflict",
       [] {
         std::vector<std::string> v = numbered(
             "INSERT INTO customers (id, email, name) VALUES (#, 'u#', 'n') ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name");
         for (const auto& s : numbered("SELECT id FROM customers WHERE name = 'n#'")) v.push_back(s);
         return v;
       }(),
       {" ON public.customers (name"}},
      // A window's PARTITION BY is no filter: the WHERE decides the index (and the window's
      // ORDER BY may follow it).
      {"window_partition_by",
       numbered("SELECT id, created, row_number() OVER (PARTITION BY customer_id ORDER BY created DESC) FROM orders "
                "WHERE customer_id = #7"),
       {" ON public.orders (customer_id"}},
      {"window_partition_by_other_column",
       numbered("SELECT status, count(*) OVER (PARTITION BY status) FROM orders "
                "WHERE created >= '2024-02-@D 10:00' AND created < '2024-02-@D 11:00'"),
       {" ON public.orders (created"}},
      // The C.UTF-8 database collation is not C: only text_pattern_ops serves LIKE 'prefix%'.
      {"like_prefix", numbered("SELECT id FROM customers WHERE email LIKE 'user#7@%'"),
       {" ON public.customers (email text_pattern_ops);"}},
      // The same key value in every logged statement is a sampling accident, not a constant of the
      // application: a plain index, never one `WHERE customer_id = 17` (checked below).
      {"key_constant", numbered("SELECT note FROM orders WHERE customer_id = 17"), {" ON public.orders (customer_id)"}},
  };
  for (const auto& shape : shapes) {
    std::string report;
    auto lines = recommended(logged(shape.statements, shape.name), &report);
    EXPECT_EQ(report.find("could not be costed"), std::string::npos) << shape.name << "\n" << report;
    ASSERT_EQ(lines.size(), shape.expected.size()) << shape.name << "\n" << report;
    for (size_t i = 0; i < lines.size(); ++i)
      EXPECT_NE(lines[i].find(shape.expected[i]), std::string::npos) << shape.name << "\n" << report;
    if (shape.name == "key_constant") {
      for (const auto& l : lines) EXPECT_EQ(l.find(" WHERE "), std::string::npos) << report;
    }
    if (shape.name == "exists_window" || shape.name == "like_prefix") {
      apply(lines);
      std::string plan = query("EXPLAIN " + shape.statements.front());
      EXPECT_EQ(plan.find(shape.name == "like_prefix" ? "Seq Scan on customers" : "Seq Scan on orders"), std::string::npos)
          << shape.name << "\n" << plan;
    }
  }
}

// A column of C collation sorts bytewise: a plain B-tree serves LIKE 'prefix%' (and its ordering
// and ranges, which text_pattern_ops would not). Applied as printed, the planner uses it.
TEST_F(SchemaShapes, LikePrefixOnACCollationColumnGetsAPlainBtree) {
  exec(kDb, "CREATE TABLE codes (id integer PRIMARY KEY, code text COLLATE \"C\" NOT NULL, note text);"
            "INSERT INTO codes SELECT g, 'code' || g, md5(g::text) FROM generate_series(1, 50000) g");
  exec(kDb, "VACUUM ANALYZE codes");
  std::string report;
  auto lines = recommended(logged(numbered("SELECT note FROM codes WHERE code LIKE 'code#7%'"), "c_like"), &report);
  ASSERT_EQ(lines.size(), 1u) << report;
  EXPECT_NE(lines[0].find(" ON public.codes (code)"), std::string::npos) << report;
  EXPECT_EQ(lines[0].find("pattern_ops"), std::string::npos) << report;
  apply(lines);
  std::string plan = query("EXPLAIN SELECT note FROM codes WHERE code LIKE 'code17%'");
  EXPECT_EQ(plan.find("Seq Scan on codes"), std::string::npos) << plan;
}

// `= ANY($1::int[])` through the extended protocol, the array bound as a parameter (logged as
// `parameters: $1 = '{...}'`): costed with the logged array, the IN-list column gets its index.
TEST_F(SchemaShapes, AnyOfABoundArrayParameter) {
  shop();
  std::vector<std::string> statements(20, "SELECT note FROM orders WHERE customer_id = ANY($1::int[])");
  std::string report;
  auto lines = recommended(logged(statements, "any_param", "postgres", "{17,370,4711}"), &report);
  EXPECT_EQ(report.find("could not be costed"), std::string::npos) << report;
  ASSERT_EQ(lines.size(), 1u) << report;
  EXPECT_NE(lines[0].find(" ON public.orders (customer_id"), std::string::npos) << report;
}

// A temporary table exists only in its session: nothing to index, and the rest still is.
TEST_F(SchemaShapes, TemporaryTablesAreLeftOut) {
  shop();
  std::vector<std::string> statements = {"CREATE TEMP TABLE scratch AS SELECT id, note FROM orders"};
  for (const auto& s : numbered("SELECT note FROM scratch WHERE id = #")) statements.push_back(s);
  for (const auto& s : numbered("SELECT name FROM customers WHERE email = 'user#@example.com'")) statements.push_back(s);
  std::string report;
  auto lines = recommended(logged(statements, "temp"), &report);
  ASSERT_EQ(lines.size(), 1u) << report;
  EXPECT_NE(lines[0].find(" ON public.customers (email"), std::string::npos) << report;
}

// Legacy inheritance: a statement on the parent reads its children too, and an index on the parent
// covers only the parent. Each table of the tree gets the index; applied, no child is scanned whole.
TEST_F(SchemaShapes, InheritanceChildrenGetTheIndexToo) {
  exec(kDb,
       "CREATE TABLE readings (id integer NOT NULL, sensor integer NOT NULL, value double precision);"
       "CREATE TABLE readings_2023 () INHERITS (readings); CREATE TABLE readings_2024 () INHERITS (readings);"
       "INSERT INTO readings_2023 SELECT g, g % 5000, random() FROM generate_series(1, 50000) g;"
       "INSERT INTO readings_2024 SELECT g, g % 5000, random() FROM generate_series(50001, 100000) g");
  exec(kDb, "VACUUM ANALYZE readings, readings_2023, readings_2024");
  std::string report;
  auto lines = recommended(logged(repeated("SELECT value FROM readings WHERE sensor = ", ""), "inherits"), &report);
  ASSERT_EQ(lines.size(), 3u) << report;
  EXPECT_NE(lines[0].find(" ON public.readings (sensor"), std::string::npos) << report;
  EXPECT_NE(lines[1].find(" ON public.readings_2023 (sensor"), std::string::npos) << report;
  EXPECT_NE(lines[2].find(" ON public.readings_2024 (sensor"), std::string::npos) << report;
  apply(lines);
  std::string plan = query("EXPLAIN SELECT value FROM readings WHERE sensor = 37");
  EXPECT_EQ(plan.find("Seq Scan on readings_20"), std::string::npos) << plan;
}

// jsonb: a field compared as text (->>, also under ->) gets an expression index; containment (@>)
// gets GIN advice, which HypoPG cannot cost, with the reason. Applied as printed, the planner
// uses the expression index.
TEST_F(SchemaShapes, JsonbFieldsAndContainment) {
  exec(kDb,
       "CREATE TABLE docs (id integer PRIMARY KEY, doc jsonb NOT NULL);"
       "INSERT INTO docs SELECT g, jsonb_build_object('owner', 'u' || g, 'meta', jsonb_build_object('team', 't' || g), "
       "'tag', 'tag' || (g % 5000)) FROM generate_series(1, 50000) g");
  exec(kDb, "VACUUM ANALYZE docs");
  std::string report;
  auto lines = recommended(logged(numbered("SELECT id FROM docs WHERE doc -> 'meta' ->> 'team' = 't#7'"), "jsonb_nested"), &report);
  ASSERT_EQ(lines.size(), 1u) << report;
  EXPECT_NE(lines[0].find(" ON public.docs (((doc -> 'meta') ->> 'team'));"), std::string::npos) << report;
  apply(lines);
  std::string plan = query("EXPLAIN SELECT id FROM docs WHERE doc -> 'meta' ->> 'team' = 't77'");
  EXPECT_EQ(plan.find("Seq Scan on docs"), std::string::npos) << plan;

  std::string out;
  std::string log = logged(numbered("SELECT id FROM docs WHERE doc @> '{\"tag\": \"tag#\"}'"), "jsonb_contains");
  EXPECT_EQ(run(std::string(PGOPT_BINARY) + " analyze --db '" + conninfo_ + "' --format markdown " + log, &out), 0) << out;
  EXPECT_NE(out.find("CREATE INDEX CONCURRENTLY ON public.docs USING gin (doc)"), std::string::npos) << out;
  EXPECT_NE(out.find("HypoPG cannot cost a GIN index: --verify measures it"), std::string::npos) << out;
}

// Unlogged tables get no advice, and the report says why; the rest of the workload still does.
TEST_F(SchemaShapes, UnloggedTablesAreSkippedWithTheReason) {
  shop();
  exec(kDb, "CREATE UNLOGGED TABLE staging AS SELECT id, note FROM orders; ANALYZE staging");
  std::vector<std::string> statements = numbered("SELECT note FROM staging WHERE id = #3");
  for (const auto& s : numbered("SELECT name FROM customers WHERE email = 'user#@example.com'")) statements.push_back(s);
  std::string log = logged(statements, "unlogged"), report;
  auto lines = recommended(log, &report);
  ASSERT_EQ(lines.size(), 1u) << report;
  EXPECT_NE(lines[0].find(" ON public.customers (email"), std::string::npos) << report;
  std::string out;
  EXPECT_EQ(run(std::string(PGOPT_BINARY) + " analyze --db '" + conninfo_ + "' --format markdown " + log, &out), 0) << out;
  EXPECT_NE(out.find("no advice for public.staging: unlogged table"), std::string::npos) << out;
  EXPECT_NE(out.find("skipped: it reads public.staging"), std::string::npos) << out;
  EXPECT_EQ(out.find("not in the database"), std::string::npos) << out;
}

}  // namespace
