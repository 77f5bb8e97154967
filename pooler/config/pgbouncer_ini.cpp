// PgBouncer's ini file read as PgBouncer reads it: sections, `key = value` lines, `%include`, and
// the libpq-style `key=value ...` strings of [databases] and [users], each with its file and line.
#include "pooler/config/pgbouncer_ini.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace pgopt::pooler::pgbouncer {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

struct Reader {
  IniFile out;
  std::string section;
  int depth = 0;

  void error(const std::string& file, int line, const std::string& why) {
    out.errors.push_back(line > 0 ? fmt::format("{}:{}: {}", file, line, why) : fmt::format("{}: {}", file, why));
  }

  void include(const std::string& from, int line, std::string_view name) {
    std::filesystem::path p(name);
    if (p.is_relative()) p = std::filesystem::path(from).parent_path() / p;
    std::string target = p.lexically_normal().string();
    if (depth >= 10 || std::find(out.files.begin(), out.files.end(), target) != out.files.end()) {
      error(from, line, fmt::format("%include {}: included again (a cycle) or nested more than 10 deep", name));
      return;
    }
    std::ifstream in(target, std::ios::binary);
    if (!in) {
      error(from, line, fmt::format("%include {}: cannot read {}", name, target));
      return;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    ++depth;
    text(ss.str(), target);
    --depth;
  }

  void text(std::string_view body, const std::string& file) {
    out.files.push_back(file);
    int line_no = 0;
    size_t start = 0;
    while (start < body.size()) {
      size_t nl = body.find('\n', start);
      std::string_view raw = body.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
      start = nl == std::string_view::npos ? body.size() : nl + 1;
      ++line_no;
      one_line(trim(raw), file, line_no);
    }
  }

  void one_line(std::string_view l, const std::string& file, int line_no) {
    if (l.empty() || l.front() == ';' || l.front() == '#') return;
    if (l.starts_with("%include")) {
      std::string_view name = trim(l.substr(8));
      if (name.empty()) return error(file, line_no, "%include without a file name");
      return include(file, line_no, name);
    }
    if (l.front() == '[') {
      if (l.back() != ']') return error(file, line_no, "section header without its closing ]");
      section = lower(trim(l.substr(1, l.size() - 2)));
      return;
    }
    size_t eq = l.find('=');
    if (eq == std::string_view::npos) return error(file, line_no, "not a `key = value` line");
    std::string_view key = trim(l.substr(0, eq));
    if (key.empty()) return error(file, line_no, "a value without a key");
    if (section.empty()) return error(file, line_no, fmt::format("{}: outside any [section]", key));
    std::string_view value = trim(l.substr(eq + 1));
    // A quoted key (database names may be "quoted" in PgBouncer 1.18's [databases]).
    if (key.size() >= 2 && key.front() == '"' && key.back() == '"') key = key.substr(1, key.size() - 2);
    out.entries.push_back(IniEntry{file, line_no, section, std::string(key), std::string(value)});
  }
};

}  // namespace

IniFile parse_ini(std::string_view text, const std::string& path) {
  Reader r;
  r.text(text, path);
  return std::move(r.out);
}

IniFile read_ini(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    IniFile f;
    f.errors.push_back(fmt::format("{}: cannot read the file", path));
    return f;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_ini(ss.str(), path);
}

std::vector<ConnParam> parse_conn_string(std::string_view s, std::string& error) {
  std::vector<ConnParam> out;
  size_t i = 0;
  auto skip = [&] { while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i; };
  for (skip(); i < s.size(); skip()) {
    size_t key_start = i;
    while (i < s.size() && s[i] != '=' && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::string key = lower(s.substr(key_start, i - key_start));
    skip();
    if (i >= s.size() || s[i] != '=') {
      error = fmt::format("`{}` is not followed by =", key);
      return out;
    }
    ++i;
    skip();
    std::string value;
    if (i < s.size() && s[i] == '\'') {
      bool closed = false;
      for (++i; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          value += s[++i];
        } else if (s[i] == '\'') {
          ++i;
          closed = true;
          break;
        } else {
          value += s[i];
        }
      }
      if (!closed) {
        error = fmt::format("the value of `{}` has no closing quote", key);
        return out;
      }
    } else {
      while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) value += s[i++];
    }
    out.push_back(ConnParam{std::move(key), std::move(value)});
  }
  return out;
}

}  // namespace pgopt::pooler::pgbouncer
