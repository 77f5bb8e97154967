// Inputs: gzip/zstd by magic bytes (not by name), stdin, globs, missing files, broken archives.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "analyzer/input.hpp"
#include "analyzer/input/byte_source.hpp"
#include "tests/unit/analyzer/input_test_util.hpp"

using namespace pgopt::analyzer;
namespace t = pgopt::analyzer::input_testing;
namespace fs = std::filesystem;

namespace {

const std::string kLog = std::string(PGOPT_FIXTURES) + "/logs/real_stderr.log";

std::string gzip(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = uInt(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3));
  return out;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/pgopt-input-src-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name, const std::string& data) const {
    std::string p = path_ + "/" + name;
    t::write_file(p, data);
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(InputSource, CompressedByMagicNotByName) {
  std::string plain = t::read_file(kLog);
  TempDir dir;
  InputResult want = read_logs({kLog}, {});
  ASSERT_TRUE(want.errors.empty());
  // Misleading names on purpose: the magic bytes decide.
  for (const auto& [name, data] : std::vector<std::pair<std::string, std::string>>{
           {"a.log", gzip(plain)}, {"b.gz", zstd(plain)}, {"c.zst", plain},
           {"d.log.gz", gzip(plain.substr(0, 1000)) + gzip(plain.substr(1000))}}) {  // two gzip members
    InputResult got = read_logs({dir.file(name, data)}, {});
    EXPECT_TRUE(got.errors.empty()) << name;
    EXPECT_EQ(t::diff_workloads(want.workload, got.workload), "") << name;
  }
}

TEST(InputSource, CompressedInMemory) {
  std::string plain = t::read_file(kLog);
  InputResult want = read_log_buffer(plain, {});
  InputResult gz = read_log_buffer(gzip(plain), {});
  InputResult zs = read_log_buffer(zstd(plain), {});
  EXPECT_EQ(t::diff_workloads(want.workload, gz.workload), "");
  EXPECT_EQ(t::diff_workloads(want.workload, zs.workload), "");
}

TEST(InputSource, TruncatedArchiveIsAnErrorButKeepsWhatWasRead) {
  std::string plain = t::read_file(kLog);
  TempDir dir;
  std::string gz = gzip(plain);
  std::string zs = zstd(plain);
  InputResult g = read_logs({dir.file("cut.gz", gz.substr(0, gz.size() / 2))}, {});
  ASSERT_EQ(g.errors.size(), 1u);
  EXPECT_NE(g.errors[0].find("gzip: unexpected end"), std::string::npos) << g.errors[0];
  EXPECT_GT(g.workload.statements, 0u);
  InputResult z = read_logs({dir.file("cut.zst", zs.substr(0, zs.size() / 2))}, {});
  ASSERT_EQ(z.errors.size(), 1u);
  EXPECT_NE(z.errors[0].find("zstd"), std::string::npos) << z.errors[0];
  std::string bad = gz;
  for (size_t i = 20; i < 60 && i < bad.size(); ++i) bad[i] = char(~bad[i]);
  InputResult b = read_logs({dir.file("bad.gz", bad)}, {});
  EXPECT_FALSE(b.errors.empty());
}

TEST(InputSource, MissingFilesAreReportedAndTheRestIsRead) {
  TempDir dir;
  std::string missing = dir.path() + "/nope.log";
  InputResult r = read_logs({missing, kLog, dir.path() + "/none-*.log", dir.path()}, {});
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0], missing + ": No such file or directory");
  EXPECT_EQ(r.errors[1], dir.path() + "/none-*.log: No such file or directory");
  EXPECT_EQ(r.errors[2], dir.path() + ": Is a directory");
  EXPECT_EQ(r.workload.statements, read_logs({kLog}, {}).workload.statements);
  EXPECT_EQ(r.workload.sources, std::vector<std::string>{kLog});
}

TEST(InputSource, GlobsExpandInOrder) {
  TempDir dir;
  std::string plain = t::read_file(kLog);
  dir.file("pg-2.log", plain);
  dir.file("pg-1.log", plain);
  dir.file("other.txt", "ignored");
  InputResult r = read_logs({dir.path() + "/pg-*.log"}, {});
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.workload.sources, (std::vector<std::string>{dir.path() + "/pg-1.log", dir.path() + "/pg-2.log"}));
  EXPECT_EQ(r.workload.statements, 2 * read_logs({kLog}, {}).workload.statements);
}

TEST(InputSource, DashReadsStdin) {
  std::string plain = t::read_file(kLog);
  TempDir dir;
  std::string gz = dir.file("in.gz", gzip(plain));
  int saved = dup(0);
  int fd = open(gz.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  dup2(fd, 0);
  close(fd);
  InputResult r = read_logs({"-"}, {});
  dup2(saved, 0);
  close(saved);
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.workload.sources, std::vector<std::string>{"<stdin>"});
  EXPECT_EQ(t::diff_workloads(read_logs({kLog}, {}).workload, r.workload), "");
}

TEST(InputSource, BadFormatOption) {
  InputOptions o;
  o.log_format = "syslog";
  InputResult r = read_logs({kLog}, o);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("unknown log format 'syslog'"), std::string::npos);
}

}  // namespace
