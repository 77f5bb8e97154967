// Catalog lookups and the schema-file (no statistics) catalog.
#include "analyzer/advisor/catalog.hpp"

#include <algorithm>
#include <cctype>

namespace pgopt::analyzer::advisor {

const ColumnInfo* TableInfo::column(std::string_view col) const {
  for (const auto& c : columns)
    if (c.name == col) return &c;
  return nullptr;
}

double TableInfo::rows() const {
  if (reltuples >= 0) return std::max(1.0, reltuples);
  // Never analysed: like the planner, assume a table of 10 pages of the row width.
  double width = 24;
  for (const auto& c : columns) width += c.avg_width;
  double per_page = std::max(1.0, 8168.0 / (width + 4));
  return std::max(1.0, std::max(relpages, 10.0) * per_page);
}

double TableInfo::pages() const { return std::max(1.0, relpages > 0 ? relpages : 10.0); }

namespace {
std::pair<std::string, std::string> split(std::string_view relation) {
  auto dot = relation.find('.');
  if (dot == std::string_view::npos) return {"", std::string(relation)};
  return {std::string(relation.substr(0, dot)), std::string(relation.substr(dot + 1))};
}
}  // namespace

namespace {
// A search_path setting's schema names: comma-separated, double quotes kept out, "$user" -> role.
std::vector<std::string> parse_search_path(const std::string& setting, const std::string& role) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, was_quoted = false;
  auto flush = [&] {
    if (!was_quoted) {
      while (!cur.empty() && std::isspace(static_cast<unsigned char>(cur.back()))) cur.pop_back();
      for (auto& c : cur) c = char(std::tolower(static_cast<unsigned char>(c)));
    }
    if (cur == "$user") cur = role;
    if (!cur.empty()) out.push_back(cur);
    cur.clear();
    was_quoted = false;
  };
  for (size_t i = 0; i < setting.size(); ++i) {
    char c = setting[i];
    if (quoted) {
      if (c == '"' && i + 1 < setting.size() && setting[i + 1] == '"') cur += c, ++i;
      else if (c == '"') quoted = false;
      else cur += c;
    } else if (c == '"') {
      quoted = was_quoted = true;
    } else if (c == ',') {
      flush();
    } else if (!(cur.empty() && std::isspace(static_cast<unsigned char>(c)))) {
      cur += c;
    }
  }
  flush();
  return out;
}
}  // namespace

std::vector<std::string> Catalog::search_path_of(const std::string& setting, const std::string& role) {
  return parse_search_path(setting, role);
}

std::vector<std::string> Catalog::search_path_for(const std::string& role) const {
  if (role.empty() || default_search_path.empty()) return search_path;
  auto it = role_search_path.find(role);
  return parse_search_path(it != role_search_path.end() ? it->second : default_search_path, role);
}

const TableInfo* Catalog::find(std::string_view relation, const std::vector<std::string>* path) const {
  auto [schema, name] = split(relation);
  if (!schema.empty()) {
    for (const auto& t : tables)
      if (t.schema == schema && t.name == name) return &t;
    return nullptr;
  }
  for (const auto& s : path ? *path : search_path)
    for (const auto& t : tables)
      if (t.schema == s && t.name == name) return &t;
  const TableInfo* only = nullptr;
  for (const auto& t : tables) {
    if (t.name != name) continue;
    if (only) return nullptr;  // ambiguous outside the search path
    only = &t;
  }
  return only;
}

const ViewInfo* Catalog::find_view(std::string_view relation, const std::vector<std::string>* path) const {
  auto [schema, name] = split(relation);
  for (const auto& s : schema.empty() ? (path ? *path : search_path) : std::vector<std::string>{schema}) {
    // A table earlier in the path hides a view of the same name later in it.
    if (schema.empty() && find(s + "." + name)) return nullptr;
    for (const auto& v : views)
      if (v.schema == s && v.name == name) return &v;
  }
  return nullptr;
}

const SkippedTable* Catalog::find_skipped(std::string_view relation, const std::vector<std::string>* path) const {
  auto [schema, name] = split(relation);
  for (const auto& s : schema.empty() ? (path ? *path : search_path) : std::vector<std::string>{schema}) {
    if (schema.empty() && find(s + "." + name)) return nullptr;  // a table earlier in the path wins
    for (const auto& t : skipped)
      if (t.schema == s && t.name == name) return &t;
  }
  return nullptr;
}

std::vector<const TableInfo*> Catalog::leaves(const TableInfo& table) const {
  std::vector<const TableInfo*> out;
  // A bound on the depth: the catalog comes from pg_inherits, but a schema file could loop.
  std::vector<std::pair<const TableInfo*, int>> todo = {{&table, 0}};
  while (!todo.empty()) {
    auto [t, depth] = todo.back();
    todo.pop_back();
    for (auto it = t->partitions.rbegin(); it != t->partitions.rend(); ++it) {
      const TableInfo* c = find(*it);
      if (!c || depth > 32) continue;
      if (c->partition_by.empty()) out.push_back(c);
      else todo.push_back({c, depth + 1});
    }
  }
  return out;
}

std::vector<const TableInfo*> Catalog::inheritance_tree(const TableInfo& table) const {
  std::vector<const TableInfo*> out = {&table};
  // Breadth-first; PostgreSQL forbids inheritance cycles, the bound only guards a bad catalog.
  for (size_t i = 0; i < out.size() && out.size() < 4096; ++i)
    for (const auto& name : out[i]->inheritors)
      if (const TableInfo* c = find(name); c && std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  return out;
}

TableInfo* Catalog::find(std::string_view relation) {
  return const_cast<TableInfo*>(static_cast<const Catalog*>(this)->find(relation));
}

namespace {
// Typical stored widths, so size estimates without statistics are still in the right range.
double width_of(const std::string& type) {
  if (type == "smallint") return 2;
  if (type == "integer" || type == "real" || type == "date" || type == "serial") return 4;
  if (type == "bigint" || type == "double precision" || type.rfind("timestamp", 0) == 0 || type == "bigserial" ||
      type == "time without time zone")
    return 8;
  if (type == "boolean") return 1;
  if (type == "uuid") return 16;
  if (type == "numeric") return 8;
  return 16;  // text-like
}
}  // namespace

// Unlogged: its rows are gone after a crash and it is empty on every standby, so it holds data
// that is reloaded (staging, caches), whose indexes are usually built by the load itself.
const char* const kUnloggedReason =
    "unlogged table: emptied after a crash and empty on standbys (staging or cache data); index it in the job that "
    "loads it, if at all";
// Temporary: it exists only in the session that created it; an index would have to be created there.
const char* const kTemporaryReason = "temporary table: exists only in the session that creates it";

namespace {
std::string qualified_name(const std::string& relation) {
  auto [s, n] = split(relation);
  return (s.empty() ? "public" : s) + "." + n;
}

// PARTITION OF and INHERITS, linked the way load_partitions() links pg_inherits. Tables are
// handled in file order, as pg_dump writes them (a parent before its children).
void link_children(const sql::SchemaDefinition& schema, Catalog& cat) {
  for (const auto& t : schema.tables) {
    TableInfo* child = cat.find(qualified_name(t.relation));
    if (!child) continue;
    if (TableInfo* p = t.partition_of.empty() ? nullptr : cat.find(qualified_name(t.partition_of))) {
      p->partitions.push_back(child->qualified());
      child->parent = p->qualified();
      child->is_partition = true;
      if (child->columns.empty()) child->columns = p->columns;  // PARTITION OF declares none of its own
    }
    if (t.inherits.empty()) continue;
    std::vector<ColumnInfo> inherited;
    for (const auto& name : t.inherits) {
      TableInfo* p = cat.find(qualified_name(name));
      if (!p) continue;
      p->inheritors.push_back(child->qualified());
      for (const auto& c : p->columns)
        if (std::none_of(inherited.begin(), inherited.end(), [&](const ColumnInfo& x) { return x.name == c.name; }))
          inherited.push_back(c);
    }
    // A child's columns: its parents' first, then its own (a redeclared one merges).
    for (auto& c : child->columns)
      if (std::none_of(inherited.begin(), inherited.end(), [&](const ColumnInfo& x) { return x.name == c.name; }))
        inherited.push_back(std::move(c));
    child->columns = std::move(inherited);
  }
}
}  // namespace

Catalog catalog_from_schema(const sql::SchemaDefinition& schema) {
  Catalog cat;
  cat.source = "schema file";
  for (const auto& t : schema.tables) {
    TableInfo ti;
    auto [s, n] = split(t.relation);
    ti.schema = s.empty() ? "public" : s;
    ti.name = n;
    if (!t.persistence.empty()) {
      cat.skipped.push_back({ti.schema, ti.name, t.persistence == "unlogged" ? kUnloggedReason : kTemporaryReason});
      continue;
    }
    ti.partition_by = t.partition_by;
    for (const auto& c : t.columns) {
      ColumnInfo ci;
      ci.name = c.name;
      ci.type = c.type;
      ci.not_null = c.not_null;
      ci.avg_width = width_of(c.type);
      ti.columns.push_back(std::move(ci));
    }
    cat.tables.push_back(std::move(ti));
  }
  link_children(schema, cat);
  for (const auto& i : schema.indexes) {
    TableInfo* t = cat.find(i.relation);
    if (!t) continue;
    IndexInfo ii;
    ii.name = i.name;
    ii.schema = t->schema;
    ii.columns = i.columns;
    ii.descending = i.descending;
    ii.include = i.include;
    ii.where = i.where;
    ii.method = i.method;
    ii.unique = i.unique;
    ii.primary = i.primary;
    ii.constraint = i.primary || (i.unique && i.name.size() > 4 && i.name.substr(i.name.size() - 4) == "_key");
    // Unique single columns are as selective as it gets: record it the way pg_stats would.
    if (i.unique && i.columns.size() == 1 && i.where.empty())
      for (auto& c : t->columns)
        if (c.name == i.columns[0]) c.n_distinct = -1;
    t->indexes.push_back(std::move(ii));
  }
  return cat;
}

}  // namespace pgopt::analyzer::advisor
