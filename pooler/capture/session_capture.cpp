// Matching a client's statements to the server replies that end them, and recording them.
#include "pooler/capture/session_capture.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include "pooler/log.hpp"
#include "pooler/prepared/tracker.hpp"

namespace pgopt::pooler::capture {

namespace {

using SteadyClock = std::chrono::steady_clock;

// The NUL-terminated string at body[*pos], advancing *pos past it; nullopt if there is none.
std::optional<std::string_view> cstring(std::span<const uint8_t> body, size_t* pos) {
  const auto* begin = reinterpret_cast<const char*>(body.data()) + *pos;
  const size_t left = body.size() - std::min(*pos, body.size());
  const void* nul = std::memchr(begin, 0, left);
  if (!nul) return std::nullopt;
  const size_t n = size_t(static_cast<const char*>(nul) - begin);
  *pos += n + 1;
  return std::string_view(begin, n);
}

}  // namespace

uint64_t tag_rows(std::span<const uint8_t> body) {
  std::string_view tag(reinterpret_cast<const char*>(body.data()), body.size());
  if (!tag.empty() && tag.back() == '\0') tag.remove_suffix(1);
  const size_t sp = tag.rfind(' ');
  if (sp == std::string_view::npos) return 0;
  uint64_t n = 0;
  for (char c : tag.substr(sp + 1)) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + uint64_t(c - '0');
  }
  return n;
}

void SessionCapture::abandon() {
  pending_.clear();
  head_ = 0;
  sent_seq_ = done_seq_ = last_finish_seq_ = 0;
}

ShapePtr& SessionCapture::portal(std::string_view name) {
  if (name.empty()) return unnamed_portal_;
  for (auto& [n, s] : named_portals_)
    if (n == name) return s;
  if (named_portals_.size() >= kMaxPortals) named_portals_.erase(named_portals_.begin());
  return named_portals_.emplace_back(std::string(name), nullptr).second;
}

ShapePtr SessionCapture::statement_shape(std::string_view name, const prepared::Tracker* tracker) {
  if (name.empty()) return unnamed_statement_;
  if (auto it = named_.find(name); it != named_.end()) return it->second;
  // Prepared earlier, possibly answered by the pooler itself without a server (PQprepare).
  if (tracker) {
    if (const auto* st = tracker->statement_for(name)) {
      ShapePtr s = store_->shapes.statement(st->query);
      if (named_.size() >= kMaxNamed) named_.erase(named_.begin());
      named_.emplace(std::string(name), s);
      return s;
    }
  }
  return nullptr;
}

void SessionCapture::start(ShapePtr shape, uint64_t seq, bool replica, SteadyClock::time_point now) {
  Pending p;
  p.counted = store_->enabled();
  if (shape && p.counted) p.entry = store_->entry(database_, *shape);
  p.shape = std::move(shape);
  p.replica = replica;
  p.seq = seq;
  p.start = now;
  if (head_ == pending_.size()) {
    pending_.clear();
    head_ = 0;
  } else if (head_ >= 64 && head_ * 2 >= pending_.size()) {
    // A pipeline that never drains (a client that keeps max_pipeline_depth requests in flight):
    // drop the finished front now and then, amortized O(1), so the vector does not grow forever.
    pending_.erase(pending_.begin(), pending_.begin() + std::ptrdiff_t(head_));
    head_ = 0;
  }
  pending_.push_back(std::move(p));
}

void SessionCapture::client(WorkerStore& store, const protocol::Frame& f, bool ignored_sync, bool replica,
                            const prepared::Tracker* tracker, std::string_view database, std::string_view user) {
  store_ = &store;
  database_ = database;
  user_ = user;
  const bool active = store.active();
  switch (f.type) {
    case 'Q': {
      const uint64_t seq = ++sent_seq_;
      if (!active || f.body.empty()) break;
      std::string_view text(reinterpret_cast<const char*>(f.body.data()), f.body.size() - 1);
      const auto now = SteadyClock::now();
      const auto& shapes = store.shapes.query(text);
      const size_t first = pending_.size() - head_;
      for (const auto& s : shapes) start(s, seq, replica, now);
      // Samples: statements with their literals, from simple-protocol text only.
      std::vector<Piece> pieces;
      for (size_t i = 0; i < shapes.size(); ++i) {
        const Pending& p = pending_[head_ + first + i];
        if (!p.shape || !p.shape->has_literals || !p.entry) continue;
        std::string* slot = store.sample_slot(p.entry);
        if (!slot) continue;
        if (pieces.empty()) pieces = split_statements(text);
        if (pieces.size() == shapes.size())
          slot->assign(text.substr(pieces[i].offset, pieces[i].size));
        else
          slot->assign(text);  // taken as one statement (see ShapeCache::query)
      }
      break;
    }
    case 'P': {
      if (!active) break;
      size_t pos = 0;
      auto name = cstring(f.body, &pos);
      auto query = name ? cstring(f.body, &pos) : std::nullopt;
      if (!query) break;
      ShapePtr s = store.shapes.statement(*query);
      if (name->empty()) {
        unnamed_statement_ = std::move(s);
      } else {
        if (named_.size() >= kMaxNamed) named_.erase(named_.begin());
        named_[std::string(*name)] = std::move(s);
      }
      break;
    }
    case 'B': {
      if (!active) break;
      size_t pos = 0;
      auto portal_name = cstring(f.body, &pos);
      auto stmt = portal_name ? cstring(f.body, &pos) : std::nullopt;
      if (stmt) portal(*portal_name) = statement_shape(*stmt, tracker);
      break;
    }
    case 'E': {
      if (!active) break;
      size_t pos = 0;
      auto portal_name = cstring(f.body, &pos);
      if (portal_name) start(portal(*portal_name), sent_seq_ + 1, replica, SteadyClock::now());
      break;
    }
    case 'C': {
      if (f.body.size() < 2) break;
      size_t pos = 1;
      auto name = cstring(f.body, &pos);
      if (!name) break;
      if (f.body[0] == 'S') {
        if (name->empty())
          unnamed_statement_.reset();
        else
          if (auto it = named_.find(*name); it != named_.end()) named_.erase(it);
      } else if (f.body[0] == 'P') {
        portal(*name).reset();
      }
      break;
    }
    case 'S':
      if (!ignored_sync) ++sent_seq_;
      break;
    case 'F':
      ++sent_seq_;
      break;
    default:
      break;
  }
}

void SessionCapture::finish(bool error, uint64_t rows) {
  Pending& p = pending_[head_++];
  const auto now = SteadyClock::now();
  // Statements of one Query run one after the other: each starts when the one before it ended.
  auto from = p.start;
  if (p.seq == last_finish_seq_ && last_finish_ > from) from = last_finish_;
  last_finish_seq_ = p.seq;
  last_finish_ = now;
  const double ms = std::chrono::duration<double, std::milli>(now - from).count();
  if (p.counted) store_->record(p.entry, ms, error, rows, p.replica);
  const int64_t slow = store_->settings.slow_ns.load(std::memory_order_relaxed);
  if (slow > 0 && p.shape && std::chrono::duration_cast<std::chrono::nanoseconds>(now - from).count() > slow) {
    // Normalized text only: literals may be personal data and never reach the log.
    log::warn("slow query: {:.3f} ms, database {}, user {}{}: {}", ms, database_, user_, error ? ", failed" : "",
              p.shape->normalized);
  }
  p.shape.reset();
}

void SessionCapture::server(char type, std::span<const uint8_t> body) {
  const bool current = head_ < pending_.size() && pending_[head_].seq == done_seq_ + 1;
  switch (type) {
    case 'C':
      if (current) finish(false, tag_rows(body));
      break;
    case 'I':
    case 's':
      if (current) finish(false, 0);
      break;
    case 'E':
      if (current) finish(true, 0);
      break;
    case 'Z':
      ++done_seq_;
      // What the error made the server skip never ran.
      while (head_ < pending_.size() && pending_[head_].seq <= done_seq_) pending_[head_++].shape.reset();
      if (head_ == pending_.size()) {
        pending_.clear();
        head_ = 0;
      }
      break;
    default:
      break;
  }
}

}  // namespace pgopt::pooler::capture
