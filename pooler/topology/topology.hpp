// Which member of a multi-host database is its primary, decided from rounds of probes; no sockets.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace pgopt::pooler::topology {

using SteadyClock = std::chrono::steady_clock;

// One member's answer in a probe round.
enum class Probe {
  Primary,  // pg_is_in_recovery() is false (or Patroni's GET /primary answered 200)
  Standby,  // pg_is_in_recovery() is true
  Failed,   // refused, broken, an error, or a login that says in_hot_standby: no writes there
  Silent,   // the probe timed out: no news (a loaded machine), not proof of death
};

// What the pool may do with new transactions of the database.
enum class State {
  Discovering,  // no round has found a primary yet (startup): hold new transactions
  Stable,       // exactly one primary: send them there
  NoPrimary,    // the primary was lost and no member has been promoted yet: hold them
  SplitBrain,   // two or more members claim to be primary: refuse them (never guess)
  Disagree,     // Patroni's leader is not the one primary the members report: hold them
};

// What Patroni's REST API said in a round (patroni_urls), for databases that have it.
struct PatroniView {
  bool answered = false;         // a URL answered GET /cluster with a readable body
  std::optional<size_t> leader;  // its running leader, as a member index (nullopt: none, or not a member)
};

// What a round changed, for the caller's log, metrics and the closing of old servers.
enum class Change { None, Elected, Lost, Moved, SplitBrain };

std::string_view to_string(Probe p);
std::string_view to_string(State s);
std::string_view to_string(Change c);

// The rules, all applied in round() and nowhere else:
//  1. A member counts as primary only on a Primary answer in this round. A member that is Silent
//     keeps its previous answer for up to kMaxSilentRounds rounds in a row, then counts as Failed
//     (a probe that only timed out on a loaded machine must not drop every server connection, but
//     a hung host must not stay primary forever).
//  2. Exactly one primary: Stable with it. If it is not the previous primary, the change is Moved
//     (or Elected when there was none) and `changes` grows by one: servers of any other member are
//     no longer handed out, and busy ones are closed when their transaction ends.
//  3. No primary: NoPrimary after a primary (change Lost), or Discovering when there never was one.
//     New transactions wait for the next election (failover_wait_timeout bounds the wait).
//  4. Two or more primaries: SplitBrain, no primary (change SplitBrain). Writes are refused, not
//     held, until a round finds one primary again.
//  5. With Patroni's view (patroni_urls) answered this round, one primary is Stable only if it is
//     Patroni's leader; otherwise Disagree, no primary (change Lost if there was one): new
//     transactions wait as in rule 3, so none reaches a member only one source calls primary. That
//     is also how a switchover is seen early: Patroni names the new leader before the old one stops.
//     A round without an answer from Patroni falls back to rules 2-4 (either source alone works).
// The caller probes every member each round, all at once, so one round's answers are from the same
// moment; rounds come every health_check_period while Stable, and every kFastRound otherwise or
// after suspect() (a connection to the primary broke), so a promotion is seen within kFastRound.
class Topology {
 public:
  static constexpr int kMaxSilentRounds = 3;
  static constexpr std::chrono::milliseconds kFastRound{100};

  explicit Topology(size_t members);

  // One complete round: probes[i] is member i's answer. Returns what changed.
  Change round(std::span<const Probe> probes, SteadyClock::time_point now, const PatroniView& patroni = {});
  // A connection to the primary failed or said it is in recovery: the next round is due now.
  void suspect() { suspected_ = true; }

  State state() const { return state_; }
  std::optional<size_t> primary() const { return primary_; }
  // The members claiming to be primary in the last round (two or more in SplitBrain).
  const std::vector<size_t>& claimants() const { return claimants_; }
  // The effective answer (after rule 1) of each member in the last round.
  Probe role(size_t member) const { return effective_[member]; }
  size_t size() const { return effective_.size(); }
  uint64_t changes() const { return changes_; }
  SteadyClock::time_point since() const { return since_; }  // when the current state began
  // How long the caller waits before the next round.
  std::chrono::milliseconds next_round(std::chrono::milliseconds period) const;

 private:
  State state_ = State::Discovering;
  std::optional<size_t> primary_;
  std::vector<Probe> effective_;
  std::vector<int> silent_rounds_;
  std::vector<size_t> claimants_;
  uint64_t changes_ = 0;
  bool suspected_ = false;
  SteadyClock::time_point since_{};
};

}  // namespace pgopt::pooler::topology
