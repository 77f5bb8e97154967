// Statement accounting: which messages are calls, how durations pair with statements per session,
// and the bounded samples kept per fingerprint.
#include "analyzer/input/workload_builder.hpp"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "analyzer/input/message.hpp"
#include "analyzer/input/reservoir.hpp"
#include "analyzer/input/shape.hpp"
#include "sql/session_effects.hpp"

namespace pgopt::analyzer::input {
namespace {

// Sessions remembered as "had activity" per unit; beyond this, pairing across unit borders is
// given up (it only matters for log_duration without log_min_duration_statement).
constexpr size_t kMaxTouched = size_t(1) << 20;
// Sessions with a statement still waiting for its duration; log_statement=all without
// log_duration leaves one per session forever, so this is bounded too.
constexpr size_t kMaxPending = size_t(1) << 20;

// %n writes Unix epoch seconds ("1714557600.123"); reports want a calendar time.
std::string readable_timestamp(const std::string& ts) {
  if (ts.empty() || ts.find_first_not_of("0123456789.") != std::string::npos) return ts;
  char* end = nullptr;
  double epoch = std::strtod(ts.c_str(), &end);
  time_t secs = time_t(epoch);
  struct tm tm {};
  if (!gmtime_r(&secs, &tm)) return ts;
  char buf[64];
  int ms = int((epoch - double(secs)) * 1000.0 + 0.5);
  if (ms > 999) ms = 999;
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d UTC", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

// Sample key streams: durations and literal samples of one group are drawn independently.
uint64_t duration_stream(uint64_t fingerprint) { return fingerprint ^ 0xd0ull; }
uint64_t sample_stream(uint64_t fingerprint) { return fingerprint; }

void count_duration(QueryGroup& g, double ms) {
  g.timed_calls++;
  g.total_ms += ms;
  if (ms > g.max_ms) g.max_ms = ms;
}

}  // namespace

void add_duration(QueryGroup& g, double ms, uint64_t source, uint64_t offset, const InputOptions& options) {
  count_duration(g, ms);
  bottom_k_merge(g.duration_reservoir, g.duration_keys, std::vector<double>{ms},
                 std::vector<uint64_t>{sample_key(options.seed, duration_stream(g.fingerprint), source, offset)},
                 options.duration_samples, options.seed);
}

void SampleStore::move_into(Workload& w, const InputOptions& options) {
  std::vector<double> durations;
  std::vector<std::string> samples;
  std::vector<uint64_t> keys;
  for (auto& [fp, s] : groups_) {
    auto it = w.groups.find(fp);
    if (it == w.groups.end()) continue;
    QueryGroup& g = it->second;
    s.durations.take(durations, keys);
    bottom_k_merge(g.duration_reservoir, g.duration_keys, std::move(durations), std::move(keys),
                   options.duration_samples, options.seed);
    s.samples.take(samples, keys);
    bottom_k_merge(g.samples, g.sample_keys, std::move(samples), std::move(keys), options.samples_per_group,
                   options.seed);
  }
  groups_.clear();
}

WorkloadBuilder::WorkloadBuilder(FingerprintCache& cache, SampleStore& store, const InputOptions& options,
                                 uint64_t source)
    : cache_(cache), store_(store), options_(options), source_(source) {}

void WorkloadBuilder::add_duration(Building& b, double ms, uint64_t offset) {
  count_duration(b.g, ms);
  uint64_t key = sample_key(options_.seed, duration_stream(b.g.fingerprint), source_, offset);
  b.sampled->durations.offer(options_.duration_samples, key, [ms] { return ms; });
}

void WorkloadBuilder::touch(uint64_t session) {
  if (!carry_.touched_complete) return;
  if (carry_.touched.size() >= kMaxTouched) {
    carry_.touched_complete = false;
    carry_.touched.clear();
    return;
  }
  carry_.touched.insert(session);
}

void WorkloadBuilder::on_event(const LogEvent& e) {
  w_.entries++;
  if (!options_.database.empty() && !e.database.empty() && e.database != options_.database) {
    w_.other_database_entries++;  // another database's statements say nothing about this schema
    return;
  }
  if (!e.timestamp.empty()) {
    if (first_ts_.empty() || e.timestamp < std::string_view(first_ts_)) first_ts_.assign(e.timestamp);
    if (e.timestamp > std::string_view(last_ts_)) last_ts_.assign(e.timestamp);
  }
  if (e.severity != Severity::log) {
    if (e.severity == Severity::error || e.severity == Severity::fatal || e.severity == Severity::panic) {
      // The statement failed: no duration will follow for it.
      pending_.erase(e.session);
      touch(e.session);
    }
    return;
  }
  ClassifiedMessage m = classify_message(e.message);
  const double* ms = m.duration_ms ? &*m.duration_ms : nullptr;
  switch (m.kind) {
    case MessageKind::statement: statement(e, m.text, false, ms); break;
    case MessageKind::execute: statement(e, m.text, true, ms); break;
    case MessageKind::lone_duration: lone_duration(e.session, *m.duration_ms, e.offset); break;
    case MessageKind::disconnection:
      pending_.erase(e.session);
      session_path_.erase(e.session);
      touch(e.session);
      break;
    case MessageKind::parse_or_bind:
    case MessageKind::other: break;
  }
}

namespace {

bool contains_ci(std::string_view text, std::string_view word) {
  if (word.size() > text.size()) return false;
  for (size_t i = 0; i + word.size() <= text.size(); ++i) {
    size_t k = 0;
    while (k < word.size() && std::tolower(static_cast<unsigned char>(text[i + k])) == word[k]) ++k;
    if (k == word.size()) return true;
  }
  return false;
}

// Statements whose tables a session's own search_path decides: DML by its first word, leading
// comments skipped. SET/RESET/BEGIN and set_config() calls are kept in one group whatever the path
// (no index concerns them), so a pooler syncing search_path does not multiply them.
bool resolves_tables(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
    } else if (text.substr(i, 2) == "/*") {
      size_t end = text.find("*/", i + 2);
      i = end == std::string_view::npos ? text.size() : end + 2;
    } else if (text.substr(i, 2) == "--") {
      size_t end = text.find('\n', i);
      i = end == std::string_view::npos ? text.size() : end + 1;
    } else {
      break;
    }
  }
  size_t end = i;
  while (end < text.size() && std::isalpha(static_cast<unsigned char>(text[end]))) ++end;
  std::string word;
  for (size_t k = i; k < end; ++k) word += char(std::tolower(static_cast<unsigned char>(text[k])));
  static const char* const kDml[] = {"select", "with", "insert", "update", "delete", "merge", "table", "values", "copy"};
  for (const char* w : kDml)
    if (word == w) return !contains_ci(text, "set_config");
  return false;
}

// FNV-1a: the same setting gives the same group in every unit, job and run.
uint64_t mix_search_path(uint64_t fingerprint, const std::string& setting) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : setting) h = (h ^ c) * 0x100000001b3ull;
  return fingerprint ^ h;
}

}  // namespace

// SET search_path / set_config('search_path', ..., false) / RESET / DISCARD ALL in a session:
// what its later unqualified names resolve through. Only statements naming one of those words
// are parsed (the check is lexical and cheap).
void WorkloadBuilder::track_search_path(uint64_t session, std::string_view text) {
  if (!contains_ci(text, "search_path") && !contains_ci(text, "reset") && !contains_ci(text, "discard")) return;
  sql::SessionEffects fx = sql::session_effects(text);
  if (fx.discard_all) session_path_.erase(session);
  for (const auto& g : fx.gucs) {
    if (g.kind == sql::GucChange::Kind::ResetAll || (g.kind == sql::GucChange::Kind::Reset && g.name == "search_path"))
      session_path_.erase(session);
    else if (g.kind == sql::GucChange::Kind::Set && g.name == "search_path" && !g.search_path.empty() &&
             (session_path_.size() < kMaxPending || session_path_.count(session)))
      session_path_[session] = g.search_path;
  }
}

WorkloadBuilder::Building* WorkloadBuilder::group_for(std::string_view text, bool tabbed, const std::string* search_path) {
  if (!statement_shape(text, shape_)) {
    w_.parse_failures++;  // an unterminated quote or comment cannot parse either
    return nullptr;
  }
  std::string_view sql = text;
  if (tabbed && text.find("\n\t") != std::string_view::npos) {
    scratch_.clear();
    append_detabbed(text, scratch_);
    sql = scratch_;
  }
  const ShapeInfo& info = cache_.lookup(shape_, sql);
  if (!info.ok) {
    w_.parse_failures++;
    return nullptr;
  }
  uint64_t fingerprint = search_path ? mix_search_path(info.fingerprint, *search_path) : info.fingerprint;
  auto [it, fresh] = groups_.try_emplace(fingerprint);
  Building& b = it->second;
  if (fresh) {
    b.g.fingerprint = fingerprint;
    b.g.normalized = info.normalized;
    if (search_path) b.g.search_path = *search_path;
    b.sampled = &store_.group(fingerprint);
  }
  return &b;
}

void WorkloadBuilder::statement(const LogEvent& e, std::string_view text, bool execute, const double* ms) {
  w_.statements++;
  touch(e.session);
  auto path = session_path_.find(e.session);
  Building* b = group_for(text, e.tabbed,
                          path == session_path_.end() || !resolves_tables(text) ? nullptr : &path->second);
  track_search_path(e.session, text);
  if (!b) {
    pending_.erase(e.session);
    return;
  }
  QueryGroup& g = b->g;
  g.calls++;
  add_user(g.users, e.user);
  if (ms) {
    add_duration(*b, *ms, e.offset);
    pending_.erase(e.session);
  } else {
    if (pending_.size() >= kMaxPending) pending_.clear();
    pending_[e.session] = g.fingerprint;
  }
  g.sample_seen++;
  uint64_t key = sample_key(options_.seed, sample_stream(g.fingerprint), source_, e.offset);
  b->sampled->samples.offer(options_.samples_per_group, key, [&] {
    std::string s;
    if (execute && !e.detail.empty() && parse_parameters(e.detail, params_))
      substitute_parameters(text, params_, e.tabbed, s);
    else if (e.tabbed)
      append_detabbed(text, s);
    else
      s.assign(text);
    return s;
  });
}

void WorkloadBuilder::lone_duration(uint64_t session, double ms, uint64_t offset) {
  auto it = pending_.find(session);
  if (it != pending_.end()) {
    auto g = groups_.find(it->second);
    if (g != groups_.end()) add_duration(g->second, ms, offset);
    pending_.erase(it);
    return;
  }
  // Parse/bind steps and statements logged before this unit also end in a lone duration; only the
  // first one of a session in this unit can belong to a statement from the previous unit.
  if (carry_.touched_complete && !carry_.touched.count(session)) {
    carry_.orphan_durations.push_back(OrphanDuration{session, ms, offset});
  }
  touch(session);
}

Workload WorkloadBuilder::finish(SessionCarry& carry) {
  for (auto& [fp, b] : groups_) w_.groups.emplace(fp, std::move(b.g));
  groups_.clear();
  if (!first_ts_.empty()) w_.first_timestamp = readable_timestamp(first_ts_);
  if (!last_ts_.empty()) w_.last_timestamp = readable_timestamp(last_ts_);
  carry_.pending.assign(pending_.begin(), pending_.end());
  pending_.clear();
  carry = std::move(carry_);
  carry_ = SessionCarry{};
  Workload out = std::move(w_);
  w_ = Workload{};
  return out;
}

}  // namespace pgopt::analyzer::input
