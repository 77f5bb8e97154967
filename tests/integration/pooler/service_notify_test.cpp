// systemd's Type=notify protocol, received on a NOTIFY_SOCKET of the test's own (as systemd would):
// READY=1 only once clients can connect, RELOADING=1 then READY=1 around a reload (also a refused
// one), STOPPING=1 when the drain starts.
#include <sys/un.h>

#include "harness.hpp"

namespace pgopt::test {
namespace {

class NotifySocket {
 public:
  NotifySocket() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pgopt-notify-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
    dir_ = tmpl;
    path_ = (dir_ / "notify.sock").string();
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path_.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind " + path_);
    timeval tv{10, 0};  // the longest any message may take to come
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() {
    ::close(fd_);
    std::filesystem::remove_all(dir_);
  }
  const std::string& path() const { return path_; }
  // The next message, or "" after the timeout.
  std::string next() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, size_t(n)) : std::string();
  }

 private:
  std::filesystem::path dir_;
  std::string path_;
  int fd_ = -1;
};

bool has_line(const std::string& msg, const std::string& line) {
  return ("\n" + msg + "\n").find("\n" + line + "\n") != std::string::npos;
}

TEST(ServiceNotify, ReadyReloadingStoppingReachSystemd) {
  NotifySocket notify;
  ::setenv("NOTIFY_SOCKET", notify.path().c_str(), 1);
  PoolerOptions o;
  o.pooler_extra = "metrics_port = " + std::to_string(free_port());
  Pooler p(o);
  ::unsetenv("NOTIFY_SOCKET");

  std::string ready = notify.next();
  ASSERT_TRUE(has_line(ready, "READY=1")) << ready;
  EXPECT_TRUE(has_line(ready, "STATUS=accepting clients on 127.0.0.1:" + std::to_string(p.port))) << ready;
  EXPECT_TRUE(port_open(p.port));

  p.signal(SIGHUP);
  std::string reloading = notify.next();
  EXPECT_TRUE(has_line(reloading, "RELOADING=1")) << reloading;
  EXPECT_NE(reloading.find("MONOTONIC_USEC="), std::string::npos) << reloading;
  std::string reloaded = notify.next();
  EXPECT_TRUE(has_line(reloaded, "READY=1")) << reloaded;
  EXPECT_TRUE(has_line(reloaded, "STATUS=configuration reloaded")) << reloaded;

  // A broken file: the reload is refused, and systemd still hears that the service is ready again.
  p.write_raw_config("[pooler]\nlisten_port = \"no\"\n");
  p.signal(SIGHUP);
  EXPECT_TRUE(has_line(notify.next(), "RELOADING=1"));
  std::string refused = notify.next();
  EXPECT_TRUE(has_line(refused, "READY=1")) << refused;
  EXPECT_TRUE(has_line(refused, "STATUS=reload failed: running the previous configuration")) << refused;

  Conn c = connect_ok(p.conninfo("trust_user"));
  EXPECT_EQ(value(c.get(), "SELECT 1"), "1");
  c.reset();
  EXPECT_EQ(p.stop(), 0);
  std::string stopping = notify.next();
  EXPECT_TRUE(has_line(stopping, "STOPPING=1")) << stopping;
}

// Without NOTIFY_SOCKET (not under systemd) nothing is sent and nothing fails.
TEST(ServiceNotify, NoSocketNoEffect) {
  ::unsetenv("NOTIFY_SOCKET");
  Pooler p;
  Conn c = connect_ok(p.conninfo("trust_user"));
  EXPECT_EQ(value(c.get(), "SELECT 1"), "1");
  c.reset();
  EXPECT_EQ(p.stop(), 0);
}

}  // namespace
}  // namespace pgopt::test
