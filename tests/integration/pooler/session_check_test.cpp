// Session state changed where the pooler cannot read it (functions, procedures, DO, dynamic SQL,
// triggers, rules, views, bind parameters, pipelines): client B, on the very server connection A
// used (pool_size 1), never sees it; A keeps what can follow it to another server.
#include <libpq-fe.h>

#include "harness.hpp"

namespace pgopt::test {
namespace {

constexpr const char* kDb = "pgopt_check";

// How A sends its statements.
enum class Via { Simple, Params, Prepared, Pipeline };

struct Case {
  std::string name;
  std::vector<std::string> a_runs;  // A's statements in order; errors are allowed (a failed txn is rolled back)
  std::string probe;                // run by B, then by A
  std::string fresh;                // what a fresh session sees
  std::string a_keeps;              // what A sees afterwards ("" = state that cannot follow A: not checked)
  Via via = Via::Simple;
  std::vector<std::string> params = {};  // for Params / Prepared / Pipeline: one statement, these values
};

void run_a(PGconn* a, const Case& c) {
  std::vector<const char*> values;
  for (const auto& p : c.params) values.push_back(p.c_str());
  const int n = int(values.size());
  switch (c.via) {
    case Via::Simple:
      for (const auto& sql : c.a_runs) Result r(PQexec(a, sql.c_str()));
      break;
    case Via::Params: {
      Result r(PQexecParams(a, c.a_runs.at(0).c_str(), n, nullptr, values.data(), nullptr, nullptr, 0));
      EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(a);
      break;
    }
    case Via::Prepared: {
      Result p(PQprepare(a, "a_stmt", c.a_runs.at(0).c_str(), n, nullptr));
      ASSERT_EQ(PQresultStatus(p.get()), PGRES_COMMAND_OK) << PQerrorMessage(a);
      Result r(PQexecPrepared(a, "a_stmt", n, values.data(), nullptr, nullptr, 0));
      EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(a);
      break;
    }
    case Via::Pipeline: {
      ASSERT_EQ(PQenterPipelineMode(a), 1);
      ASSERT_EQ(PQsendQueryParams(a, "SELECT 1", 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
      ASSERT_EQ(PQsendQueryParams(a, c.a_runs.at(0).c_str(), n, nullptr, values.data(), nullptr, nullptr, 0), 1);
      ASSERT_EQ(PQpipelineSync(a), 1);
      // Two results, each followed by a null, then the sync.
      for (int i = 0; i < 2; ++i) {
        Result r(PQgetResult(a));
        EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(a);
        Result end(PQgetResult(a));
        EXPECT_EQ(end, nullptr);
      }
      Result sync(PQgetResult(a));
      EXPECT_EQ(PQresultStatus(sync.get()), PGRES_PIPELINE_SYNC);
      EXPECT_EQ(PQexitPipelineMode(a), 1);
      break;
    }
  }
  if (PQtransactionStatus(a) == PQTRANS_INERROR) Result r(PQexec(a, "ROLLBACK"));
  ASSERT_EQ(PQtransactionStatus(a), PQTRANS_IDLE);
}

class SessionCheck : public ::testing::TestWithParam<Case> {
 public:
  static void SetUpTestSuite() {
    Conn d = direct("postgres");
    Result(PQexec(d.get(), "DROP DATABASE IF EXISTS pgopt_check WITH (FORCE)"));
    ok(d.get(), "CREATE DATABASE pgopt_check");
    Conn c = direct(kDb);
    ok(c.get(), R"sql(
      CREATE FUNCTION set_tenant(t text) RETURNS text LANGUAGE sql AS $$SELECT set_config('app.tenant', t, false)$$;
      CREATE FUNCTION set_tenant_pl(t text) RETURNS void LANGUAGE plpgsql AS
        $$BEGIN PERFORM set_config('app.tenant', t, false); END$$;
      CREATE FUNCTION set_path(p text) RETURNS void LANGUAGE plpgsql AS $$BEGIN EXECUTE 'SET search_path = ' || p; END$$;
      CREATE FUNCTION become(r text) RETURNS void LANGUAGE plpgsql AS $$BEGIN EXECUTE 'SET ROLE ' || quote_ident(r); END$$;
      CREATE FUNCTION tenant_rows(t text) RETURNS TABLE (v text) LANGUAGE sql AS $$SELECT set_config('app.tenant', t, false)$$;
      CREATE FUNCTION scoped() RETURNS text LANGUAGE sql SET work_mem = '1MB' AS $$SELECT current_setting('work_mem')$$;
      CREATE FUNCTION make_temp() RETURNS void LANGUAGE plpgsql AS $$BEGIN CREATE TEMP TABLE fn_temp (x int); END$$;
      CREATE FUNCTION lock_it() RETURNS void LANGUAGE plpgsql AS $$BEGIN PERFORM pg_advisory_lock(77); END$$;
      CREATE PROCEDURE proc_tenant(t text) LANGUAGE plpgsql AS $$BEGIN PERFORM set_config('app.tenant', t, false); END$$;
      CREATE TABLE trig_t (x int);
      CREATE FUNCTION trig_fn() RETURNS trigger LANGUAGE plpgsql AS
        $$BEGIN PERFORM set_config('app.trig', 'fired', false); RETURN NEW; END$$;
      CREATE TRIGGER trig BEFORE INSERT ON trig_t FOR EACH ROW EXECUTE FUNCTION trig_fn();
      CREATE TABLE def_t (x text DEFAULT set_tenant('from default'));
      CREATE TABLE rule_t (x int);
      CREATE RULE rule_r AS ON INSERT TO rule_t DO ALSO SELECT set_config('app.rule', 'ran', false);
      CREATE VIEW tenant_view AS SELECT set_tenant('from view') AS v;
      GRANT ALL ON SCHEMA public TO trust_user;
    )sql");
  }
  static void TearDownTestSuite() {
    Conn d = direct("postgres");
    Result(PQexec(d.get(), "DROP DATABASE IF EXISTS pgopt_check WITH (FORCE)"));
  }
};

// PGOPT_TEST_EXTERNAL_POOLER=PORT runs the table through another pooler already listening there in
// transaction mode with one server connection (bench/session_leaks.sh puts PgBouncer there): a
// failure then says that pooler lets the state through.
int external_pooler_port() {
  const char* v = std::getenv("PGOPT_TEST_EXTERNAL_POOLER");
  return v ? std::atoi(v) : 0;
}

std::string tenant(const char* guc = "app.tenant") {
  return std::string("SELECT coalesce(nullif(current_setting('") + guc + "', true), ''), '<none>')";
}

TEST_P(SessionCheck, ClientBNeverSeesAndClientAKeeps) {
  const Case& c = GetParam();
  PoolerOptions o;
  o.pool_size = 1;
  o.users = "\"postgres\" \"x\"\n";
  o.databases = std::string("[databases.") + kDb + "]\nhost = \"127.0.0.1\"\nport = " +
                std::to_string(ClusterEnv::instance().primary_port) + "\n";
  std::unique_ptr<Pooler> p;
  std::string conninfo;
  if (int port = external_pooler_port()) {
    conninfo = "host=127.0.0.1 port=" + std::to_string(port) + " dbname=" + kDb + " user=postgres";
  } else {
    p = std::make_unique<Pooler>(o);
    conninfo = p->conninfo("postgres", kDb);
  }
  Conn a = connect_ok(conninfo);
  Conn b = connect_ok(conninfo);
  {
    Conn d = direct(kDb);
    ASSERT_EQ(value(d.get(), c.probe), c.fresh) << "the case's idea of a fresh session is wrong";
  }
  const std::string a_pid = value(a.get(), "SELECT pg_backend_pid()");
  run_a(a.get(), c);
  EXPECT_EQ(value(b.get(), c.probe), c.fresh) << "B saw A's " << c.name;
  EXPECT_EQ(value(b.get(), "SELECT pg_backend_pid()"), a_pid) << "B did not run on A's server connection";
  if (!c.a_keeps.empty()) {
    EXPECT_EQ(value(a.get(), c.probe), c.a_keeps) << "A lost its own " << c.name;
    EXPECT_EQ(value(b.get(), c.probe), c.fresh) << "B saw A's " << c.name << " the second time";
  }
  EXPECT_EQ(value(b.get(), "SELECT current_user || '/' || session_user"), "postgres/postgres");
}

const std::string kRole = "SELECT current_user";
const std::string kPath = "SHOW search_path";

INSTANTIATE_TEST_SUITE_P(
    TransactionMode, SessionCheck,
    ::testing::Values(
        // Through functions and procedures (settings follow A).
        Case{"sql_function", {"SELECT set_tenant('A')"}, tenant(), "<none>", "A"},
        Case{"plpgsql_function", {"SELECT set_tenant_pl('A')"}, tenant(), "<none>", "A"},
        Case{"function_in_from", {"SELECT * FROM tenant_rows('A')"}, tenant(), "<none>", "A"},
        Case{"function_in_where", {"SELECT 1 WHERE set_tenant('A') IS NOT NULL"}, tenant(), "<none>", "A"},
        Case{"procedure", {"CALL proc_tenant('A')"}, tenant(), "<none>", "A"},
        Case{"dynamic_search_path", {"SELECT set_path('pg_catalog, public')"}, kPath, "\"$user\", public",
             "pg_catalog, public"},
        Case{"function_set_role", {"SELECT become('trust_user')"}, kRole, "postgres", "trust_user"},
        Case{"function_set_clause_restores", {"SELECT scoped()"}, "SHOW work_mem", "4MB", "4MB"},
        // DO blocks and dynamic SQL.
        Case{"do_set_config", {"DO $$BEGIN PERFORM set_config('app.tenant', 'A', false); END$$"}, tenant(), "<none>",
             "A"},
        Case{"do_execute_set", {"DO $$BEGIN EXECUTE 'SET app.tenant = ''A'''; END$$"}, tenant(), "<none>", "A"},
        Case{"do_set_role", {"DO $$BEGIN EXECUTE 'SET ROLE trust_user'; END$$"}, kRole, "postgres", "trust_user"},
        Case{"do_session_authorization", {"DO $$BEGIN EXECUTE 'SET SESSION AUTHORIZATION trust_user'; END$$"},
             "SELECT session_user", "postgres", ""},
        Case{"do_prepare", {"DO $$BEGIN EXECUTE 'PREPARE hidden AS SELECT 1'; END$$"},
             "SELECT count(*) FROM pg_prepared_statements WHERE name = 'hidden'", "0", ""},
        Case{"do_listen", {"DO $$BEGIN EXECUTE 'LISTEN hidden_channel'; END$$"},
             "SELECT count(*) FROM pg_listening_channels()", "0", ""},
        Case{"function_temp_table", {"SELECT make_temp()"},
             "SELECT coalesce(to_regclass('pg_temp.fn_temp')::text, 'none')", "none", ""},
        Case{"function_advisory_lock", {"SELECT lock_it()"},
             "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()", "0", ""},
        // Code that runs without being named.
        Case{"trigger", {"INSERT INTO trig_t VALUES (1)"}, tenant("app.trig"), "<none>", "fired"},
        Case{"trigger_in_transaction", {"BEGIN", "INSERT INTO trig_t VALUES (2)", "COMMIT"}, tenant("app.trig"),
             "<none>", "fired"},
        Case{"column_default", {"INSERT INTO def_t DEFAULT VALUES"}, tenant(), "<none>", "from default"},
        Case{"rule", {"INSERT INTO rule_t VALUES (1)"}, tenant("app.rule"), "<none>", "ran"},
        Case{"view", {"SELECT * FROM tenant_view"}, tenant(), "<none>", "from view"},
        // Bind parameters, extended protocol, pipelines.
        Case{"bind_set_config", {"SELECT set_config($1, $2, false)"}, tenant(), "<none>", "A", Via::Params,
             {"app.tenant", "A"}},
        Case{"bind_set_config_prepared", {"SELECT set_config($1, $2, false)"}, tenant(), "<none>", "A", Via::Prepared,
             {"app.tenant", "A"}},
        Case{"bind_function", {"SELECT set_tenant($1)"}, tenant(), "<none>", "A", Via::Params, {"A"}},
        Case{"prepared_function", {"SELECT set_tenant($1)"}, tenant(), "<none>", "A", Via::Prepared, {"A"}},
        Case{"pipeline_set_config", {"SELECT set_config($1, $2, false)"}, tenant(), "<none>", "A", Via::Pipeline,
             {"app.tenant", "A"}},
        Case{"sql_execute", {"PREPARE pt AS SELECT set_tenant('A')", "EXECUTE pt"}, tenant(), "<none>", "A"},
        // Transactions and errors half-way.
        Case{"committed_transaction", {"BEGIN", "SELECT set_tenant('A')", "COMMIT"}, tenant(), "<none>", "A"},
        Case{"rolled_back_transaction", {"BEGIN", "SELECT set_tenant('A')", "ROLLBACK"}, tenant(), "<none>",
             "<none>"},
        Case{"error_after_function", {"BEGIN", "SELECT set_tenant('A')", "SELECT 1/0", "COMMIT"}, tenant(), "<none>",
             "<none>"},
        Case{"error_in_same_string", {"SELECT set_tenant('A'); SELECT 1/0"}, tenant(), "<none>", "<none>"},
        Case{"savepoint_rolled_back", {"BEGIN", "SAVEPOINT s", "SELECT set_tenant('A')", "ROLLBACK TO s", "COMMIT"},
             tenant(), "<none>", "<none>"},
        Case{"savepoint_released", {"BEGIN", "SAVEPOINT s", "SELECT set_tenant('A')", "RELEASE s", "COMMIT"}, tenant(),
             "<none>", "A"}),
    [](const auto& info) { return info.param.name; });

// The catalog's own rules (pg_settings' UPDATE and INSERT rules, in every database) are no user
// code: a write in a database without functions, triggers or rules of its own costs no session
// check (pgbench's TPC-B paid one round trip per transaction for them: 0.27x PgBouncer's TPS), and
// UPDATE pg_settings, which runs set_config() through the catalog's rule, is still checked.
TEST(SessionCheckCodeReach, CatalogRulesAreNotUserCodeButWritingPgSettingsIsChecked) {
  constexpr const char* kNoCode = "pgopt_nocode";
  {
    Conn d = direct();
    ok(d.get(), "DROP DATABASE IF EXISTS pgopt_nocode");
    ok(d.get(), "CREATE DATABASE pgopt_nocode");
  }
  {
    Conn d = direct(kNoCode);
    ok(d.get(), "CREATE TABLE plain_t (id int)");
  }
  PoolerOptions o;
  o.pool_size = 1;
  o.users = "\"postgres\" \"x\"\n";
  o.databases = std::string("[databases.") + kNoCode + "]\nhost = \"127.0.0.1\"\nport = " +
                std::to_string(ClusterEnv::instance().primary_port) + "\n";
  Pooler p(o);
  Conn a = connect_ok(p.conninfo("postgres", kNoCode));
  Conn b = connect_ok(p.conninfo("postgres", kNoCode));
  for (int i = 0; i < 3; ++i) ok(a.get(), "INSERT INTO plain_t VALUES (1)");
  ok(a.get(), "BEGIN");
  ok(a.get(), "UPDATE plain_t SET id = 2");
  ok(a.get(), "COMMIT");
  EXPECT_EQ(value(b.get(), "SELECT count(*) FROM plain_t WHERE id = 2"), "3");
  EXPECT_EQ(p.log().find("session check"), std::string::npos) << "a plain write was checked:\n" << p.log();
  ok(a.get(), "UPDATE pg_settings SET setting = '7MB' WHERE name = 'work_mem'");
  EXPECT_EQ(value(b.get(), "SHOW work_mem"), "4MB") << "B saw A's work_mem";
  EXPECT_EQ(value(a.get(), "SHOW work_mem"), "7MB") << "A lost its own work_mem";
  EXPECT_TRUE(p.wait_log("a write to pg_settings")) << p.log();
}

// The escape hatch: a reset after every transaction, whatever the statements were. currval() is
// state the pooler does not track (nor does PgBouncer): without the reset B would read A's value.
TEST(SessionCheckAlways, ServerResetQueryAlwaysResetsAfterEveryTransaction) {
  {
    Conn d = direct();
    ok(d.get(), "CREATE SEQUENCE IF NOT EXISTS always_seq");
  }
  for (bool always : {false, true}) {
    PoolerOptions o;
    o.pool_size = 1;
    o.users = "\"postgres\" \"x\"\n";
    if (always) o.pooler_extra = "server_reset_query_always = true\n";
    Pooler p(o);
    Conn a = connect_ok(p.conninfo());
    Conn b = connect_ok(p.conninfo());
    ok(a.get(), "SET statement_timeout = '4321ms'");
    ok(a.get(), "SELECT nextval('always_seq')");
    EXPECT_EQ(error_of(b.get(), "SELECT currval('always_seq')"), always ? "55000" : "")
        << (always ? "the reset did not run" : "currval is expected to survive without the reset");
    // A plain SET follows A either way.
    EXPECT_EQ(value(a.get(), "SHOW statement_timeout"), "4321ms");
    EXPECT_EQ(value(b.get(), "SHOW statement_timeout"), "0");
  }
}

}  // namespace
}  // namespace pgopt::test
