// deploy/: the Grafana dashboard and the Prometheus alerts parse and name only metrics a real
// pooler exports (deploy/check_metrics.py against this pooler's /metrics), and a renamed metric
// makes that check fail.
#include "harness.hpp"

namespace pgopt::test {
namespace {

const std::string kDeploy = std::string(PGOPT_SOURCE_DIR) + "/deploy";

TEST(Deploy, DashboardAndAlertsUseOnlyExportedMetrics) {
  int metrics_port = free_port();
  const auto& env = ClusterEnv::instance();
  PoolerOptions o;
  o.pooler_extra = "metrics_port = " + std::to_string(metrics_port) + "\n";
  // A splitting database, so the replica and routing series have samples, not only their families.
  o.databases = "[databases.pgopt_test]\nhost = \"127.0.0.1\"\nport = " + std::to_string(env.primary_port) +
                "\nread_write_split = true\nreplicas = [{ host = \"127.0.0.1\", port = " +
                std::to_string(env.replica_port) + " }]\n";
  Pooler p(o);
  Conn c = connect_ok(p.conninfo("trust_user"));
  EXPECT_EQ(value(c.get(), "SELECT 1"), "1");
  std::string url = "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics";
  std::string check = "python3 " + kDeploy + "/check_metrics.py " + url + " ";

  int status = -1;
  std::string out = run(check + kDeploy + "/grafana/pgopt.json " + kDeploy + "/prometheus/alerts.yml", &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("ok: "), std::string::npos) << out;

  // The same dashboard after a metric rename: the check names the panel and the metric.
  std::string renamed = (p.dir() / "renamed.json").string();
  run("sed 's/pgopt_transactions_total/pgopt_transactions_count/g' " + kDeploy + "/grafana/pgopt.json > " + renamed);
  out = run(check + renamed + " " + kDeploy + "/prometheus/alerts.yml", &status);
  EXPECT_EQ(status, 1) << out;
  EXPECT_NE(out.find("pgopt_transactions_count is not exported by pgopt"), std::string::npos) << out;

  // A file that is not JSON does not pass either.
  std::string broken = (p.dir() / "broken.json").string();
  std::ofstream(broken) << "{\"panels\": [";
  run(check + broken + " " + kDeploy + "/prometheus/alerts.yml", &status);
  EXPECT_NE(status, 0);
}

}  // namespace
}  // namespace pgopt::test
