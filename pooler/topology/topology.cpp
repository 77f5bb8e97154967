// The primary-election rules of a multi-host database (topology.hpp lists them).
#include "pooler/topology/topology.hpp"

#include <algorithm>

namespace pgopt::pooler::topology {

std::string_view to_string(Probe p) {
  switch (p) {
    case Probe::Primary: return "primary";
    case Probe::Standby: return "standby";
    case Probe::Failed: return "failed";
    case Probe::Silent: return "silent";
  }
  return "?";
}

std::string_view to_string(State s) {
  switch (s) {
    case State::Discovering: return "discovering";
    case State::Stable: return "stable";
    case State::NoPrimary: return "no_primary";
    case State::SplitBrain: return "split_brain";
    case State::Disagree: return "disagree";
  }
  return "?";
}

std::string_view to_string(Change c) {
  switch (c) {
    case Change::None: return "none";
    case Change::Elected: return "elected";
    case Change::Lost: return "lost";
    case Change::Moved: return "moved";
    case Change::SplitBrain: return "split_brain";
  }
  return "?";
}

Topology::Topology(size_t members) : effective_(members, Probe::Failed), silent_rounds_(members, 0) {}

Change Topology::round(std::span<const Probe> probes, SteadyClock::time_point now, const PatroniView& patroni) {
  suspected_ = false;
  claimants_.clear();
  for (size_t i = 0; i < effective_.size(); ++i) {
    const Probe p = i < probes.size() ? probes[i] : Probe::Failed;
    if (p == Probe::Silent) {
      // Rule 1: no news keeps the last answer, for a bounded number of rounds.
      if (++silent_rounds_[i] > kMaxSilentRounds) effective_[i] = Probe::Failed;
    } else {
      silent_rounds_[i] = 0;
      effective_[i] = p;
    }
    if (effective_[i] == Probe::Primary) claimants_.push_back(i);
  }
  const State before = state_;
  const std::optional<size_t> old = primary_;
  Change change = Change::None;
  if (claimants_.size() == 1 && patroni.answered && patroni.leader != claimants_.front()) {  // rule 5
    primary_.reset();
    state_ = State::Disagree;
    if (old) change = Change::Lost;
  } else if (claimants_.size() == 1) {  // rule 2
    state_ = State::Stable;
    primary_ = claimants_.front();
    if (old != primary_) change = old ? Change::Moved : Change::Elected;
  } else if (claimants_.empty()) {  // rule 3
    primary_.reset();
    if (old) {
      state_ = State::NoPrimary;
      change = Change::Lost;
    } else if (state_ == State::SplitBrain || state_ == State::Disagree) {
      state_ = State::NoPrimary;
    }
  } else {  // rule 4
    primary_.reset();
    state_ = State::SplitBrain;
    if (before != State::SplitBrain) change = Change::SplitBrain;
  }
  if (old != primary_) ++changes_;
  if (state_ != before || change != Change::None) since_ = now;
  return change;
}

std::chrono::milliseconds Topology::next_round(std::chrono::milliseconds period) const {
  if (state_ != State::Stable || suspected_) return std::min(period, kFastRound);
  return period;
}

}  // namespace pgopt::pooler::topology
