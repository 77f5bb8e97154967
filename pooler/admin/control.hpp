// The admin console's control commands: PAUSE, RESUME, KILL <db> and SET, runtime in, reply out.
#pragma once

#include <functional>
#include <string>

#include "pooler/admin/command.hpp"
#include "pooler/net.hpp"
#include "pooler/runtime.hpp"

namespace pgopt::pooler::admin {

// Each appends the whole reply (CommandComplete or ErrorResponse, no ReadyForQuery) to `reply`.
// `gone` says the console client itself disconnected, so a PAUSE that waits can give up; `by`
// names the console client in log lines.
awaitable<void> pause(Runtime& rt, const Command& cmd, std::string& reply, std::function<bool()> gone,
                      std::string by);
void resume(Runtime& rt, const Command& cmd, std::string& reply, const std::string& by);
awaitable<void> kill_database(Runtime& rt, const Command& cmd, std::string& reply, std::string by);
awaitable<void> set(Runtime& rt, const Command& cmd, std::string& reply, std::string by);
// CACHE CLEAR [rule]: the result cache's entries (of one rule, by SHOW CACHE's name); 42704 for a
// rule the running cache does not have.
void cache_clear(Runtime& rt, const Command& cmd, std::string& reply, const std::string& by);

// The config `current` would be with [pooler] `key` set to `value` (TOML text), or the error to
// show; socket-free, for SET and its tests.
struct SetResult {
  std::shared_ptr<const Config> config;
  std::string sqlstate, message;
};
SetResult config_with(const Config& current, const std::string& key, const std::string& value);

}  // namespace pgopt::pooler::admin
