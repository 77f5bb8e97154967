// Lookups in the generated pg_catalog function table and the curated list of writing built-ins.
#include "sql/builtin_functions.hpp"

#include <algorithm>
#include <array>

namespace pgopt::sql::detail {
namespace {

struct BuiltinFunction {
  std::string_view name;
  char volatility;
};

constexpr BuiltinFunction kBuiltins[] = {
#include "sql/builtin_functions.inc"
};

// Grouped for reading; sorted at compile time for binary search. A unit test checks that every name
// is a real pg_catalog function, so a typo cannot hide here.
constexpr std::string_view kWriterGroups[] = {
    // Sequences. currval/lastval only read, but the session state they read exists only on the
    // server that ran nextval.
    "nextval", "setval", "currval", "lastval",
    // Advisory locks, session and transaction scoped: other sessions must see them.
    "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared",
    "pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared", "pg_advisory_unlock",
    "pg_advisory_unlock_shared", "pg_advisory_unlock_all",
    // Assign a transaction id (impossible on a standby).
    "txid_current", "pg_current_xact_id",
    // Large objects (lo_open may open for writing).
    "lo_creat", "lo_create", "lo_import", "lo_export", "lo_from_bytea", "lo_put", "lo_unlink",
    "lowrite", "lo_truncate", "lo_truncate64", "lo_open",
    "pg_notify",
    // WAL, backups, replication slots and origins.
    "pg_switch_wal", "pg_create_restore_point", "pg_backup_start", "pg_backup_stop",
    "pg_create_physical_replication_slot", "pg_create_logical_replication_slot",
    "pg_copy_physical_replication_slot", "pg_copy_logical_replication_slot",
    "pg_drop_replication_slot", "pg_replication_slot_advance", "pg_logical_slot_get_changes",
    "pg_logical_slot_get_binary_changes", "pg_logical_emit_message",
    "pg_replication_origin_advance", "pg_replication_origin_create", "pg_replication_origin_drop",
    "pg_replication_origin_session_reset", "pg_replication_origin_session_setup",
    "pg_replication_origin_xact_reset", "pg_replication_origin_xact_setup",
    // Server administration aimed at the primary.
    "pg_reload_conf", "pg_rotate_logfile", "pg_rotate_logfile_old", "pg_cancel_backend",
    "pg_terminate_backend", "pg_stat_reset", "pg_stat_reset_shared",
    "pg_stat_reset_single_function_counters", "pg_stat_reset_single_table_counters",
    "pg_stat_reset_slru", "pg_stat_reset_replication_slot", "pg_stat_reset_subscription_stats",
    "pg_import_system_collations", "pg_extension_config_dump", "pg_nextoid",
    "pg_stop_making_pinned_objects",
    "binary_upgrade_create_empty_extension", "binary_upgrade_set_missing_value",
    "binary_upgrade_set_next_array_pg_type_oid", "binary_upgrade_set_next_heap_pg_class_oid",
    "binary_upgrade_set_next_heap_relfilenode", "binary_upgrade_set_next_index_pg_class_oid",
    "binary_upgrade_set_next_index_relfilenode",
    "binary_upgrade_set_next_multirange_array_pg_type_oid",
    "binary_upgrade_set_next_multirange_pg_type_oid", "binary_upgrade_set_next_pg_authid_oid",
    "binary_upgrade_set_next_pg_enum_oid", "binary_upgrade_set_next_pg_tablespace_oid",
    "binary_upgrade_set_next_pg_type_oid", "binary_upgrade_set_next_toast_pg_class_oid",
    "binary_upgrade_set_next_toast_relfilenode", "binary_upgrade_set_record_init_privs",
    // Index maintenance.
    "brin_summarize_new_values", "brin_summarize_range", "brin_desummarize_range",
    "gin_clean_pending_list",
    // Run a query passed as text, which may be anything.
    "query_to_xml", "query_to_xml_and_xmlschema", "query_to_xmlschema", "ts_stat", "ts_rewrite",
    // Seeds random() for this session only.
    "setseed",
};

constexpr auto kWriters = [] {
  std::array<std::string_view, std::size(kWriterGroups)> sorted{};
  std::copy(std::begin(kWriterGroups), std::end(kWriterGroups), sorted.begin());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}();
static_assert(std::adjacent_find(kWriters.begin(), kWriters.end()) == kWriters.end(), "duplicate writer");

// Kept short on purpose: each entry was checked to depend on nothing but its arguments and the
// settings in the cache key. Sorted (a unit test checks it, and that each is a stable built-in).
constexpr std::string_view kKeyStableBuiltins[] = {
    "array_to_string", "concat",          "concat_ws",         "date_part",        "date_trunc",
    "extract",         "format",          "generate_series",   "json_agg",         "json_build_array",
    "json_build_object", "json_object_agg", "jsonb_agg",       "jsonb_build_array", "jsonb_build_object",
    "make_timestamptz", "row_to_json",    "timezone",          "to_char",          "to_date",
    "to_json",         "to_jsonb",        "to_number",         "to_timestamp",
};

}  // namespace

std::optional<Volatility> builtin_volatility(std::string_view name) {
  const auto* end = std::end(kBuiltins);
  const auto* it = std::lower_bound(std::begin(kBuiltins), end, name,
                                    [](const BuiltinFunction& f, std::string_view n) { return f.name < n; });
  if (it == end || it->name != name) return std::nullopt;
  return static_cast<Volatility>(it->volatility);
}

size_t builtin_function_count() { return std::size(kBuiltins); }

bool is_builtin_writer(std::string_view name) {
  return std::binary_search(kWriters.begin(), kWriters.end(), name);
}

std::span<const std::string_view> builtin_writers() { return kWriters; }

bool is_key_stable_builtin(std::string_view name) {
  return std::binary_search(std::begin(kKeyStableBuiltins), std::end(kKeyStableBuiltins), name);
}

std::span<const std::string_view> key_stable_builtins() { return kKeyStableBuiltins; }

}  // namespace pgopt::sql::detail
