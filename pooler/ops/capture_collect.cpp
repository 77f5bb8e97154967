// Copying the workers' capture stores on their own threads, merging them, writing capture_file.
#include "pooler/ops/capture_collect.hpp"

#include "pooler/capture/capture_file.hpp"
#include "pooler/log.hpp"

namespace pgopt::pooler::ops {

using capture::Snapshot;

namespace {

awaitable<Snapshot> worker_snapshot(Worker& w) { co_return w.capture.snapshot(); }

}  // namespace

awaitable<Snapshot> collect_capture(Runtime& rt) {
  std::vector<Snapshot> parts;
  for (auto& w : rt.workers) parts.push_back(co_await asio::co_spawn(w->ctx, worker_snapshot(*w), asio::use_awaitable));
  auto cfg = rt.config();
  Snapshot out = capture::merge(std::move(parts), size_t(std::max(1, cfg->pooler.capture_max_queries)));
  for (auto& q : out.queries) {
    const DatabaseConfig* db = cfg->find_database(q.database);
    q.dbname = db && !db->dbname.empty() ? db->dbname : q.database;
  }
  co_return out;
}

void configure_capture(Runtime& rt, const PoolerSettings& settings) {
  for (auto& w : rt.workers) w->capture.settings.set(settings);
}

awaitable<void> write_capture_file(Runtime& rt) {
  auto cfg = rt.config();
  const std::string path = cfg->pooler.capture_file;
  if (path.empty()) co_return;
  Snapshot snap = co_await collect_capture(rt);
  const std::string text = capture::to_jsonl(snap, cfg->pooler.capture_samples, std::chrono::system_clock::now());
  if (std::string err = capture::write_atomically(path, text); !err.empty())
    log::error("capture_file not written: {}", err);
  else
    log::debug("capture_file {} written: {} fingerprint(s)", path, snap.queries.size());
}

awaitable<void> capture_file_loop(Runtime& rt) {
  // Ticks of at most a second, so a reload that shortens capture_interval applies at once.
  asio::steady_timer t(co_await asio::this_coro::executor);
  auto last = std::chrono::steady_clock::now();
  while (!rt.shutting_down) {
    const auto interval = rt.config()->pooler.capture_interval;
    const auto due = last + interval;
    t.expires_at(std::min(due, std::chrono::steady_clock::now() + std::chrono::seconds(1)));
    co_await t.async_wait(nothrow);
    if (rt.shutting_down) co_return;  // the shutdown writes the last one
    if (std::chrono::steady_clock::now() < due) continue;
    last = std::chrono::steady_clock::now();
    co_await write_capture_file(rt);
  }
}

}  // namespace pgopt::pooler::ops
