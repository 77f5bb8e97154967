// Format sniffing and log_line_prefix detection: try the common prefixes, then infer one, then fall
// back to anchoring on the severity marker.
#include "analyzer/input/format_detect.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstring>

namespace pgopt::analyzer::input {
namespace {

constexpr size_t kSampleLines = 2000;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::vector<std::string_view> sample_lines(std::string_view head, bool skip_continuations) {
  std::vector<std::string_view> out;
  size_t p = 0;
  while (p < head.size() && out.size() < kSampleLines) {
    size_t nl = head.find('\n', p);
    if (nl == std::string_view::npos) break;  // the last, possibly cut, line is not a fair sample
    std::string_view line = head.substr(p, nl - p);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    p = nl + 1;
    if (line.empty() || (skip_continuations && line[0] == '\t')) continue;
    out.push_back(line);
  }
  return out;
}

// Lines matched, then characters the prefix accounted for: '%m [%p] %q%u@%d ' and '%m [%p] ' both
// match a log of non-session lines, and then the shorter, more common one should win.
struct Score {
  size_t lines = 0, chars = 0;
  size_t short_form = 0;  // lines that stopped at %q (non-session processes)
  bool operator>(const Score& o) const { return lines != o.lines ? lines > o.lines : chars > o.chars; }
};

Score score(const LogLinePrefix& prefix, const std::vector<std::string_view>& lines) {
  Score s;
  PrefixMatch m;
  for (auto l : lines)
    if (prefix.match(l, m)) {
      s.lines++;
      s.chars += m.severity_offset;
      s.short_form += m.stopped_at_q;
    }
  return s;
}

size_t timestamp_len(std::string_view s, size_t pos, bool* millis) {
  static constexpr char kShape[] = "dddd-dd-dd dd:dd:dd";
  size_t n = sizeof kShape - 1;
  if (s.size() < pos + n) return 0;
  for (size_t k = 0; k < n; ++k)
    if (kShape[k] == 'd' ? !is_digit(s[pos + k]) : s[pos + k] != kShape[k]) return 0;
  size_t p = pos + n;
  *millis = p + 4 <= s.size() && s[p] == '.' && is_digit(s[p + 1]) && is_digit(s[p + 2]) && is_digit(s[p + 3]);
  if (*millis) p += 4;
  if (p >= s.size() || s[p] != ' ') return 0;
  size_t q = p + 1;
  while (q < s.size() && s[q] != ' ' && s[q] != ']' && s[q] != ',' && s[q] != ':') ++q;
  // "UTC", "CEST", "+03": a time zone abbreviation is short and has no digits before a sign.
  if (q == p + 1 || q - p > 8) return p - pos;
  return q - pos;
}

}  // namespace

const char* format_name(LogFormat f) {
  switch (f) {
    case LogFormat::stderr_log: return "stderr";
    case LogFormat::csvlog: return "csvlog";
    case LogFormat::jsonlog: return "jsonlog";
  }
  return "?";
}

const std::vector<std::string>& common_prefixes() {
  static const std::vector<std::string> kPrefixes = {
      // Debian/Ubuntu packages (and our test cluster). Before PostgreSQL's own default: on a log
      // of non-session lines they tie, and this one also parses the session lines that may follow.
      "%m [%p] %q%u@%d ",
      "%m [%p] ",                                          // PostgreSQL >= 10 default
      "%t [%p-%l] %q%u@%d ",                               // Debian before PostgreSQL 10
      "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",   // pgBadger's recommendation
      "%t [%p]: user=%u,db=%d,app=%a,client=%h ",          // pgBadger's recommendation (short)
      "%t [%p]: [%l-1] user=%u,db=%d ",                    // pgBadger (older docs)
      "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
      "%t [%p]: [%l-1] ",
      "%t [%p]: ",
      "%m [%p]: [%l-1] db=%d,user=%u ",                    // Google Cloud SQL
      "%t:%r:%u@%d:[%p]:",                                 // Amazon RDS
      "%m:%r:%u@%d:[%p]:",
      "%m [%p] %q[user=%u,db=%d,app=%a] ",
      "%m [%p] %q%u@%d %a ",
      "%m %u@%d [%p] ",
      "%t [%p] ",
      "%m [%c] ",
      "%m [%p] %q%u@%d/%a ",
      "",                                                  // no prefix at all
  };
  return kPrefixes;
}

bool looks_like_csv_record(std::string_view line) {
  bool millis = false;
  size_t n = timestamp_len(line, 0, &millis);
  return n > 0 && millis && n < line.size() && line[n] == ',';
}

std::string infer_prefix(const std::vector<std::string_view>& lines) {
  // Take the richest prefix text (session lines carry user/db), turn recognisable parts into escapes.
  std::string_view best;
  LogLinePrefix any = LogLinePrefix::generic();
  PrefixMatch m;
  for (auto l : lines) {
    if (!any.match(l, m)) continue;
    std::string_view prefix = l.substr(0, m.severity_offset);
    if (prefix.size() > best.size()) best = prefix;
  }
  if (best.empty()) return {};
  std::string out;
  bool have_pid = false, have_line = false;
  size_t p = 0;
  auto key_is = [&](std::string_view key, std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (key == n) return true;
    return false;
  };
  while (p < best.size()) {
    bool millis = false;
    if (size_t n = timestamp_len(best, p, &millis)) {
      out += millis ? "%m" : "%t";
      p += n;
      continue;
    }
    char c = best[p];
    if (is_digit(c)) {
      size_t q = p;
      while (q < best.size() && is_digit(best[q])) ++q;
      if (q < best.size() && best[q] == '.' && q + 1 < best.size() && std::isxdigit(uint8_t(best[q + 1]))) {
        size_t r = q + 1;
        while (r < best.size() && std::isxdigit(uint8_t(best[r]))) ++r;
        if (q - p == 10 && r - q == 4) out += "%n";  // epoch with milliseconds
        else out += "%c";
        p = r;
        continue;
      }
      out += !have_pid ? "%p" : !have_line ? "%l" : "%x";
      (have_pid ? have_line : have_pid) = true;
      p = q;
      continue;
    }
    if (std::isalpha(uint8_t(c))) {
      size_t q = p;
      while (q < best.size() && (std::isalnum(uint8_t(best[q])) || best[q] == '_')) ++q;
      std::string_view word = best.substr(p, q - p);
      if (q < best.size() && best[q] == '=') {
        size_t v = q + 1, e = v;
        while (e < best.size() && best[e] != ',' && best[e] != ' ' && best[e] != ']') ++e;
        std::string_view value = best.substr(v, e - v);
        const char* esc = nullptr;
        if (key_is(word, {"user", "usr", "u"})) esc = "%u";
        else if (key_is(word, {"db", "database", "d"})) esc = "%d";
        else if (key_is(word, {"app", "application", "application_name", "a"})) esc = "%a";
        else if (key_is(word, {"client", "host", "remote", "h"}))
          esc = value.find('(') != std::string_view::npos ? "%r" : "%h";
        else if (key_is(word, {"pid", "p"})) esc = "%p";
        else if (key_is(word, {"session", "sid", "c"})) esc = "%c";
        else if (key_is(word, {"xid", "tx"})) esc = "%x";
        if (esc) {
          out.append(word).append("=").append(esc);
          if (std::strcmp(esc, "%p") == 0) have_pid = true;
          p = e;
          continue;
        }
      }
      size_t at = q;
      if (at < best.size() && best[at] == '@') {
        size_t e = at + 1;
        while (e < best.size() && best[e] != ' ' && best[e] != ':' && best[e] != ',' && best[e] != ']') ++e;
        out += "%u@%d";
        p = e;
        continue;
      }
      out.append(word);
      p = q;
      continue;
    }
    if (c == '%') out += "%%";
    else out += c;
    ++p;
  }
  return out;
}

Detection detect_format(std::string_view head, const std::string& format, const std::string& prefix) {
  Detection d;
  auto sampled = sample_lines(head, false);
  if (format == "auto" || format.empty()) {
    size_t json = 0, csv = 0;
    for (auto l : sampled) {
      if (l.rfind("{\"timestamp\":\"", 0) == 0) ++json;
      else if (looks_like_csv_record(l)) ++csv;
    }
    if (json > 0 && json * 2 >= sampled.size()) d.format = LogFormat::jsonlog;
    else if (csv > 0 && csv * 4 >= sampled.size()) d.format = LogFormat::csvlog;  // records may span lines
    else d.format = LogFormat::stderr_log;
    d.description = fmt::format("{} (detected)", format_name(d.format));
  } else if (format == "stderr") {
    d.format = LogFormat::stderr_log;
  } else if (format == "csvlog" || format == "csv") {
    d.format = LogFormat::csvlog;
  } else if (format == "jsonlog" || format == "json") {
    d.format = LogFormat::jsonlog;
  } else {
    d.error = fmt::format("unknown log format '{}' (expected auto, stderr, csvlog or jsonlog)", format);
    return d;
  }
  if (d.description.empty()) d.description = format_name(d.format);
  if (d.format != LogFormat::stderr_log) return d;

  auto lines = sample_lines(head, true);
  if (!prefix.empty()) {
    d.prefix = LogLinePrefix::compile(prefix);
    d.description += fmt::format(", log_line_prefix '{}' (given; matches {} of {} sampled lines)", prefix,
                                 score(d.prefix, lines).lines, lines.size());
    return d;
  }
  Score best_score;
  const std::string* best = nullptr;
  for (const auto& cand : common_prefixes()) {
    Score s = score(LogLinePrefix::compile(cand), lines);
    if (s > best_score) {  // ties keep the earlier, more common candidate
      best_score = s;
      best = &cand;
    }
  }
  if (best && best_score.lines * 10 >= lines.size() * 9) {
    d.prefix = LogLinePrefix::compile(*best);
    d.description += fmt::format(", log_line_prefix '{}' (detected; matches {} of {} sampled lines{})", *best,
                                 best_score.lines, lines.size(),
                                 best_score.short_form == best_score.lines && best->find("%q") != std::string::npos
                                     ? "; none of them showed the part after %q"
                                     : "");
    return d;
  }
  std::string inferred = infer_prefix(lines);
  Score inferred_score = inferred.empty() ? Score{} : score(LogLinePrefix::compile(inferred), lines);
  if (inferred_score.lines > best_score.lines && inferred_score.lines * 10 >= lines.size() * 9) {
    d.prefix = LogLinePrefix::compile(inferred);
    d.description += fmt::format(", log_line_prefix '{}' (inferred from the lines; matches {} of {} sampled lines)",
                                 inferred, inferred_score.lines, lines.size());
    return d;
  }
  Score generic_score = score(LogLinePrefix::generic(), lines);
  if (best && best_score.lines >= generic_score.lines && best_score.lines > 0) {
    d.prefix = LogLinePrefix::compile(*best);
    d.description += fmt::format(", log_line_prefix '{}' (best guess; matches only {} of {} sampled lines)",
                                 *best, best_score.lines, lines.size());
    return d;
  }
  d.prefix = LogLinePrefix::generic();
  d.description += fmt::format(
      ", log_line_prefix unknown (anchoring on the severity marker matches {} of {} sampled lines; "
      "pass --log-line-prefix for exact session tracking)",
      generic_score.lines, lines.size());
  return d;
}

}  // namespace pgopt::analyzer::input
