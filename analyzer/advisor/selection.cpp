// Greedy workload-wide selection (see selection.hpp).
#include "analyzer/advisor/selection.hpp"

#include <algorithm>
#include <set>

namespace pgopt::analyzer::advisor {
namespace {

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

// Why the report shows (customer_id) and not (customer_id, created_at): finds the best candidate
// extending the pick and what it would have added, so the reader sees it was weighed, not missed.
template <class Eval>
void explain_wider(Selected& s, const std::vector<Candidate>& candidates, const std::vector<QueryModel>& queries,
                   const std::vector<const Candidate*>& others, const std::vector<double>& cur,
                   const std::vector<bool>& costed, Eval& eval) {
  const Candidate* c = s.candidate;
  for (const auto& w : candidates) {
    if (!extends(w.index, c->index)) continue;
    bool shared = false;
    for (const auto& g : s.groups) shared = shared || w.sources.count(g.fingerprint);
    if (!shared) continue;
    std::vector<const Candidate*> with = others;
    with.push_back(&w);
    double delta = 0;
    for (size_t i = 0; i < queries.size(); ++i) {
      if (!costed[i] || !queries[i].touches(c->index.relation())) continue;
      if (auto cost = eval(queries[i], with)) delta += queries[i].weight * (cur[i] - *cost);
    }
    double gain = delta - (write_overhead(w, queries, others) - write_overhead(*c, queries, others));
    if (!s.wider || gain > s.wider_gain) {
      s.wider = &w;
      s.wider_gain = gain;
      s.wider_extra_bytes = w.size_bytes - c->size_bytes;
    }
  }
}

}  // namespace

double write_overhead(const Candidate& c, const std::vector<QueryModel>& queries, const std::vector<const Candidate*>& chosen) {
  const TableInfo& t = *c.table;
  double total = 0;
  for (const auto& q : queries) {
    for (const auto& w : q.writes) {
      if (w.table != &t) continue;
      double rows = q.weight * w.rows_per_call;
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

SelectionResult select_indexes(const std::vector<QueryModel>& queries, const std::vector<Candidate>& candidates,
                               Evaluator& evaluator, const SelectionOptions& options, const Progress& progress) {
  SelectionResult res;
  auto config_of = [](const std::vector<const Candidate*>& cs) {
    std::vector<const IndexSpec*> out;
    for (const Candidate* c : cs) out.push_back(&c->index);
    return out;
  };
  auto eval = [&](const QueryModel& q, const std::vector<const Candidate*>& cs) {
    ++res.evaluations;
    return evaluator.cost(q, config_of(cs));
  };

  std::vector<double> base(queries.size(), 0);
  std::vector<bool> costed(queries.size(), false);
  for (size_t i = 0; i < queries.size(); ++i) {
    if (auto c = eval(queries[i], {})) {
      base[i] = *c;
      costed[i] = true;
      res.cost_before += queries[i].weight * *c;
    } else {
      res.uncosted.push_back(queries[i].fingerprint);
    }
    if (progress) progress(i + 1, queries.size() + candidates.size());
  }
  // One greedy search from the existing indexes. Extend ranks moves by benefit per byte, which
  // suits a size budget; under a binding --max-indexes the count is the scarce resource, so the
  // search is run a second time ranking by benefit alone and the cheaper outcome is kept.
  struct Search {
    std::vector<const Candidate*> chosen;
    std::vector<double> cur;
    std::set<const Candidate*> widened;
    double objective = 0;  // workload cost with write overhead
  };
  auto search = [&](bool per_byte) {
    Search out;
    std::vector<const Candidate*>& chosen = out.chosen;
    std::vector<double>& cur = out.cur;
    std::set<const Candidate*>& widened = out.widened;
    cur = base;
    double used = 0;
    double current_total = res.cost_before;

    for (;;) {
      struct Move {
        const Candidate* add = nullptr;
        const Candidate* replace = nullptr;
        double gain = 0, score = 0, size = 0;
        std::vector<std::pair<size_t, double>> costs;
      } best;
      double threshold = current_total * options.min_improvement_pct / 100.0;
      size_t done = 0;
      for (const auto& cand : candidates) {
        ++done;
        if (std::find(chosen.begin(), chosen.end(), &cand) != chosen.end()) continue;
        std::vector<const Candidate*> replace_options = {nullptr};
        for (const Candidate* c : chosen)
          if (extends(cand.index, c->index)) replace_options.push_back(c);
        for (const Candidate* rep : replace_options) {
          if (!rep && chosen.size() >= options.max_indexes) continue;
          double size = cand.size_bytes - (rep ? rep->size_bytes : 0);
          if (options.budget_bytes > 0 && used + size > options.budget_bytes) continue;
          std::vector<const Candidate*> next;
          for (const Candidate* c : chosen)
            if (c != rep) next.push_back(c);
          next.push_back(&cand);
          double delta = 0;
          std::vector<std::pair<size_t, double>> costs;
          for (size_t i = 0; i < queries.size(); ++i) {
            if (!costed[i] || !queries[i].touches(cand.index.relation())) continue;
            auto c = eval(queries[i], next);
            if (!c) continue;
            delta += queries[i].weight * (cur[i] - *c);
            costs.emplace_back(i, *c);
          }
          std::vector<const Candidate*> others;
          for (const Candidate* c : chosen)
            if (c != rep) others.push_back(c);
          double overhead = write_overhead(cand, queries, others) - (rep ? write_overhead(*rep, queries, others) : 0);
          double gain = delta - overhead;
          if (gain <= 0 || gain < threshold) continue;
          double score = per_byte ? gain / std::max(size, 8192.0) : gain;
          if (score > best.score) best = {&cand, rep, gain, score, size, std::move(costs)};
        }
        if (progress) progress(queries.size() + done, queries.size() + candidates.size());
      }
      if (!best.add) break;
      if (best.replace) {
        chosen.erase(std::find(chosen.begin(), chosen.end(), best.replace));
        widened.insert(best.add);
      }
      chosen.push_back(best.add);
      used += best.size;
      for (auto [i, c] : best.costs) cur[i] = c;
      current_total = 0;
      for (size_t i = 0; i < queries.size(); ++i)
        if (costed[i]) current_total += queries[i].weight * cur[i];
    }

    // A later pick can make an earlier one useless (it serves the same queries better): drop
    // whatever the final configuration does not need, worst first.
    for (;;) {
      const Candidate* worst = nullptr;
      double worst_gain = 0;
      for (const Candidate* c : chosen) {
        std::vector<const Candidate*> others;
        for (const Candidate* o : chosen)
          if (o != c) others.push_back(o);
        double delta = 0;
        for (size_t i = 0; i < queries.size(); ++i) {
          if (!costed[i] || !queries[i].touches(c->index.relation())) continue;
          if (auto without = eval(queries[i], others)) delta += queries[i].weight * (*without - cur[i]);
        }
        double gain = delta - write_overhead(*c, queries, others);
        if (!worst || gain < worst_gain) {
          worst = c;
          worst_gain = gain;
        }
      }
      if (!worst || worst_gain > 0) break;
      chosen.erase(std::find(chosen.begin(), chosen.end(), worst));
      for (size_t i = 0; i < queries.size(); ++i)
        if (costed[i] && queries[i].touches(worst->index.relation()))
          if (auto c = eval(queries[i], chosen)) cur[i] = *c;
    }
    for (size_t i = 0; i < queries.size(); ++i)
      if (costed[i]) out.objective += queries[i].weight * cur[i];
    for (const Candidate* c : chosen) {
      std::vector<const Candidate*> others;
      for (const Candidate* o : chosen)
        if (o != c) others.push_back(o);
      out.objective += write_overhead(*c, queries, others);
    }
    return out;
  };
  Search found = search(true);
  if (found.chosen.size() >= options.max_indexes && options.max_indexes > 0) {
    Search by_benefit = search(false);
    if (by_benefit.objective < found.objective) found = std::move(by_benefit);
  }
  std::vector<const Candidate*>& chosen = found.chosen;
  std::vector<double>& cur = found.cur;
  std::set<const Candidate*>& widened = found.widened;

  res.cost_after = 0;
  for (size_t i = 0; i < queries.size(); ++i) {
    if (!costed[i]) continue;
    res.cost_after += queries[i].weight * cur[i];
    res.group_costs[queries[i].fingerprint] = {queries[i].fingerprint, queries[i].weight, base[i], cur[i]};
  }
  // Leave-one-out benefit: what the workload loses if this one index is not built.
  for (const Candidate* c : chosen) {
    Selected s;
    s.candidate = c;
    s.widened = widened.count(c) > 0;
    std::vector<const Candidate*> others;
    for (const Candidate* o : chosen)
      if (o != c) others.push_back(o);
    double delta = 0;
    for (size_t i = 0; i < queries.size(); ++i) {
      if (!costed[i] || !queries[i].touches(c->index.relation())) continue;
      auto without = eval(queries[i], others);
      if (!without) continue;
      double d = queries[i].weight * (*without - cur[i]);
      delta += d;
      if (*without - cur[i] > 1e-9 * std::max(1.0, cur[i]))
        s.groups.push_back({queries[i].fingerprint, queries[i].weight, base[i], cur[i]});
    }
    s.write_overhead = write_overhead(*c, queries, others);
    s.benefit = delta - s.write_overhead;
    explain_wider(s, candidates, queries, others, cur, costed, eval);
    std::sort(s.groups.begin(), s.groups.end(),
              [](const GroupCost& a, const GroupCost& b) { return a.calls * (a.before - a.after) > b.calls * (b.before - b.after); });
    res.selected.push_back(std::move(s));
  }
  std::sort(res.selected.begin(), res.selected.end(), [](const Selected& a, const Selected& b) { return a.benefit > b.benefit; });
  return res;
}

}  // namespace pgopt::analyzer::advisor
