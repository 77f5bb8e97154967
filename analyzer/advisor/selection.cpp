// Greedy workload-wide selection (see selection.hpp).
//
// Why lazy: costing every move against every group each round grew with about the fifth power of
// the workload (4,950 groups did not finish in 15 minutes). Three facts make it cheap without
// changing the result: an index only changes the cost of the groups it can serve (can_serve), a
// group cannot cost less than nothing (so what its groups cost now bounds a move's gain), and a
// move's gain stays what it was until a pick changes the indexes one of its groups can use.
#include "analyzer/advisor/selection.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <queue>
#include <set>
#include <thread>

namespace pgopt::analyzer::advisor {
namespace {

constexpr size_t kNone = SIZE_MAX;  // an add move: it replaces nothing

bool touches_column(const IndexSpec& s, const std::vector<std::string>& cols) {
  for (const auto& c : cols) {
    for (const auto& k : s.columns)
      if (key_uses(k, c)) return true;
    if (std::find(s.include.begin(), s.include.end(), c) != s.include.end()) return true;
    if (!s.where.empty() && s.where.find(c) != std::string::npos) return true;
  }
  return false;
}

bool extends(const IndexSpec& wide, const IndexSpec& narrow) {
  if (wide.relation() != narrow.relation() || wide.where != narrow.where || wide.columns.size() < narrow.columns.size())
    return false;
  if (wide.key() == narrow.key()) return false;
  for (size_t i = 0; i < narrow.columns.size(); ++i)
    if (wide.columns[i] != narrow.columns[i] || wide.descending[i] != narrow.descending[i] || wide.opclass[i] != narrow.opclass[i])
      return false;
  for (const auto& inc : narrow.include)
    if (std::find(wide.include.begin(), wide.include.end(), inc) == wide.include.end()) return false;
  return true;
}

// write_overhead over the groups that write c's table only.
double overhead_for(const Candidate& c, const std::vector<const QueryModel*>& writers, const std::vector<const Candidate*>& chosen) {
  const TableInfo& t = *c.table;
  double total = 0;
  for (const QueryModel* q : writers) {
    for (const auto& w : q->writes) {
      if (w.table != &t) continue;
      double rows = q->weight * w.rows_per_call;
      if (w.kind == sql::WriteKind::Insert || w.kind == sql::WriteKind::Copy) {
        total += rows * kIndexEntryWriteCost * c.partial_fraction;
      } else if (w.kind == sql::WriteKind::Update && touches_column(c.index, w.set_columns)) {
        bool already_cold = false;
        size_t indexes = t.indexes.size();
        for (const auto& e : t.indexes) {
          IndexSpec s;
          s.columns = e.columns;
          s.include = e.include;
          s.where = e.where;
          if (touches_column(s, w.set_columns)) already_cold = true;
        }
        for (const Candidate* o : chosen) {
          if (o->table != &t || o == &c) continue;
          ++indexes;
          if (touches_column(o->index, w.set_columns)) already_cold = true;
        }
        total += rows * kIndexEntryWriteCost * (already_cold ? 1.0 : double(indexes + 1));
      }
    }
  }
  return total;
}

// The sorted union of two sorted lists of group numbers.
std::vector<size_t> merged(const std::vector<size_t>& a, const std::vector<size_t>& b) {
  std::vector<size_t> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// The callers' evaluators behind one shared cache; run() spreads independent costings over them.
class Workers {
 public:
  Workers(const Evaluators& evaluators, CostCache& cache) {
    for (Evaluator* e : evaluators) cached_.push_back(std::make_unique<CachingEvaluator>(*e, cache));
  }
  std::optional<double> cost(Evaluator& ev, const QueryModel& q, const std::vector<const IndexSpec*>& config) {
    ++asked;
    return ev.cost(q, config);
  }
  // f(evaluator, i) for every i in [0, n), each on one worker's evaluator (its own connection).
  template <class F>
  void run(size_t n, F f) {
    if (cached_.size() == 1 || n <= 1) {
      for (size_t i = 0; i < n; ++i) f(*cached_[0], i);
      return;
    }
    std::atomic<size_t> next{0};
    auto work = [&](Evaluator* ev) {
      for (size_t i = next++; i < n; i = next++) f(*ev, i);
    };
    std::vector<std::thread> threads;
    for (size_t w = 1; w < cached_.size() && w < n; ++w) threads.emplace_back(work, cached_[w].get());
    work(cached_[0].get());
    for (auto& t : threads) t.join();
  }
  size_t size() const { return cached_.size(); }
  Evaluator& first() { return *cached_[0]; }
  std::atomic<size_t> asked{0};

 private:
  std::vector<std::unique_ptr<CachingEvaluator>> cached_;
};

// What every search needs about the workload, computed once.
struct Problem {
  const std::vector<QueryModel>& queries;
  const std::vector<Candidate>& candidates;
  const SelectionOptions& options;
  Workers& workers;
  std::vector<double> base;
  std::vector<bool> costed;
  std::vector<std::vector<size_t>> served;    // per candidate: the costed groups it can serve
  std::vector<std::vector<size_t>> narrower;  // per candidate: the candidates it extends
  std::vector<std::vector<size_t>> wider;     // per candidate: the candidates extending it
  std::map<const TableInfo*, std::vector<const QueryModel*>> writers;

  double overhead(size_t c, const std::vector<const Candidate*>& others) const {
    auto it = writers.find(candidates[c].table);
    return it == writers.end() ? 0 : overhead_for(candidates[c], it->second, others);
  }
};

void relate(Problem& p) {
  const auto& qs = p.queries;
  const auto& cs = p.candidates;
  std::map<std::string, std::vector<size_t>> by_relation;  // relation -> costed groups reading it
  for (size_t i = 0; i < qs.size(); ++i) {
    for (const auto& w : qs[i].writes) p.writers[w.table].push_back(&qs[i]);
    if (!p.costed[i]) continue;
    for (const auto& a : qs[i].accesses) by_relation[a.table->qualified()].push_back(i);
  }
  for (auto& [t, w] : p.writers) w.erase(std::unique(w.begin(), w.end()), w.end());
  p.served.resize(cs.size());
  p.narrower.resize(cs.size());
  p.wider.resize(cs.size());
  std::map<std::string, std::vector<size_t>> families;  // relation, WHERE, leading key -> candidates
  for (size_t c = 0; c < cs.size(); ++c) {
    const IndexSpec& s = cs[c].index;
    std::vector<std::string> relations = {s.relation()};
    for (const auto& [schema, table] : s.leaves) relations.push_back(schema + "." + table);
    auto& out = p.served[c];
    for (const auto& r : relations) {
      auto it = by_relation.find(r);
      if (it == by_relation.end()) continue;
      for (size_t i : it->second)
        if (can_serve(s, qs[i])) out.push_back(i);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    families[s.relation() + "|" + s.where + "|" + (s.columns.empty() ? "" : s.columns[0])].push_back(c);
  }
  for (const auto& [key, members] : families)
    for (size_t w : members)
      for (size_t n : members)
        if (extends(cs[w].index, cs[n].index)) {
          p.narrower[w].push_back(n);
          p.wider[n].push_back(w);
        }
}

// One greedy search from the existing indexes, ranking moves by gain per byte or by gain alone.
class Search {
 public:
  Search(const Problem& p, bool per_byte, const Progress& progress)
      : p_(p), per_byte_(per_byte), progress_(progress), stamp_(p.queries.size(), 0), in_(p.candidates.size(), false),
        cur(p.base) {}

  void run() {
    while (pick()) {
    }
    prune();
    consolidate();
    objective = 0;
    for (size_t i = 0; i < p_.queries.size(); ++i)
      if (p_.costed[i]) objective += p_.queries[i].weight * cur[i];
    for (size_t c : chosen) objective += p_.overhead(c, others(kNone, c));
  }

  std::vector<const Candidate*> picked(size_t skip = kNone) const { return others(skip, kNone); }

 private:
  struct Memo {
    uint32_t at = 0;  // the epoch it was costed in
    double delta = 0;
    std::vector<std::pair<size_t, double>> costs;
  };
  struct Entry {
    double score = 0;
    bool exact = false;
    size_t c = 0, rep = kNone;
    double size = 0;
  };
  struct Lower {
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.score != b.score) return a.score < b.score;
      return a.c != b.c ? a.c > b.c : a.rep > b.rep;
    }
  };
  using Heap = std::priority_queue<Entry, std::vector<Entry>, Lower>;

  const Problem& p_;
  bool per_byte_;
  const Progress& progress_;
  std::vector<uint32_t> stamp_;  // per group: the epoch of the last pick that changed its indexes
  uint32_t epoch_ = 1;
  std::vector<bool> in_;
  double used_ = 0;
  std::map<std::pair<size_t, size_t>, Memo> memos_;

  // The chosen candidates without `rep`, plus `add`.
  std::vector<const Candidate*> others(size_t rep, size_t add) const {
    std::vector<const Candidate*> out;
    for (size_t c : chosen)
      if (c != rep) out.push_back(&p_.candidates[c]);
    if (add != kNone) out.push_back(&p_.candidates[add]);
    return out;
  }
  std::vector<size_t> groups_of(size_t c, size_t rep) const {
    return rep == kNone ? p_.served[c] : merged(p_.served[c], p_.served[rep]);
  }
  double total() const {
    double t = 0;
    for (size_t i = 0; i < p_.queries.size(); ++i)
      if (p_.costed[i]) t += p_.queries[i].weight * cur[i];
    return t;
  }
  const Memo* valid_memo(size_t c, size_t rep) const {
    auto it = memos_.find({c, rep});
    if (it == memos_.end()) return nullptr;
    for (size_t i : groups_of(c, rep))
      if (stamp_[i] >= it->second.at) return nullptr;
    return &it->second;
  }
  // Write overhead only depends on the chosen indexes of the same table.
  double net_overhead(size_t c, size_t rep) const {
    if (!p_.writers.count(p_.candidates[c].table)) return 0;
    std::vector<const Candidate*> rest;
    for (size_t o : chosen)
      if (o != rep && p_.candidates[o].table == p_.candidates[c].table) rest.push_back(&p_.candidates[o]);
    return p_.overhead(c, rest) - (rep == kNone ? 0 : p_.overhead(rep, rest));
  }

  // The move's exact gain when costed since its groups last changed, else an upper bound.
  std::optional<Entry> bound(size_t c, size_t rep, double size, double threshold) const {
    Entry e{0, false, c, rep, size};
    double gain = 0;
    if (const Memo* m = valid_memo(c, rep)) {
      e.exact = true;
      gain = m->delta;
    } else {
      for (size_t i : groups_of(c, rep)) gain += p_.queries[i].weight * cur[i];
    }
    gain -= net_overhead(c, rep);
    if (gain <= 0 || gain < threshold) return std::nullopt;
    e.score = per_byte_ ? gain / std::max(size, 8192.0) : gain;
    return e;
  }

  Memo cost_move(Evaluator& ev, size_t c, size_t rep) const {
    auto next = others(rep, c);
    std::vector<const IndexSpec*> config;
    for (const Candidate* x : next) config.push_back(&x->index);
    Memo m;
    m.at = epoch_;
    for (size_t i : groups_of(c, rep)) {
      auto cost = p_.workers.cost(ev, p_.queries[i], config);
      if (!cost) continue;
      m.delta += p_.queries[i].weight * (cur[i] - *cost);
      m.costs.emplace_back(i, *cost);
    }
    return m;
  }

  Heap moves(double threshold) const {
    Heap heap;
    const auto& cs = p_.candidates;
    const auto& o = p_.options;
    for (size_t c = 0; c < cs.size(); ++c) {
      if (in_[c]) continue;
      std::vector<size_t> reps;
      if (chosen.size() < o.max_indexes) reps.push_back(kNone);
      for (size_t n : p_.narrower[c])
        if (in_[n]) reps.push_back(n);
      for (size_t rep : reps) {
        double size = cs[c].size_bytes - (rep == kNone ? 0 : cs[rep].size_bytes);
        if (o.budget_bytes > 0 && used_ + size > o.budget_bytes) continue;
        if (auto e = bound(c, rep, size, threshold)) heap.push(*e);
      }
    }
    return heap;
  }

  // One round: the best move by exact score, costing only moves whose bound could beat it.
  bool pick() {
    double threshold = total() * p_.options.min_improvement_pct / 100.0;
    Heap heap = moves(threshold);
    const size_t batch_size = 2 * p_.workers.size() - 1;
    const std::string stage = "choosing index " + std::to_string(chosen.size() + 1);
    size_t costed = 0, start = heap.size();
    while (!heap.empty()) {
      if (heap.top().exact) {
        apply(heap.top());
        return true;
      }
      std::vector<Entry> batch;
      while (!heap.empty() && !heap.top().exact && batch.size() < batch_size) {
        batch.push_back(heap.top());
        heap.pop();
      }
      std::vector<Memo> done(batch.size());
      p_.workers.run(batch.size(), [&](Evaluator& ev, size_t k) { done[k] = cost_move(ev, batch[k].c, batch[k].rep); });
      for (size_t k = 0; k < batch.size(); ++k) {
        memos_[{batch[k].c, batch[k].rep}] = std::move(done[k]);
        if (auto e = bound(batch[k].c, batch[k].rep, batch[k].size, threshold)) heap.push(*e);
      }
      costed += batch.size();
      if (progress_) progress_(stage, costed, start);
    }
    return false;
  }

  void apply(const Entry& e) {
    const Memo& m = memos_.at({e.c, e.rep});
    if (e.rep != kNone) {
      chosen.erase(std::find(chosen.begin(), chosen.end(), e.rep));
      in_[e.rep] = false;
      widened.insert(e.c);
    }
    chosen.push_back(e.c);
    in_[e.c] = true;
    used_ += e.size;
    for (auto [i, c] : m.costs) cur[i] = c;
    for (size_t i : groups_of(e.c, e.rep)) stamp_[i] = epoch_;
    ++epoch_;
  }

  // What the workload loses without chosen index c, net of the writes c costs: its leave-one-out gain.
  std::vector<double> gains_without() const {
    std::vector<double> gains(chosen.size());
    p_.workers.run(chosen.size(), [&](Evaluator& ev, size_t k) {
      size_t c = chosen[k];
      auto rest = others(c, kNone);
      std::vector<const IndexSpec*> config;
      for (const Candidate* x : rest) config.push_back(&x->index);
      double delta = 0;
      for (size_t i : p_.served[c])
        if (auto without = p_.workers.cost(ev, p_.queries[i], config)) delta += p_.queries[i].weight * (*without - cur[i]);
      gains[k] = delta - p_.overhead(c, rest);
    });
    return gains;
  }

  void drop(size_t k) {
    size_t c = chosen[k];
    chosen.erase(chosen.begin() + long(k));
    in_[c] = false;
    used_ -= p_.candidates[c].size_bytes;
    std::vector<const IndexSpec*> config;
    for (const Candidate* x : picked()) config.push_back(&x->index);
    for (size_t i : p_.served[c])
      if (auto cost = p_.workers.cost(p_.workers.first(), p_.queries[i], config)) cur[i] = *cost;
  }

  // A later pick can make an earlier one useless (it serves the same groups better): drop whatever
  // the final configuration does not need, worst first.
  void prune() {
    for (;;) {
      std::vector<double> gains = gains_without();
      size_t worst = kNone;
      for (size_t k = 0; k < chosen.size(); ++k)
        if (worst == kNone || gains[k] < gains[worst]) worst = k;
      if (worst == kNone || gains[worst] > 0) return;
      drop(worst);
    }
  }

  // Index consolidation. Two picks on the same table with the same leading key (and WHERE) each
  // serve the other's lookups too, through that key: (a) and (a, b), (a, b) and (a, c), or a
  // B-tree and a BRIN on a. The
  // greedy keeps both when the second saves the 0.3% any pick must; but each one more index is
  // written on every insert, vacuumed and cached, which the plan costs do not show. So the one
  // the workload loses least without must save consolidate_pct of the workload cost to stay;
  // otherwise the other serves its groups and the report says what keeping it would have saved.
  void consolidate() {
    if (p_.options.consolidate_pct <= 0) return;
    for (;;) {
      std::vector<double> gains = gains_without();
      double bar = total() * p_.options.consolidate_pct / 100.0;
      size_t drop_k = kNone, keep_k = kNone;
      for (size_t k = 0; k < chosen.size(); ++k) {
        size_t sibling = kNone;
        for (size_t o = 0; o < chosen.size(); ++o)
          if (o != k && same_family(p_.candidates[chosen[k]].index, p_.candidates[chosen[o]].index) &&
              (sibling == kNone || gains[o] > gains[sibling]))
            sibling = o;
        if (sibling == kNone || gains[k] >= bar) continue;
        if (drop_k == kNone || gains[k] < gains[drop_k]) drop_k = k, keep_k = sibling;
      }
      if (drop_k == kNone) return;
      size_t gone = chosen[drop_k], kept = chosen[keep_k];
      // What the dropped one absorbed earlier moves with its groups.
      auto& into = absorbed[kept];
      into.emplace_back(gone, gains[drop_k]);
      if (auto it = absorbed.find(gone); it != absorbed.end()) {
        into.insert(into.end(), it->second.begin(), it->second.end());
        absorbed.erase(it);
      }
      drop(drop_k);
    }
  }

  // The method does not matter: a B-tree and a BRIN on the same column both serve its ranges (the
  // second workload of the quality bench got both on ops.events (created), the BRIN saving 0.15%).
  static bool same_family(const IndexSpec& a, const IndexSpec& b) {
    return a.relation() == b.relation() && a.where == b.where && !a.columns.empty() && !b.columns.empty() &&
           a.columns[0] == b.columns[0];
  }

 public:
  std::vector<double> cur;
  std::vector<size_t> chosen;
  std::set<size_t> widened;
  // Per kept pick: the picks consolidation folded into it, each with its leave-one-out gain.
  std::map<size_t, std::vector<std::pair<size_t, double>>> absorbed;
  double objective = 0;
};

// Why the report shows (customer_id) and not (customer_id, created_at): finds the best candidate
// extending the pick and what it would have added, so the reader sees it was weighed, not missed.
void explain_wider(Selected& s, size_t c, const Problem& p, const std::vector<const Candidate*>& others,
                   const std::vector<double>& cur, Evaluator& ev) {
  for (size_t w : p.wider[c]) {
    const Candidate& wc = p.candidates[w];
    bool shared = false;
    for (const auto& g : s.groups) shared = shared || wc.sources.count(g.fingerprint);
    if (!shared) continue;
    std::vector<const IndexSpec*> config;
    for (const Candidate* x : others) config.push_back(&x->index);
    config.push_back(&wc.index);
    double delta = 0;
    for (size_t i : merged(p.served[w], p.served[c]))
      if (auto cost = p.workers.cost(ev, p.queries[i], config)) delta += p.queries[i].weight * (cur[i] - *cost);
    double gain = delta - (p.overhead(w, others) - p.overhead(c, others));
    if (!s.wider || gain > s.wider_gain) {
      s.wider = &wc;
      s.wider_gain = gain;
      s.wider_extra_bytes = wc.size_bytes - s.candidate->size_bytes;
    }
  }
}

void cost_groups(Problem& p, SelectionResult& res, const Progress& progress) {
  const size_t n = p.queries.size();
  p.base.assign(n, 0);
  std::vector<std::optional<double>> costs(n);
  const size_t chunk = 64 * p.workers.size();
  for (size_t from = 0; from < n; from += chunk) {
    size_t len = std::min(chunk, n - from);
    p.workers.run(len, [&](Evaluator& ev, size_t k) { costs[from + k] = p.workers.cost(ev, p.queries[from + k], {}); });
    if (progress) progress("costing statements", from + len, n);
  }
  p.costed.assign(n, false);
  for (size_t i = 0; i < n; ++i) {
    if (costs[i]) {
      p.base[i] = *costs[i];
      p.costed[i] = true;
      res.cost_before += p.queries[i].weight * *costs[i];
    } else {
      res.uncosted.push_back(p.queries[i].fingerprint);
    }
  }
}

}  // namespace

double write_overhead(const Candidate& c, const std::vector<QueryModel>& queries, const std::vector<const Candidate*>& chosen) {
  std::vector<const QueryModel*> all;
  for (const auto& q : queries) all.push_back(&q);
  return overhead_for(c, all, chosen);
}

SelectionResult select_indexes(const std::vector<QueryModel>& queries, const std::vector<Candidate>& candidates,
                               const Evaluators& evaluators, const SelectionOptions& options, const Progress& progress) {
  SelectionResult res;
  CostCache cache;
  Workers workers(evaluators, cache);
  Problem p{queries, candidates, options, workers, {}, {}, {}, {}, {}, {}};
  cost_groups(p, res, progress);
  relate(p);

  // Extend ranks moves by benefit per byte, which suits a size budget; under a binding
  // --max-indexes the count is the scarce resource, so the search is run a second time ranking by
  // benefit alone and the cheaper outcome is kept.
  auto found = std::make_unique<Search>(p, true, progress);
  found->run();
  if (found->chosen.size() >= options.max_indexes && options.max_indexes > 0) {
    auto by_benefit = std::make_unique<Search>(p, false, progress);
    by_benefit->run();
    if (by_benefit->objective < found->objective) found = std::move(by_benefit);
  }
  const std::vector<double>& cur = found->cur;

  for (size_t i = 0; i < queries.size(); ++i) {
    if (!p.costed[i]) continue;
    res.cost_after += queries[i].weight * cur[i];
    res.group_costs[queries[i].fingerprint] = {queries[i].fingerprint, queries[i].weight, p.base[i], cur[i]};
  }
  // Leave-one-out benefit: what the workload loses if this one index is not built.
  res.selected.resize(found->chosen.size());
  workers.run(found->chosen.size(), [&](Evaluator& ev, size_t k) {
    size_t c = found->chosen[k];
    Selected& s = res.selected[k];
    s.candidate = &candidates[c];
    s.widened = found->widened.count(c) > 0;
    if (auto it = found->absorbed.find(c); it != found->absorbed.end())
      for (auto [gone, gain] : it->second) s.absorbed.push_back({&candidates[gone], gain});
    auto others = found->picked(c);
    std::vector<const IndexSpec*> config;
    for (const Candidate* x : others) config.push_back(&x->index);
    double delta = 0;
    for (size_t i : p.served[c]) {
      auto without = workers.cost(ev, queries[i], config);
      if (!without) continue;
      delta += queries[i].weight * (*without - cur[i]);
      if (*without - cur[i] > 1e-9 * std::max(1.0, cur[i]))
        s.groups.push_back({queries[i].fingerprint, queries[i].weight, p.base[i], cur[i]});
    }
    s.write_overhead = p.overhead(c, others);
    s.benefit = delta - s.write_overhead;
    explain_wider(s, c, p, others, cur, ev);
    std::sort(s.groups.begin(), s.groups.end(),
              [](const GroupCost& a, const GroupCost& b) { return a.calls * (a.before - a.after) > b.calls * (b.before - b.after); });
  });
  std::stable_sort(res.selected.begin(), res.selected.end(), [](const Selected& a, const Selected& b) { return a.benefit > b.benefit; });
  res.evaluations = workers.asked;
  res.whatif_calls = cache.misses();
  return res;
}

}  // namespace pgopt::analyzer::advisor
