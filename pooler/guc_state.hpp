// Session settings (GUCs) a client expects or a server has, and the SQL that turns one into the other.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pgopt::pooler {

// Two kinds of entry. Reported: a GUC the server announces in ParameterStatus (client_encoding,
// DateStyle, TimeZone, application_name, ...); its value is the server's canonical text and changes
// arrive by themselves. Replayed: any other session-level setting a client made with SQL
// (`SET search_path = ...`, `set_config(..., false)`, `SET ROLE`); the server never reports it, so
// we keep the statement that made it and run it again on the next server the client uses.
struct GucEntry {
  std::string name;   // as the server spells it ("DateStyle")
  std::string value;  // reported: the value; replayed: the SQL statement
  bool replayed = false;
  bool operator==(const GucEntry&) const = default;
};

class GucInterner;

// Copy-on-write: copies share one immutable map until one of them changes. Why: every client holds
// about fifteen reported settings (2-3 kB of map nodes), nearly always the same as its neighbours'
// (GucInterner shares them), and comparing two states is on every transaction's path (a handle
// compare, see ServerConn::synced_*, instead of a walk over both maps).
class GucState {
 public:
  using Map = std::map<std::string, GucEntry, std::less<>>;  // by lower-case name
  // An immutable snapshot of the contents; equal handles mean equal contents.
  using Handle = std::shared_ptr<const Map>;

  void set_reported(std::string_view name, std::string_view value);
  void set_replayed(std::string_view name, std::string sql);
  void reset(std::string_view name);  // drops a replayed entry (RESET x)
  void reset_all_replayed();          // RESET ALL / DISCARD ALL
  const GucEntry* find(std::string_view name) const;
  const Map& entries() const;
  bool empty() const { return !map_ || map_->empty(); }
  // Stays the same while the contents do; a change (copy on write) gives a new one.
  Handle handle() const { return map_; }
  // Whether `h` is this state's current handle: a pointer compare, no reference count touched (the
  // interned map is shared by every worker, so copying its handle per transaction would bounce).
  bool is(const Handle& h) const { return map_.get() == h.get(); }
  // Shares storage with an equal state interned on the same worker before.
  void intern(GucInterner& interner);
  bool operator==(const GucState& o) const { return map_ == o.map_ || entries() == o.entries(); }

 private:
  friend class GucInterner;
  Map& mut();  // the map to change, copied first if anyone else can see it
  std::shared_ptr<Map> map_;
  bool frozen_ = false;  // interned: other sessions may get this map from the interner
};

// Equal client settings share one map, across workers: a server connection moves between workers,
// and its sync shortcut (ServerConn::synced_want) only works if its clients' settings are one map.
// Interning happens at login and when a client's settings change, so the lock is off the hot path.
class GucInterner {
 public:
  void intern(GucState& s);
  void sweep();  // forgets maps no state holds any more
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::unordered_multimap<uint64_t, std::weak_ptr<GucState::Map>> table_;
};

std::string lower(std::string_view s);

// Reported parameters a client cannot set; never compared or synced.
bool is_fixed_parameter(std::string_view lower_name);

// "SELECT pg_catalog.set_config(name, value, false)" with both as safe literals.
std::string set_config_sql(std::string_view name, std::string_view value);

// SQL that makes a server whose settings are `have` behave like `want`; empty when nothing differs.
// Values travel as dollar-quoted literals through set_config so no client text is interpolated raw.
std::string sync_sql(const GucState& want, const GucState& have);

}  // namespace pgopt::pooler
