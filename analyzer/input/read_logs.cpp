// read_logs / read_log_buffer: expands inputs, detects formats, splits plain files into byte ranges
// for --jobs, reads the ranges on worker threads and merges the partial workloads in input order.
#include <glob.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "analyzer/input.hpp"
#include "analyzer/input/byte_source.hpp"
#include "analyzer/input/format_detect.hpp"
#include "analyzer/input/log_input.hpp"
#include "analyzer/input/log_readers.hpp"
#include "analyzer/input/progress.hpp"
#include "analyzer/input/reservoir.hpp"

namespace pgopt::analyzer {
namespace input {
namespace {

// Enough lines to see session lines even after a server start's worth of non-session ones.
constexpr size_t kHeadBytes = 256 * 1024;

// Hands out the bytes read for format detection, then the rest of the stream.
class HeadSource : public ByteSource {
 public:
  HeadSource(std::string head, std::unique_ptr<ByteSource> rest) : head_(std::move(head)), rest_(std::move(rest)) {}
  size_t read(char* out, size_t n) override {
    if (pos_ < head_.size()) {
      size_t k = std::min(n, head_.size() - pos_);
      std::memcpy(out, head_.data() + pos_, k);
      pos_ += k;
      if (pos_ == head_.size()) {
        std::string().swap(head_);  // detection is done with it
        pos_ = 0;
      }
      raw_consumed_ = rest_->raw_consumed();
      return k;
    }
    size_t got = rest_->read(out, n);
    raw_consumed_ = rest_->raw_consumed();
    if (got == 0 && !rest_->error().empty()) error_ = rest_->error();
    return got;
  }

 private:
  std::string head_;
  std::unique_ptr<ByteSource> rest_;
  size_t pos_ = 0;
};

std::string read_head(ByteSource& src) {
  std::string head(kHeadBytes, '\0');
  size_t got = 0;
  while (got < head.size()) {
    size_t r = src.read(head.data() + got, head.size() - got);
    if (r == 0) break;
    got += r;
  }
  head.resize(got);
  return head;
}

struct SourcePlan {
  std::string name;
  Detection detection;
  std::string path;                     // a plain regular file: reopened for each byte range
  std::optional<std::string_view> memory;  // plain bytes in memory
  std::unique_ptr<ByteSource> stream;   // compressed file, pipe or stdin: one job reads it all
  uint64_t size = 0;
  std::vector<uint64_t> borders;        // where byte ranges after the first start
};

struct Unit {
  size_t source;
  UnitBounds bounds;
};

struct UnitResult {
  Workload workload;
  SessionCarry carry;
  ReadStats stats;
  std::string error;
};

// Ranges per job. A job takes the next range whenever it finishes one, so a job that runs slower
// (another process on its core, a costlier stretch of log) hands work to the others instead of
// leaving them idle at the end: with one range per job, the slowest job set the pace. Each range
// costs one partial workload merged in order (linear in the kept samples), hence not thousands.
constexpr uint64_t kRangesPerJob = 16;

std::vector<uint64_t> even_borders(uint64_t size, int jobs) {
  std::vector<uint64_t> out;
  if (jobs <= 1 || size < 2 * kMinRangeBytes) return out;
  uint64_t n = std::min<uint64_t>(uint64_t(jobs) * kRangesPerJob, size / kMinRangeBytes);
  for (uint64_t i = 1; i < n; ++i) out.push_back(size * i / n);
  return out;
}

class Runner {
 public:
  explicit Runner(const InputOptions& o) : o_(o) {}

  InputResult run(std::vector<SourcePlan>& sources, std::vector<std::string> errors) {
    InputResult result;
    result.errors = std::move(errors);
    sources_ = &sources;
    uint64_t total_size = 0;
    for (size_t s = 0; s < sources.size(); ++s) {
      SourcePlan& sp = sources[s];
      total_size += sp.size;
      uint64_t start = 0;
      for (uint64_t b : sp.borders) {
        if (b <= start) continue;
        units_.push_back(Unit{s, UnitBounds{start, b}});
        start = b;
      }
      units_.push_back(Unit{s, UnitBounds{start, UnitBounds{}.end}});
    }
    results_.resize(units_.size());
    Progress progress(o_.progress, total_size);
    progress_ = progress.counter();
    size_t workers = std::min<size_t>(size_t(std::max(1, o_.jobs)), units_.size());
    std::vector<SampleStore> stores(std::max<size_t>(workers, 1));
    if (workers <= 1) {
      work(stores[0]);
    } else {
      std::vector<std::thread> threads;
      for (size_t i = 0; i < workers; ++i) threads.emplace_back([this, &stores, i] { work(stores[i]); });
      for (auto& t : threads) t.join();
    }
    // Every unit is merged by now, so every sampled group exists in the total.
    for (auto& s : stores) s.move_into(total_, o_);
    result.workload = std::move(total_);
    for (auto& e : errors_) result.errors.push_back(std::move(e));
    return result;
  }

 private:
  void work(SampleStore& store) {
    FingerprintCache cache;
    for (;;) {
      size_t idx;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (next_unit_ >= units_.size()) return;
        idx = next_unit_++;
      }
      UnitResult r = process(units_[idx], cache, store);
      std::lock_guard<std::mutex> lock(mu_);
      results_[idx] = std::move(r);
      while (next_merge_ < units_.size() && results_[next_merge_]) {
        absorb(units_[next_merge_], *results_[next_merge_]);
        results_[next_merge_].reset();
        ++next_merge_;
      }
    }
  }

  UnitResult process(const Unit& u, FingerprintCache& cache, SampleStore& store) {
    SourcePlan& sp = (*sources_)[u.source];
    UnitResult r;
    uint64_t open_at = u.bounds.start > 0 ? u.bounds.start - 1 : 0;
    std::unique_ptr<ByteSource> owned;
    ByteSource* src = nullptr;
    if (sp.stream) {
      src = sp.stream.get();
    } else if (sp.memory) {
      owned = open_memory(*sp.memory, open_at);
      src = owned.get();
    } else {
      owned = open_file_range(sp.path, open_at, &r.error);
      if (!owned) return r;
      src = owned.get();
    }
    StreamWindow w(*src, open_at, progress_);
    WorkloadBuilder b(cache, store, o_, u.source);
    switch (sp.detection.format) {
      case LogFormat::stderr_log: r.stats = read_stderr(w, u.bounds, sp.detection.prefix, b); break;
      case LogFormat::csvlog: r.stats = read_csvlog(w, u.bounds, b); break;
      case LogFormat::jsonlog: r.stats = read_jsonlog(w, u.bounds, b); break;
    }
    r.workload = b.finish(r.carry);
    if (!src->error().empty()) r.error = src->error();
    return r;
  }

  // Called in unit order: merge, then settle durations that crossed the previous unit's border.
  void absorb(const Unit& u, UnitResult& r) {
    SourcePlan& sp = (*sources_)[u.source];
    if (u.bounds.start == 0) {
      total_.sources.push_back(sp.name);
      total_.notes.push_back(sp.name + ": " + sp.detection.description);
    }
    merge(total_, r.workload, o_);
    for (const OrphanDuration& d : r.carry.orphan_durations) {
      auto it = carry_.find(d.session);
      if (it == carry_.end()) continue;
      auto g = total_.groups.find(it->second);
      if (g != total_.groups.end()) add_duration(g->second, d.ms, u.source, d.offset, o_);
      carry_.erase(it);
    }
    if (!r.carry.touched_complete) {
      carry_.clear();
    } else if (carry_.size() < r.carry.touched.size()) {
      for (auto it = carry_.begin(); it != carry_.end();)
        it = r.carry.touched.count(it->first) ? carry_.erase(it) : std::next(it);
    } else {
      for (uint64_t s : r.carry.touched) carry_.erase(s);
    }
    for (auto [session, fp] : r.carry.pending) carry_[session] = fp;
    if (r.stats.truncated_tail)
      total_.notes.push_back(sp.name + ": ends inside a log entry (still being written?); that entry was not counted");
    if (r.stats.oversized)
      total_.notes.push_back(sp.name + ": " + std::to_string(r.stats.oversized) +
                             " entries larger than 256 MB were skipped");
    if (!r.error.empty()) errors_.push_back(r.error);
  }

  const InputOptions& o_;
  std::vector<SourcePlan>* sources_ = nullptr;
  std::vector<Unit> units_;
  std::vector<std::optional<UnitResult>> results_;
  std::atomic<uint64_t>* progress_ = nullptr;
  std::mutex mu_;
  size_t next_unit_ = 0, next_merge_ = 0;
  Workload total_;
  std::unordered_map<uint64_t, uint64_t> carry_;
  std::vector<std::string> errors_;
};

bool has_glob_magic(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

// A path, "-", or a glob(3) pattern (sorted matches; no match is a missing file).
std::vector<std::string> expand(const std::string& in, std::vector<std::string>& errors) {
  if (in == "-" || !has_glob_magic(in)) return {in};
  std::vector<std::string> out;
  glob_t g{};
  int rc = ::glob(in.c_str(), 0, nullptr, &g);
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  } else if (rc == GLOB_NOMATCH) {
    errors.push_back(in + ": " + std::strerror(ENOENT));
  } else {
    errors.push_back(in + ": cannot expand the pattern");
  }
  ::globfree(&g);
  return out;
}

// Detection for a plan whose `stream` is set: read the head, keep it in front of the stream.
bool detect_stream(SourcePlan& sp, const InputOptions& o, std::vector<std::string>& errors) {
  std::string head = read_head(*sp.stream);
  sp.detection = detect_format(head, o.log_format, o.log_line_prefix);
  sp.stream = std::make_unique<HeadSource>(std::move(head), std::move(sp.stream));
  if (!sp.detection.error.empty()) {
    errors.push_back(sp.detection.error);
    return false;
  }
  return true;
}

}  // namespace

InputResult read_buffer_with_borders(std::string_view data, const InputOptions& options,
                                     const std::vector<uint64_t>& borders, const std::string& name) {
  std::vector<SourcePlan> plans(1);
  SourcePlan& sp = plans[0];
  sp.name = name;
  std::vector<std::string> errors;
  if (sniff_compression(data) != Compression::none) {
    sp.stream = open_memory(data);
    if (!detect_stream(sp, options, errors)) return InputResult{{}, errors};
  } else {
    sp.memory = data;
    sp.size = data.size();
    sp.detection = detect_format(data.substr(0, kHeadBytes), options.log_format, options.log_line_prefix);
    if (!sp.detection.error.empty()) return InputResult{{}, {sp.detection.error}};
    for (uint64_t b : borders)
      if (b > 0 && b < data.size()) sp.borders.push_back(b);
    std::sort(sp.borders.begin(), sp.borders.end());
  }
  return Runner(options).run(plans, std::move(errors));
}

}  // namespace input

InputResult read_log_buffer(std::string_view data, const InputOptions& options, const std::string& name) {
  return input::read_buffer_with_borders(data, options, input::even_borders(data.size(), options.jobs), name);
}

InputResult read_logs(const std::vector<std::string>& inputs, const InputOptions& options) {
  using namespace input;
  std::vector<std::string> errors;
  std::vector<SourcePlan> plans;
  for (const auto& input : inputs) {
    for (const auto& path : expand(input, errors)) {  // errors stay in the order of the inputs
      OpenedSource os = open_source(path);
      if (!os.source) {
        errors.push_back(os.error);
        continue;
      }
      SourcePlan sp;
      sp.name = path == "-" ? "<stdin>" : path;
      sp.size = os.size;
      if (os.seekable) {
        std::string head = read_head(*os.source);
        sp.detection = detect_format(head, options.log_format, options.log_line_prefix);
        if (!sp.detection.error.empty()) return InputResult{{}, {sp.detection.error}};
        sp.path = path;
        sp.borders = even_borders(os.size, options.jobs);
      } else {
        sp.stream = std::move(os.source);
        if (!detect_stream(sp, options, errors)) return InputResult{{}, errors};
      }
      plans.push_back(std::move(sp));
    }
  }
  return Runner(options).run(plans, std::move(errors));
}

}  // namespace pgopt::analyzer
