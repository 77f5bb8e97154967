// Index DDL for plain and partitioned tables (see index_ddl.hpp).
#include "analyzer/advisor/index_ddl.hpp"

#include <algorithm>

namespace pgopt::analyzer::advisor {

std::string unique_index_name(const std::string& base, const std::string& schema, std::set<std::string>& taken) {
  std::string name = base;
  for (int n = 2; taken.count(schema + "." + name); ++n) {
    std::string suffix = std::to_string(n);
    size_t stem = base.size() >= 4 ? base.size() - 4 : base.size();  // without "_idx"
    name = base.substr(0, std::min(stem, size_t(63 - 5 - suffix.size()))) + "_" + suffix + "_idx";
  }
  taken.insert(schema + "." + name);
  return name;
}

std::string prefixed_index_name(const std::string& prefix, const std::string& base) {
  std::string n = prefix + base;
  if (n.size() > 63) n = n.substr(0, 59) + "_idx";
  return n;
}

namespace {

// An index of `table` that ATTACH PARTITION accepts in place of building `index` there: the same
// definition, valid, and not attached to another parent index already.
const IndexInfo* reusable(const TableInfo& table, const IndexSpec& index) {
  for (const auto& opclass : index.opclass)
    if (!opclass.empty()) return nullptr;  // IndexInfo does not record operator classes
  for (const auto& e : table.indexes) {
    if (e.attached || !e.valid || e.method != index.method || e.columns != index.columns || e.where != index.where)
      continue;
    std::vector<bool> desc = index.descending;
    desc.resize(index.columns.size(), false);
    std::set<std::string> a(e.include.begin(), e.include.end()), b(index.include.begin(), index.include.end());
    if (e.descending == desc && a == b) return &e;
  }
  return nullptr;
}

std::string qualified(const std::string& schema, const std::string& name) {
  return quote_ident(schema) + "." + quote_ident(name);
}

void build(const IndexSpec& index, const std::string& name, const TableInfo* table, const Catalog& catalog,
           std::set<std::string>& taken, std::vector<std::string>& out, const std::string& prefix, int depth) {
  if (!table || table->partition_by.empty() || depth > 32) {
    out.push_back(index.ddl(name, true));
    return;
  }
  out.push_back(index.ddl(name, false, true));
  for (const auto& p : table->partitions) {
    const TableInfo* part = catalog.find(p);
    if (!part) continue;
    IndexSpec child = index;
    child.schema = part->schema;
    child.table = part->name;
    child.leaves.clear();
    std::string child_name;
    const IndexInfo* existing = prefix.empty() ? reusable(*part, child) : nullptr;
    if (existing) {
      child_name = existing->name;
    } else {
      child_name = unique_index_name(prefixed_index_name(prefix, child.suggested_name()), part->schema, taken);
      build(child, child_name, part, catalog, taken, out, prefix, depth + 1);
    }
    out.push_back("ALTER INDEX " + qualified(index.schema, name) + " ATTACH PARTITION " +
                  qualified(part->schema, child_name));
  }
}

}  // namespace

std::vector<std::string> index_build_statements(const IndexSpec& index, const std::string& name, const Catalog& catalog,
                                                std::set<std::string>& taken, const std::string& prefix) {
  std::vector<std::string> out;
  const TableInfo* table = catalog.find(index.relation());
  build(index, name, table, catalog, taken, out, prefix, 0);
  // Legacy inheritance: each child is a table of its own to PostgreSQL; it gets its own index.
  if (table && table->partition_by.empty()) {
    auto tree = catalog.inheritance_tree(*table);
    for (size_t i = 1; i < tree.size(); ++i) {
      IndexSpec child = index;
      child.schema = tree[i]->schema;
      child.table = tree[i]->name;
      child.leaves.clear();
      if (reusable(*tree[i], child)) continue;
      std::string child_name = prefixed_index_name(prefix, child.suggested_name());
      out.push_back(child.ddl(unique_index_name(child_name, child.schema, taken), true));
    }
  }
  return out;
}

}  // namespace pgopt::analyzer::advisor
