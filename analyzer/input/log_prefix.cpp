// Matching log_line_prefix escapes against stderr lines; a small backtracking matcher over items.
#include "analyzer/input/log_prefix.hpp"

#include <cctype>
#include <cstring>

namespace pgopt::analyzer::input {
namespace {

// Variable-width values (user, application, ...) are at most NAMEDATALEN-ish or a host name;
// bounding them keeps a garbage line from costing quadratic backtracking.
constexpr size_t kMaxField = 256;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

size_t digits(std::string_view s, size_t pos) {
  size_t p = pos;
  while (p < s.size() && is_digit(s[p])) ++p;
  return p - pos;
}

// "2024-05-01 10:00:00[.123] TZ" starting at pos; returns the end or npos.
size_t match_timestamp(std::string_view s, size_t pos, bool millis) {
  static constexpr char kShape[] = "dddd-dd-dd dd:dd:dd";
  size_t n = sizeof kShape - 1;
  if (s.size() - pos < n) return std::string_view::npos;
  for (size_t k = 0; k < n; ++k) {
    char c = s[pos + k];
    if (kShape[k] == 'd' ? !is_digit(c) : c != kShape[k]) return std::string_view::npos;
  }
  size_t p = pos + n;
  if (millis) {
    if (p + 4 > s.size() || s[p] != '.' || digits(s, p + 1) != 3) return std::string_view::npos;
    p += 4;
  }
  // Time zone abbreviation (%Z): "UTC", "CEST", "+03" ... a run of non-space characters.
  if (p >= s.size() || s[p] != ' ') return std::string_view::npos;
  size_t tz = ++p;
  // "UTC", "CEST", "+03", "-0330": letters, digits and signs only, so a ':' or '[' that follows in
  // the prefix ('%t:%r:...') is not swallowed.
  while (p < s.size() && p - tz < 16 &&
         ((s[p] >= 'A' && s[p] <= 'Z') || (s[p] >= 'a' && s[p] <= 'z') || is_digit(s[p]) || s[p] == '+' || s[p] == '-'))
    ++p;
  return p > tz ? p : std::string_view::npos;
}

// Where the value of a fixed-format escape (%p %l %x %P %Q %e %c %v %m %t %s %n) starting at `pos`
// ends, or npos when the line does not have one there; `variable` for the escapes of free text.
size_t fixed_value_end(char esc, std::string_view line, size_t pos, bool& variable) {
  size_t end = std::string_view::npos;
  switch (esc) {
    case 'p': case 'l': case 'x': {
      size_t n = digits(line, pos);
      if (n == 0) return std::string_view::npos;
      end = pos + n;
      break;
    }
    case 'P': end = pos + digits(line, pos); break;
    case 'Q': {
      size_t p = pos + (pos < line.size() && line[pos] == '-');
      size_t n = digits(line, p);
      if (n == 0) return std::string_view::npos;
      end = p + n;
      break;
    }
    case 'e': {
      if (line.size() - pos < 5) return std::string_view::npos;
      for (size_t k = 0; k < 5; ++k) {
        char c = line[pos + k];
        if (!is_digit(c) && !(c >= 'A' && c <= 'Z')) return std::string_view::npos;
      }
      end = pos + 5;
      break;
    }
    case 'c': {
      size_t p = pos;
      while (p < line.size() && is_hex(line[p])) ++p;
      if (p == pos || p >= line.size() || line[p] != '.') return std::string_view::npos;
      size_t q = ++p;
      while (p < line.size() && is_hex(line[p])) ++p;
      if (p == q) return std::string_view::npos;
      end = p;
      break;
    }
    case 'v': {
      size_t n = digits(line, pos);
      if (n > 0 && pos + n < line.size() && line[pos + n] == '/' && digits(line, pos + n + 1) > 0)
        end = pos + n + 1 + digits(line, pos + n + 1);
      else
        end = pos;  // non-session processes print nothing
      break;
    }
    case 'm': case 't': case 's': end = match_timestamp(line, pos, esc == 'm'); break;
    case 'n': {
      size_t n = digits(line, pos);
      if (n == 0 || pos + n + 4 > line.size() || line[pos + n] != '.' || digits(line, pos + n + 1) != 3)
        return std::string_view::npos;
      end = pos + n + 4;
      break;
    }
    default:
      variable = true;
      break;
  }
  return end;
}

}  // namespace

Severity parse_severity(std::string_view t, size_t* len) {
  struct Word {
    const char* text;
    Severity sev;
  };
  static constexpr Word kWords[] = {
      {"LOG", Severity::log},         {"ERROR", Severity::error},     {"WARNING", Severity::warning},
      {"FATAL", Severity::fatal},     {"PANIC", Severity::panic},     {"DETAIL", Severity::detail},
      {"HINT", Severity::hint},       {"CONTEXT", Severity::context}, {"STATEMENT", Severity::statement},
      {"QUERY", Severity::query},     {"LOCATION", Severity::location}, {"INFO", Severity::info},
      {"NOTICE", Severity::notice},   {"DEBUG1", Severity::debug},    {"DEBUG2", Severity::debug},
      {"DEBUG3", Severity::debug},    {"DEBUG4", Severity::debug},    {"DEBUG5", Severity::debug},
  };
  if (t.empty() || t[0] < 'A' || t[0] > 'W') return Severity::none;
  for (const Word& w : kWords) {
    size_t n = std::strlen(w.text);
    if (t.size() >= n + 3 && t[0] == w.text[0] && t.compare(0, n, w.text) == 0 && t[n] == ':' &&
        t[n + 1] == ' ' && t[n + 2] == ' ') {
      *len = n + 3;
      return w.sev;
    }
  }
  return Severity::none;
}

Severity severity_from_word(std::string_view word) {
  // An empty view may carry a null pointer (a jsonlog "error_severity":""), which memcpy must not see.
  if (word.empty() || word.size() > 12) return Severity::none;
  char buf[16];
  std::memcpy(buf, word.data(), word.size());
  std::memcpy(buf + word.size(), ":  ", 3);
  size_t len = 0;
  Severity s = parse_severity(std::string_view(buf, word.size() + 3), &len);
  return len == word.size() + 3 ? s : Severity::none;
}

uint64_t session_key(std::string_view id) {
  uint64_t h = 1469598103934665603ull;
  for (char c : id) h = (h ^ uint8_t(c)) * 1099511628211ull;
  return h | 1;  // never 0: 0 means "no session known"
}

LogLinePrefix LogLinePrefix::compile(std::string_view spec) {
  LogLinePrefix p;
  p.spec_ = std::string(spec);
  std::string lit;
  auto flush = [&] {
    if (!lit.empty()) p.items_.push_back(Item{0, 0, std::move(lit)});
    lit.clear();
  };
  for (size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] != '%' || i + 1 >= spec.size()) {
      lit += spec[i];
      continue;
    }
    size_t j = i + 1;
    int sign = 1, pad = 0;
    if (spec[j] == '-') {
      sign = -1;
      ++j;
    }
    while (j < spec.size() && is_digit(spec[j])) pad = pad * 10 + (spec[j++] - '0');
    if (j >= spec.size()) break;  // trailing "%-1": PostgreSQL prints nothing for it either
    char e = spec[j];
    i = j;
    if (e == '%') {
      lit += '%';
      continue;
    }
    if (!std::strchr("audrhbpPtmnieclsvxqQ", e)) continue;  // unknown escape: no output
    flush();
    p.items_.push_back(Item{e, sign * pad, {}});
    if (e == 'p') p.has_pid_ = true;
    if (e == 'c') p.has_session_ = true;
  }
  flush();
  return p;
}

LogLinePrefix LogLinePrefix::generic() {
  LogLinePrefix p;
  p.generic_ = true;
  p.spec_ = "(unknown: anchored on the severity marker)";
  return p;
}

bool LogLinePrefix::finish(std::string_view line, size_t pos, PrefixMatch& m) const {
  size_t len = 0;
  Severity s = parse_severity(line.substr(pos), &len);
  if (s == Severity::none) return false;
  m.severity = s;
  m.severity_offset = pos;
  m.message_offset = pos + len;
  return true;
}

bool LogLinePrefix::match(std::string_view line, PrefixMatch& m) const {
  m = PrefixMatch{};
  if (generic_) return match_generic(line, m);
  return match_from(0, line, 0, m);
}

bool LogLinePrefix::match_from(size_t i, std::string_view line, size_t pos, PrefixMatch& m) const {
  if (i == items_.size()) return finish(line, pos, m);
  const Item& it = items_[i];
  if (it.esc == 0) {
    if (line.size() - pos < it.text.size() || line.compare(pos, it.text.size(), it.text) != 0) return false;
    return match_from(i + 1, line, pos + it.text.size(), m);
  }
  if (it.esc == 'q') {
    // Session processes print what follows %q; others stop here. Try the longer form first.
    PrefixMatch saved = m;
    if (match_from(i + 1, line, pos, m)) return true;
    m = saved;
    m.stopped_at_q = true;
    return finish(line, pos, m);
  }
  return match_value(it, i, line, pos, m);
}

bool LogLinePrefix::match_value(const Item& it, size_t i, std::string_view line, size_t pos,
                                PrefixMatch& m) const {
  constexpr size_t npos = std::string_view::npos;
  if (it.pad > 0)  // right-justified: the value follows padding spaces
    while (pos < line.size() && line[pos] == ' ') ++pos;
  auto rest = [&](size_t start, size_t end) {
    size_t p = end;
    if (it.pad < 0) {  // left-justified: padding spaces follow the value
      size_t width = size_t(-it.pad);
      while (p < line.size() && line[p] == ' ' && p - start < width) ++p;
    }
    return match_from(i + 1, line, p, m);
  };
  auto set = [&](std::string_view v) {
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    switch (it.esc) {
      case 'u': m.user = v; break;
      case 'd': m.database = v; break;
      case 'a': m.application = v; break;
      case 'p': m.pid = v; break;
      case 'c': m.session_id = v; break;
      case 'm': case 't': case 'n':
        if (m.timestamp.empty()) m.timestamp = v;
        break;
      default: break;
    }
  };
  bool variable = false;
  const size_t end = fixed_value_end(it.esc, line, pos, variable);
  if (!variable) {
    if (end == npos) return false;
    set(line.substr(pos, end - pos));
    return rest(pos, end);
  }
  // Variable text (%u %d %h %r may not contain spaces; %a %b %i may): shortest first.
  bool spaces = it.esc == 'a' || it.esc == 'b' || it.esc == 'i';
  size_t limit = std::min(line.size(), pos + kMaxField);
  const Item* next = i + 1 < items_.size() ? &items_[i + 1] : nullptr;
  bool next_literal = next && next->esc == 0;
  for (size_t e = pos; e <= limit; ++e) {
    if (next_literal) {
      const char* hit = static_cast<const char*>(
          std::memchr(line.data() + e, next->text[0], limit - e));
      if (!hit) return false;
      size_t f = size_t(hit - line.data());
      if (!spaces) {
        size_t v = f;  // left-justified values are followed by padding spaces
        if (it.pad < 0)
          while (v > pos && line[v - 1] == ' ') --v;
        if (std::memchr(line.data() + pos, ' ', v - pos)) return false;  // would contain a space
      }
      e = f;
    } else if (!spaces && e > pos && line[e - 1] == ' ') {
      return false;
    }
    PrefixMatch saved = m;
    set(line.substr(pos, e - pos));
    if (rest(pos, e)) return true;
    m = saved;
    if (e == limit) break;
  }
  return false;
}

bool LogLinePrefix::match_generic(std::string_view line, PrefixMatch& m) const {
  // The severity word starts the line or follows a non-word character, and is followed by ":  ".
  size_t limit = std::min(line.size(), size_t(1024));
  size_t sev_at = std::string_view::npos;
  for (size_t p = 0; p < limit;) {
    const char* c = static_cast<const char*>(std::memchr(line.data() + p, ':', limit - p));
    if (!c) return false;
    size_t colon = size_t(c - line.data());
    size_t w = colon;
    while (w > 0 && line[w - 1] >= 'A' && line[w - 1] <= 'Z') --w;
    while (w > 0 && colon - w < 6 && is_digit(line[w - 1])) --w;  // DEBUG1..5
    size_t len = 0;
    bool boundary = w == 0 || !(std::isalnum(static_cast<unsigned char>(line[w - 1])) || line[w - 1] == '_');
    if (w < colon && boundary && parse_severity(line.substr(w), &len) != Severity::none) {
      sev_at = w;
      break;
    }
    p = colon + 1;
  }
  if (sev_at == std::string_view::npos || !finish(line, sev_at, m)) return false;
  std::string_view prefix = line.substr(0, sev_at);
  size_t ts_end = match_timestamp(prefix, 0, true);
  if (ts_end == std::string_view::npos) ts_end = match_timestamp(prefix, 0, false);
  if (ts_end != std::string_view::npos) m.timestamp = prefix.substr(0, ts_end);
  // The first "[digits" is the usual place of %p.
  for (size_t p = prefix.find('['); p != std::string_view::npos; p = prefix.find('[', p + 1)) {
    size_t n = digits(prefix, p + 1);
    if (n > 0) {
      m.pid = prefix.substr(p + 1, n);
      break;
    }
  }
  return true;
}

}  // namespace pgopt::analyzer::input
