// Recognises the messages log_min_duration_statement, log_statement and log_duration produce.
#include "analyzer/input/message.hpp"

#include <charconv>
#include <cctype>
#include <cstring>

namespace pgopt::analyzer::input {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.size() >= p.size() && s.compare(0, p.size(), p) == 0; }

// "<name>: text" after "execute ", "parse " or "bind ": the name ends at the first ": ".
bool after_name(std::string_view s, std::string_view& text) {
  size_t colon = s.find(": ");
  if (colon == std::string_view::npos) return false;
  text = s.substr(colon + 2);
  return true;
}

bool is_sqlstate_char(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); }

}  // namespace

ClassifiedMessage classify_message(std::string_view m) {
  ClassifiedMessage out;
  // log_error_verbosity = verbose puts the SQLSTATE first: "00000: duration: ...".
  if (m.size() > 7 && m[5] == ':' && m[6] == ' ' && is_sqlstate_char(m[0]) && is_sqlstate_char(m[1]) &&
      is_sqlstate_char(m[2]) && is_sqlstate_char(m[3]) && is_sqlstate_char(m[4]))
    m.remove_prefix(7);
  if (starts_with(m, "duration: ")) {
    m.remove_prefix(10);
    double ms = 0;
    auto [ptr, ec] = std::from_chars(m.data(), m.data() + m.size(), ms);
    if (ec != std::errc() || ms < 0) return out;
    m.remove_prefix(size_t(ptr - m.data()));
    if (!starts_with(m, " ms")) return out;
    m.remove_prefix(3);
    out.duration_ms = ms;
    size_t k = 0;
    while (k < m.size() && (m[k] == ' ' || m[k] == '\r' || m[k] == '\n' || m[k] == '\t')) ++k;
    if (k == m.size()) {
      out.kind = MessageKind::lone_duration;
      return out;
    }
    if (!starts_with(m, "  ")) return out;
    m.remove_prefix(2);
  } else if (starts_with(m, "disconnection: ")) {
    out.kind = MessageKind::disconnection;
    return out;
  }
  if (starts_with(m, "statement: ")) {
    out.kind = MessageKind::statement;
    out.text = m.substr(11);
  } else if (starts_with(m, "execute ") && after_name(m.substr(8), out.text)) {
    out.kind = MessageKind::execute;
  } else if ((starts_with(m, "parse ") && after_name(m.substr(6), out.text)) ||
             (starts_with(m, "bind ") && after_name(m.substr(5), out.text))) {
    out.kind = MessageKind::parse_or_bind;
  } else {
    out.kind = MessageKind::other;  // e.g. auto_explain's "duration: X ms  plan:"
    out.text = {};
  }
  return out;
}

bool parse_parameters(std::string_view d, std::vector<std::string_view>& values) {
  values.clear();
  if (!starts_with(d, "parameters: ")) return false;
  size_t p = 12;
  while (p < d.size()) {
    if (d[p] != '$') return false;
    size_t q = p + 1;
    unsigned idx = 0;
    while (q < d.size() && d[q] >= '0' && d[q] <= '9' && idx < 100000) idx = idx * 10 + unsigned(d[q++] - '0');
    if (q == p + 1 || idx == 0 || d.compare(q, 3, " = ") != 0) return false;
    q += 3;
    size_t v = q;
    if (q < d.size() && d[q] == '\'') {
      ++q;
      for (;;) {
        if (q >= d.size()) return false;
        if (d[q] == '\'') {
          if (q + 1 < d.size() && d[q + 1] == '\'') {
            q += 2;
            continue;
          }
          ++q;
          break;
        }
        ++q;
      }
    } else if (d.compare(q, 4, "NULL") == 0) {
      q += 4;
    } else {
      return false;
    }
    if (idx > values.size()) values.resize(idx);
    values[idx - 1] = d.substr(v, q - v);
    if (d.find_first_not_of(" \r\n\t", q) == std::string_view::npos) break;
    if (d.compare(q, 2, ", ") != 0) return false;
    p = q + 2;
  }
  return !values.empty();
}

void append_detabbed(std::string_view t, std::string& out) {
  size_t p = 0;
  for (;;) {
    size_t nl = t.find("\n\t", p);
    if (nl == std::string_view::npos) {
      out.append(t.data() + p, t.size() - p);
      return;
    }
    out.append(t.data() + p, nl + 1 - p);
    p = nl + 2;
  }
}

void substitute_parameters(std::string_view s, const std::vector<std::string_view>& values, bool detab,
                           std::string& out) {
  auto put = [&](std::string_view t) {
    if (detab) append_detabbed(t, out);
    else out.append(t);
  };
  size_t i = 0, copied = 0;
  const size_t n = s.size();
  auto skip_to = [&](size_t j) { i = j; };
  while (i < n) {
    char c = s[i];
    if (c == '\'' || c == '"') {
      bool backslash = c == '\'' && i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E');
      size_t j = i + 1;
      while (j < n) {
        if (backslash && s[j] == '\\') {
          j += 2;
          continue;
        }
        if (s[j] == c) {
          if (j + 1 < n && s[j + 1] == c) {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      skip_to(j + 1);
      continue;
    }
    if (c == '-' && i + 1 < n && s[i + 1] == '-') {
      size_t nl = s.find('\n', i);
      skip_to(nl == std::string_view::npos ? n : nl);
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      size_t e = s.find("*/", i + 2);
      skip_to(e == std::string_view::npos ? n : e + 2);
      continue;
    }
    if (c == '$') {
      size_t j = i + 1;
      bool in_ident = i > 0 && (std::isalnum(static_cast<unsigned char>(s[i - 1])) || s[i - 1] == '_');
      if (j < n && s[j] >= '0' && s[j] <= '9' && !in_ident) {
        unsigned idx = 0;
        while (j < n && s[j] >= '0' && s[j] <= '9' && idx < 100000) idx = idx * 10 + unsigned(s[j++] - '0');
        if (idx >= 1 && idx <= values.size() && !values[idx - 1].empty()) {
          put(s.substr(copied, i - copied));
          put(values[idx - 1]);
          copied = j;
        }
        i = j;
        continue;
      }
      // $tag$ ... $tag$ quoting: no parameters inside.
      while (j < n && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      if (j < n && s[j] == '$' && !in_ident) {
        std::string_view tag = s.substr(i, j + 1 - i);
        size_t e = s.find(tag, j + 1);
        skip_to(e == std::string_view::npos ? n : e + tag.size());
        continue;
      }
      ++i;
      continue;
    }
    ++i;
  }
  put(s.substr(copied));
}

}  // namespace pgopt::analyzer::input
