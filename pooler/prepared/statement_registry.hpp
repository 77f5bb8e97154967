// The statements clients prepare, one shared server-side statement per (query text, parameter types).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pgopt::pooler::prepared {

// What a server is asked to prepare. Every client that prepares the same text with the same
// parameter types, under whatever name, maps to one of these, so a server connection prepares it
// once for all of them.
struct Statement {
  uint64_t id = 0;
  std::string server_name;    // "pgopt_<id>": the only name the server ever sees
  std::string query;
  std::vector<int32_t> param_types;
  std::string parse_message;  // the complete Parse message under server_name, ready to send
  // SQL-level statements (PREPARE name AS ...): the PREPARE that creates it under server_name.
  // Empty for protocol-level ones.
  std::string prepare_sql;
  std::string sql_before, sql_after;  // prepare_sql around the name, to make a fresh one
  // Set when the server said the statement's result type changed (0A000, "cached plan must not
  // change result type"): whoever uses it next gets a fresh statement under a new name instead.
  std::atomic<bool> stale{false};
  // The text is PREPARE / EXECUTE / DEALLOCATE [ALL] (a client named such a statement): it acts on
  // the client's own names at each Execute, so the server never has it (sql_commands.cpp). Also set
  // for a text that reads pg_prepared_statements, which is the client's view at each Execute. Every
  // worker that sets it sets the same value, from the text alone.
  std::atomic<bool> sql_command{false};
};
using StatementPtr = std::shared_ptr<Statement>;

struct SchemaEpoch;  // server_statements.hpp

// Shared by all workers. Entries are weak: a statement lives as long as a client maps a name to it
// or a server connection holds it, and the map is swept of dead entries as it grows.
class StatementRegistry {
 public:
  StatementPtr intern(std::string_view query, std::span<const int32_t> param_types);
  // A SQL PREPARE, given as the text before and after its statement name.
  StatementPtr intern_sql(std::string_view before_name, std::string_view after_name);
  // For a stale statement: the statement that replaces it (new id and name, same text and types).
  StatementPtr refresh(const StatementPtr& old);
  size_t size();
  // The schema epoch all server connections to `database` share (server_statements.hpp); asked once
  // per server connection.
  std::shared_ptr<SchemaEpoch> schema_epoch(std::string_view database);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<SchemaEpoch>> epochs_;
  StatementPtr intern_key(std::string key, std::string_view query, std::span<const int32_t> types,
                          std::string_view before_name, std::string_view after_name);

  std::unordered_map<std::string, std::weak_ptr<Statement>> by_key_;
  uint64_t next_id_ = 1;
  size_t sweep_at_ = 1024;
};

}  // namespace pgopt::pooler::prepared
