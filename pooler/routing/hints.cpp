// Leading-comment hints: a hand-written scan of whitespace and comments only, so the hot path pays
// a few byte comparisons for a statement without any (no parser, no allocation).
#include "pooler/routing/hints.hpp"

#include "sql/lex.hpp"

namespace pgopt::pooler::routing {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }
bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != b[i]) return false;
  return true;
}

// What a comment's content says: not a hint at all (nullopt), a hint, or a malformed hint
// (Hint::None with `word` set to what followed "pgopt:").
struct Parsed {
  bool is_hint = false;
  Hint hint = Hint::None;
  std::string_view word;
};

Parsed parse_content(std::string_view content) {
  Parsed p;
  content = trim(content);
  if (content.size() < 5 || !iequals(content.substr(0, 5), "pgopt")) return p;
  std::string_view rest = trim(content.substr(5));
  if (rest.empty() || rest.front() != ':') return p;  // "/* pgopt rocks */" is just a comment
  std::string_view word = trim(rest.substr(1));
  // `pgopt:cache ...` is the result cache's hint (sql::cache_hint judges it): a plain comment here.
  if (word.size() >= 5 && iequals(word.substr(0, 5), "cache") && (word.size() == 5 || !is_word(word[5])))
    return p;
  p.is_hint = true;
  p.word = word;
  if (iequals(p.word, "primary")) p.hint = Hint::Primary;
  else if (iequals(p.word, "replica")) p.hint = Hint::Replica;
  return p;
}

std::string_view hint_name(Hint h) { return h == Hint::Primary ? "primary" : "replica"; }

}  // namespace

HintScan scan_hints(std::string_view sql) {
  HintScan out;
  const size_t body = sql::lex::leading_comments(sql, [&](const sql::lex::LeadingComment& c) {
    if (c.nested) return;
    Parsed p = parse_content(c.content);
    if (p.is_hint && p.hint == Hint::None) {
      if (out.error.empty()) out.error = "unknown pgopt hint \"pgopt:" + std::string(p.word) + "\"";
    } else if (p.is_hint) {
      if (out.hint != Hint::None && out.hint != p.hint && out.error.empty())
        out.error = "conflicting pgopt hints: pgopt:" + std::string(hint_name(out.hint)) + " and pgopt:" +
                    std::string(hint_name(p.hint));
      out.hint = p.hint;
      out.ranges.emplace_back(c.begin, c.end);
    }
  });
  out.body = body == sql::lex::kUnclosed ? sql.size() : body;  // unterminated: not ours to judge
  return out;
}

std::string blank_hints(std::string_view sql, const HintScan& scan) {
  std::string out(sql);
  for (auto [begin, end] : scan.ranges)
    for (size_t k = begin; k < end && k < out.size(); ++k)
      if (out[k] != '\n' && out[k] != '\r') out[k] = ' ';
  return out;
}

std::string_view first_word(std::string_view sql, size_t offset) {
  size_t end = offset;
  while (end < sql.size() && is_word(sql[end])) ++end;
  return offset < end ? sql.substr(offset, end - offset) : std::string_view();
}

bool word_is(std::string_view word, std::string_view lower_case) { return iequals(word, lower_case); }

}  // namespace pgopt::pooler::routing
