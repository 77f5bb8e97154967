// The HTML report as people read it: Debian's headless Chromium loads a generated report
// (tests/browser/check_report.js over the DevTools protocol) at 1280 and 390 px, with no console
// error, the summary and the first recommendation visible, no sideways scrolling, a screenshot
// each; and `--fail-above PCT` for CI. Offline (--schema); the browser test is skipped only where
// chromium or node is missing (scripts/setup.sh installs both).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "analyzer_test_util.hpp"

namespace {

using pgopt::test::analyzer_util::slurp;

class ReportBrowser : public ::testing::Test {
 protected:
  std::string dir_ = std::string(::testing::TempDir()) + "pgopt_report_browser_" + std::to_string(::getpid());

  void SetUp() override {
    ASSERT_EQ(std::system(("rm -rf " + dir_ + " && mkdir -p " + dir_).c_str()), 0);
    std::ofstream(dir_ + "/schema.sql")
        << "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, status text, total numeric);\n"
           "CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, name text);\n";
    std::ofstream log(dir_ + "/app.log");
    for (int i = 0; i < 400; ++i) {
      log << "2024-05-01 10:00:" << (10 + i % 50) << ".000 UTC [" << 100 + i % 7 << "] app@shop LOG:  duration: 1.500 ms  "
          << "statement: SELECT id, total FROM orders WHERE customer_id = " << i << "\n";
      if (i % 3 == 0)
        log << "2024-05-01 10:00:" << (10 + i % 50) << ".000 UTC [" << 200 + i % 5 << "] app@shop LOG:  duration: 0.700 ms  "
            << "statement: SELECT name FROM customers WHERE email = 'user" << i << "@example.com'\n";
    }
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  int sh(const std::string& cmd, std::string* out = nullptr) const {
    int rc = std::system((cmd + " > " + dir_ + "/out.txt 2>&1").c_str());
    if (out) *out = slurp(dir_ + "/out.txt");
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  int analyze(const std::string& args, std::string* out = nullptr) const {
    return sh(std::string(PGOPT_BINARY) + " analyze --schema " + dir_ + "/schema.sql " + dir_ + "/app.log " + args, out);
  }
  bool have_browser() const {
    return std::filesystem::exists("/usr/bin/chromium") && sh("node --version") == 0;
  }
  int check(const std::string& html, std::string* out) const {
    return sh("node --experimental-websocket " + std::string(PGOPT_SOURCE_DIR) + "/tests/browser/check_report.js " +
                  html + " " + dir_ + "/shots 1280 390",
              out);
  }
};

TEST_F(ReportBrowser, RendersAtDesktopAndPhoneWidths) {
  if (!have_browser()) GTEST_SKIP() << "chromium or node missing (scripts/setup.sh installs them)";
  std::string out;
  ASSERT_EQ(analyze("--format html -o " + dir_ + "/report.html", &out), 0) << out;
  std::string html = slurp(dir_ + "/report.html");
  EXPECT_NE(html.find("<h3>Index size against benefit</h3>"), std::string::npos);
  EXPECT_NE(html.find("<h3>Cost per statement group, before and after</h3>"), std::string::npos);
  int rc = check(dir_ + "/report.html", &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\"consoleErrors\": []"), std::string::npos) << out;
  for (const char* w : {"1280", "390"}) {
    auto png = dir_ + "/shots/report-" + w + ".png";
    ASSERT_TRUE(std::filesystem::exists(png)) << png;
    EXPECT_GT(std::filesystem::file_size(png), 10000u) << png;  // a rendered page, not a blank image
    EXPECT_EQ(slurp(png).substr(1, 3), "PNG");
  }
  EXPECT_NE(out.find("\"firstRecommendationText\": \"1. "), std::string::npos) << out;
  // Keep a copy for a human to look at when the test fails (PGOPT_KEEP_SCREENSHOTS=DIR).
  if (const char* keep = std::getenv("PGOPT_KEEP_SCREENSHOTS"))
    sh("cp " + dir_ + "/shots/*.png " + dir_ + "/report.html " + keep);
}

// The check can fail: a console error, and a page wider than a phone, are both caught.
TEST_F(ReportBrowser, TheCheckSeesConsoleErrorsAndSidewaysScrolling) {
  if (!have_browser()) GTEST_SKIP() << "chromium or node missing (scripts/setup.sh installs them)";
  std::string out;
  ASSERT_EQ(analyze("--format html -o " + dir_ + "/report.html", &out), 0) << out;
  std::string html = slurp(dir_ + "/report.html");
  std::string bad = html;
  bad.replace(bad.find("</body>"), 7, "<script>console.error('broken chart')</script></body>");
  std::ofstream(dir_ + "/console.html") << bad;
  EXPECT_EQ(check(dir_ + "/console.html", &out), 1) << out;
  EXPECT_NE(out.find("broken chart"), std::string::npos) << out;
  std::string wide = html;
  wide.replace(wide.find("</body>"), 7, "<div style=\"width:2000px\">wide</div></body>");
  std::ofstream(dir_ + "/wide.html") << wide;
  EXPECT_EQ(check(dir_ + "/wide.html", &out), 1) << out;
  EXPECT_NE(out.find("\"noHorizontalScroll\": false"), std::string::npos) << out;
}

TEST_F(ReportBrowser, FailAboveExitsThreeWhenAnIndexWouldSaveMoreThanThat) {
  std::string out;
  EXPECT_EQ(analyze("--format sql --fail-above 5", &out), 3) << out;
  EXPECT_NE(out.find("pgopt analyze: --fail-above 5: CREATE INDEX"), std::string::npos) << out;
  EXPECT_NE(out.find("CREATE INDEX CONCURRENTLY"), std::string::npos) << out;  // the report is still written
  EXPECT_EQ(analyze("--format sql --fail-above 100", &out), 0) << out;
  EXPECT_EQ(out.find("--fail-above"), std::string::npos) << out;
  EXPECT_EQ(analyze("--fail-above lots", &out), 2) << out;
  EXPECT_NE(out.find("--fail-above must be a percentage between 0 and 100, not 'lots'"), std::string::npos) << out;
}

}  // namespace
