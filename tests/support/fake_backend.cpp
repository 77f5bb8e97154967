// FakeBackend: see fake_backend.hpp. Plain POSIX sockets, one thread per connection, poll() with
// deadlines everywhere so a test that goes wrong fails in seconds instead of hanging.
#include "support/fake_backend.hpp"

#include "support/wait.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pgopt::test {
namespace proto = pgopt::protocol;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint32_t kMaxMessage = 1u << 30;

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Offsets where each complete message of `bytes` ends.
std::vector<size_t> message_ends(const std::string& bytes) {
  std::vector<size_t> ends;
  size_t at = 0;
  while (at < bytes.size()) {
    auto d = proto::decode_frame(bytes_of(bytes).subspan(at), kMaxMessage);
    if (d.status != proto::DecodeStatus::Frame) break;
    at += d.frame.size;
    ends.push_back(at);
  }
  return ends;
}

// What the pooler asks every new pool's first server (ClientSession::look_up_code_reach).
bool is_code_reach_query(const std::string& sql) {
  return sql.rfind("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc", 0) == 0;
}

}  // namespace

std::string FakeMessage::text() const {
  std::string s = body;
  if (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

// ---- FakeConn --------------------------------------------------------------------------------

FakeConn::FakeConn(FakeBackend& owner, int fd, int index) : owner_(owner), fd_(fd), index_(index) {}

FakeConn::~FakeConn() { close(); }

void FakeConn::close() {
  if (fd_ < 0) return;
  {
    std::lock_guard lk(owner_.mu_);
    auto& fds = owner_.open_fds_;
    fds.erase(std::remove(fds.begin(), fds.end(), fd_), fds.end());
  }
  ::close(fd_);
  fd_ = -1;
}

bool FakeConn::fill(Clock::time_point deadline) {
  if (fd_ < 0) return false;
  for (;;) {
    if (owner_.stopping()) return false;
    const auto left = deadline == Clock::time_point::max()
                          ? 50
                          : std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) throw ScriptError("fake backend connection " + std::to_string(index_) + ": nothing from the pooler in time");
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, int(std::min<long long>(left, 50)));  // wakes up to see stop()
    if (r <= 0) continue;
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buf_.append(chunk, size_t(n));
      return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    return false;
  }
}

void FakeConn::write_all(const char* data, size_t n) {
  const auto deadline = Clock::now() + owner_.patience();
  while (n > 0) {
    if (fd_ < 0 || owner_.stopping()) throw ScriptError("fake backend: write after close or stop");
    ssize_t w = ::send(fd_, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
      data += w;
      n -= size_t(w);
      continue;
    }
    if (w < 0 && errno != EAGAIN && errno != EINTR)
      throw ScriptError("fake backend connection " + std::to_string(index_) + ": write failed: " + std::strerror(errno));
    if (Clock::now() > deadline) throw ScriptError("fake backend: the pooler did not read in time");
    pollfd p{fd_, POLLOUT, 0};
    ::poll(&p, 1, 50);
  }
}

void FakeConn::send(const std::string& bytes) { write_all(bytes.data(), bytes.size()); }

void FakeConn::send_cut(const std::string& bytes, const std::vector<size_t>& cuts) {
  size_t at = 0;
  for (size_t cut : cuts) {
    if (cut <= at || cut >= bytes.size()) continue;
    write_all(bytes.data() + at, cut - at);
    at = cut;
  }
  write_all(bytes.data() + at, bytes.size() - at);
}

void FakeConn::send_bytewise(const std::string& bytes) {
  for (char c : bytes) write_all(&c, 1);
}

void FakeConn::send_per_message(const std::string& bytes) { send_cut(bytes, message_ends(bytes)); }

void FakeConn::wait_until(const std::function<bool()>& cond, const char* what) {
  if (!owner_.wait(cond)) throw ScriptError(std::string("fake backend: gave up waiting for ") + what);
}

bool FakeConn::handshake() {
  const auto deadline = Clock::now() + owner_.patience();
  for (;;) {
    auto d = proto::decode_startup(bytes_of(buf_), kMaxMessage);
    if (d.status == proto::DecodeStatus::Malformed) throw ScriptError("fake backend: bad startup: " + d.error);
    if (d.status == proto::DecodeStatus::NeedMore) {
      if (!fill(deadline)) return false;
      continue;
    }
    FakeMessage m{0, d.frame.code,
                  std::string(reinterpret_cast<const char*>(d.frame.payload.data()), d.frame.payload.size())};
    buf_.erase(0, d.frame.size);
    if (d.frame.code == proto::kSslRequestCode || d.frame.code == proto::kGssEncRequestCode) {
      send("N");  // no TLS here: the pooler goes on in plain text (server_tls_mode prefer)
      continue;
    }
    if (d.frame.code == proto::kCancelRequestCode) {
      if (auto k = proto::parse_cancel_request(d.frame.payload)) owner_.add_cancel(*k);
      owner_.wait([&] { return !owner_.cancels_held_.load(); });
      return false;
    }
    index_ = owner_.register_conn();
    key_ = owner_.key_of(index_);
    owner_.record(index_, std::move(m));
    std::string out;
    proto::auth_ok(out);
    for (const auto& [k, v] : std::vector<std::pair<const char*, const char*>>{
             {"server_version", "15.0 (fake)"}, {"server_encoding", "UTF8"}, {"client_encoding", "UTF8"},
             {"DateStyle", "ISO, MDY"}, {"integer_datetimes", "on"}, {"IntervalStyle", "postgres"},
             {"is_superuser", "on"}, {"standard_conforming_strings", "on"}, {"TimeZone", "UTC"}})
      proto::parameter_status(out, k, v);
    proto::backend_key_data(out, key_);
    proto::ready_for_query(out, 'I');
    send(out);
    return true;
  }
}

bool FakeConn::answer_internal(const FakeMessage& m) {
  if (m.type != 'Q') return false;
  const std::string sql = m.text();
  if (is_code_reach_query(sql)) {  // no user code: the relay may trust statement texts
    send(FakeBackend::result({"a", "b", "c"}, {{"f", "f", std::nullopt}}));
    return true;
  }
  if (sql == "DISCARD ALL") {
    std::string out;
    proto::command_complete(out, "DISCARD ALL");
    proto::ready_for_query(out, 'I');
    send(out);
    return true;
  }
  return false;
}

std::optional<FakeMessage> FakeConn::next(Idle idle) {
  const auto deadline = idle == Idle::UntilStop ? Clock::time_point::max() : Clock::now() + owner_.patience();
  for (;;) {
    auto d = proto::decode_frame(bytes_of(buf_), kMaxMessage);
    if (d.status == proto::DecodeStatus::Malformed) throw ScriptError("fake backend: malformed message: " + d.error);
    if (d.status == proto::DecodeStatus::NeedMore) {
      if (!fill(deadline)) return std::nullopt;
      continue;
    }
    FakeMessage m{d.frame.type, 0,
                  std::string(reinterpret_cast<const char*>(d.frame.body.data()), d.frame.body.size())};
    buf_.erase(0, d.frame.size);
    owner_.record(index_, m);
    if (m.type == 'X') return std::nullopt;
    if (answer_internal(m)) continue;
    return m;
  }
}

FakeMessage FakeConn::expect(char type) {
  auto m = next();
  if (!m) throw ScriptError(std::string("fake backend: connection ended while expecting '") + type + "'");
  if (m->type != type)
    throw ScriptError(std::string("fake backend: expected '") + type + "', got '" + m->type + "' " + m->text());
  return *m;
}

std::vector<FakeMessage> FakeConn::until(char type) {
  std::vector<FakeMessage> out;
  for (;;) {
    auto m = next();
    if (!m) throw ScriptError(std::string("fake backend: connection ended while waiting for '") + type + "'");
    out.push_back(*m);
    if (m->type == type) return out;
  }
}

// ---- FakeBackend -----------------------------------------------------------------------------

FakeBackend::FakeBackend(Script script, std::chrono::milliseconds patience)
    : script_(std::move(script)), patience_(patience) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;  // the kernel picks: no race with another test for a "free" port
  socklen_t len = sizeof a;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error(std::string("fake backend: cannot listen: ") + std::strerror(errno));
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FakeBackend::~FakeBackend() { stop(); }

void FakeBackend::stop() {
  if (stopping_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard lk(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // wakes a connection blocked in poll
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

void FakeBackend::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // each write its own segment
    std::lock_guard lk(mu_);
    open_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void FakeBackend::serve(int fd) {
  FakeConn c(*this, fd, -1);
  try {
    if (!c.handshake()) return;
    script_(c);
    // After its script, a connection stays open and answers the pooler's own queries until the
    // pooler closes it: anything else it is sent is a failure the test will see.
    while (auto m = c.next(FakeConn::Idle::UntilStop)) add_failure("connection " + std::to_string(c.index()) + " got '" +
                                          std::string(1, m->type) + "' " + m->text() + " after its script ended");
  } catch (const ScriptError& e) {
    if (!stopping_) add_failure(e.what());
  }
}

int FakeBackend::register_conn() {
  std::lock_guard lk(mu_);
  const int index = int(keys_.size());
  received_.emplace_back();
  // The fake's own key, unlike any pgopt hands its clients, so a test can tell which one reached it.
  keys_.push_back({int32_t(70000 + index), int32_t(0x5eed0000u ^ uint32_t(index * 104729 + ::getpid()))});
  return index;
}

void FakeBackend::record(int conn, FakeMessage m) {
  std::lock_guard lk(mu_);
  received_.at(size_t(conn)).push_back(std::move(m));
}

void FakeBackend::add_cancel(protocol::CancelKey key) {
  std::lock_guard lk(mu_);
  cancels_.push_back(key);
}

void FakeBackend::add_failure(std::string what) {
  std::lock_guard lk(mu_);
  failures_.push_back(std::move(what));
}

int FakeBackend::connections() const {
  std::lock_guard lk(mu_);
  return int(keys_.size());
}

std::vector<FakeMessage> FakeBackend::received(int conn) const {
  std::lock_guard lk(mu_);
  return size_t(conn) < received_.size() ? received_[size_t(conn)] : std::vector<FakeMessage>{};
}

std::vector<std::string> FakeBackend::queries(int conn) const {
  std::vector<std::string> out;
  for (const auto& m : received(conn))
    if (m.type == 'Q' && !is_code_reach_query(m.text())) out.push_back(m.text());
  return out;
}

std::vector<protocol::CancelKey> FakeBackend::cancels() const {
  std::lock_guard lk(mu_);
  return cancels_;
}

protocol::CancelKey FakeBackend::key_of(int conn) const {
  std::lock_guard lk(mu_);
  return keys_.at(size_t(conn));
}

std::vector<std::string> FakeBackend::failures() const {
  std::lock_guard lk(mu_);
  return failures_;
}

bool FakeBackend::wait(const std::function<bool()>& cond) const {
  // Gives up at once when the fake is being stopped; `cond` is asked once per poll, never after.
  bool met = false;
  poll_until(
      [&] {
        if (stopping_) return true;
        met = cond();
        return met;
      },
      patience_, std::chrono::milliseconds(5));
  return met && !stopping_;
}

std::string FakeBackend::result(const std::vector<std::string>& columns,
                                const std::vector<std::vector<std::optional<std::string>>>& rows, char status) {
  std::string out;
  proto::row_description(out, columns);
  for (const auto& r : rows) proto::data_row(out, r);
  proto::command_complete(out, "SELECT " + std::to_string(rows.size()));
  proto::ready_for_query(out, status);
  return out;
}

}  // namespace pgopt::test
