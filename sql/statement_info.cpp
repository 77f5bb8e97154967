// The one lexical scan per statement text (statement_info.hpp has the rules it answers).
#include "sql/statement_info.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <utility>

#include "sql/builtin_functions.hpp"
#include "sql/deep_stack.hpp"
#include "sql/lex.hpp"

namespace pgopt::sql {
namespace {

using lex::kUnclosed;

constexpr uint16_t bit(Mark m) { return static_cast<uint16_t>(m); }
constexpr uint16_t kSession = bit(Mark::SessionEffects);

// Per byte, one table lookup on the hot path: word bytes ([A-Za-z0-9_] and non-ASCII, what the
// gates look at), identifier bytes (words plus `$`, as PostgreSQL reads a name after its first
// byte), digits, bytes that start something the scanner must look at, and what may lead to a
// call's `(`. Anything else is punctuation, copied to the key as it is.
enum : unsigned char { kWordBit = 1, kIdentBit = 2, kDigitBit = 4, kSpecialBit = 8, kParenLeadBit = 16 };
constexpr auto kFlags = [] {
  std::array<unsigned char, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
    if (word) t[size_t(c)] = kWordBit | kIdentBit;
  }
  t[size_t('$')] = kIdentBit | kSpecialBit;
  for (int c = '0'; c <= '9'; ++c) t[size_t(c)] |= kDigitBit;
  for (char c : {'\'', '"', '-', '/', '.', ';', '\x01'}) t[static_cast<unsigned char>(c)] = kSpecialBit;
  // What may stand between a word and the `(` that makes it a call: blanks and comments.
  for (char c : {'(', ' ', '\t', '\n', '\r', '\f', '-', '/'}) t[static_cast<unsigned char>(c)] |= kParenLeadBit;
  return t;
}();

inline unsigned char flags_of(char c) { return kFlags[static_cast<unsigned char>(c)]; }
inline bool word_byte(char c) { return flags_of(c) & kWordBit; }
inline bool ident_byte(char c) { return flags_of(c) & kIdentBit; }
inline bool digit_byte(char c) { return flags_of(c) & kDigitBit; }
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

// word equals lower-case literal w, ignoring ASCII case.
template <size_t N>
inline bool is(std::string_view word, const char (&w)[N]) {
  if (word.size() != N - 1) return false;
  for (size_t i = 0; i + 1 < N; ++i) {
    if (lower(word[i]) != w[i]) return false;
  }
  return true;
}

// Per byte, the letters it is (one bit per ASCII letter in either case, one for `_`) plus a bit for
// every word byte: a word's mask is the OR of its bytes', built while the word is walked.
constexpr uint32_t kWordByteBit = 1u << 31;
constexpr auto kLetterBits = [] {
  std::array<uint32_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    if (!(kFlags[size_t(c)] & kWordBit)) continue;
    t[size_t(c)] = kWordByteBit;
    if (c >= 'a' && c <= 'z') t[size_t(c)] |= 1u << (c - 'a');
    if (c >= 'A' && c <= 'Z') t[size_t(c)] |= 1u << (c - 'A');
    if (c == '_') t[size_t(c)] |= 1u << 26;
  }
  return t;
}();

inline uint32_t letter_bits(char c) { return kLetterBits[static_cast<unsigned char>(c)]; }

constexpr uint32_t letters_of(std::string_view w) {
  uint32_t m = 0;
  for (char c : w) m |= kLetterBits[static_cast<unsigned char>(c)];
  return m;
}

// The patterns found inside words (see the header); temp, advisory and set_config are session
// triggers. A word is searched for a pattern only when it has every letter of it.
struct Pattern {
  std::string_view text;
  uint32_t letters;
  uint16_t mark;
};
constexpr Pattern pattern(std::string_view text, Mark mark) { return {text, letters_of(text), bit(mark)}; }
constexpr Pattern kPatterns[] = {
    pattern("hold", Mark::CursorCommand),
    pattern("close", Mark::CursorCommand),
    pattern("discard", Mark::CursorCommand),
    pattern("prepare", Mark::PreparedCommand),
    pattern("execute", Mark::PreparedCommand),
    pattern("deallocate", Mark::PreparedCommand),
    pattern("pg_prepared_statements", Mark::StatementView),
    pattern("pg_settings", Mark::PgSettings),
    pattern("nextval", Mark::SequenceCall),
    pattern("setval", Mark::SequenceCall),
    pattern("temp", Mark::SessionEffects),
    pattern("advisory", Mark::SessionEffects),
    pattern("set_config", Mark::SessionEffects),
};

bool contains_folded(std::string_view w, std::string_view p) {
  for (size_t i = 0; i + p.size() <= w.size(); ++i) {
    size_t k = 0;
    while (k < p.size() && lower(w[i + k]) == p[k]) ++k;
    if (k == p.size()) return true;
  }
  return false;
}

// Every pattern but close, prepare and temp has one of d, x, v, i: a word with none of them (most
// words of most statements) is searched for those three at most.
constexpr uint32_t kRareLetters = letters_of("dxvi") & ~kWordByteBit;
constexpr uint32_t kCloseLetters = letters_of("close"), kPrepareLetters = letters_of("prepare"),
                   kTempLetters = letters_of("temp");
static_assert([] {
  for (const Pattern& p : kPatterns)
    if (!(p.letters & kRareLetters) && p.text != "close" && p.text != "prepare" && p.text != "temp") return false;
  return true;
}());

// The marks of the patterns inside word `w`, whose letter mask is `letters`.
[[gnu::always_inline]] inline uint16_t inner_marks(std::string_view w, uint32_t letters) {
  if (w.size() < 4) return 0;  // the shortest patterns, hold and temp
  uint16_t m = 0;
  if (!(letters & kRareLetters)) {
    if ((letters & kCloseLetters) == kCloseLetters && contains_folded(w, "close")) m |= bit(Mark::CursorCommand);
    if ((letters & kPrepareLetters) == kPrepareLetters && contains_folded(w, "prepare")) m |= bit(Mark::PreparedCommand);
    if ((letters & kTempLetters) == kTempLetters && contains_folded(w, "temp")) m |= kSession;
    return m;
  }
  for (const Pattern& p : kPatterns) {
    if ((letters & p.letters) == p.letters && !(m & p.mark) && contains_folded(w, p.text)) m |= p.mark;
  }
  return m;
}

// Index of the first byte at or after `i` that is not a blank or inside a comment (n if none).
size_t next_significant(std::string_view sql, size_t i) {
  const size_t n = sql.size();
  while (i < n) {
    const char c = sql[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      ++i;
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      size_t depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] == '/' && i + 1 < n && sql[i + 1] == '*') {
          ++depth;
          i += 2;
        } else if (sql[i] == '*' && i + 1 < n && sql[i + 1] == '/') {
          --depth;
          i += 2;
        } else {
          ++i;
        }
      }
    } else {
      break;
    }
  }
  return i;
}

// Keywords the grammar follows with a parenthesis that are not function calls (COALESCE, NULLIF,
// GREATEST, LEAST, EXTRACT ... are grammar, not pg_proc entries). Sorted for binary search.
constexpr std::array<std::string_view, 73> kParenKeywords = {
    "all", "and", "any", "array", "as", "between", "by", "case",
    "cast", "check", "coalesce", "conflict", "cube", "current", "default", "distinct",
    "else", "escape", "except", "exists", "extract", "filter", "for", "from",
    "greatest", "group", "grouping", "having", "if", "in", "intersect", "into",
    "is", "join", "key", "lateral", "least", "like", "limit", "localtime",
    "localtimestamp", "not", "nullif", "offset", "on", "only", "or", "over",
    "overlay", "partition", "position", "primary", "references", "returning", "rollup", "row",
    "select", "sets", "some", "substring", "table", "then", "to", "trim",
    "union", "unique", "using", "values", "when", "where", "window", "with",
    "within"};

static_assert(std::is_sorted(kParenKeywords.begin(), kParenKeywords.end()));

bool is_paren_keyword(std::string_view lower_word) {
  return std::binary_search(kParenKeywords.begin(), kParenKeywords.end(), lower_word);
}

// Whether `word(` may call something other than a pg_catalog built-in.
// `prev_word` is the word before `word`, `qualifier_of` the one before that (for `a.b(`, a's
// predecessor), `before` the byte just before `word`.
bool unknown_call(std::string_view word, std::string_view prev_word, std::string_view qualifier_of, char before) {
  std::array<char, 64> buf;
  if (word.size() > buf.size()) return true;  // no built-in has so long a name
  for (size_t k = 0; k < word.size(); ++k) buf[k] = lower(word[k]);
  std::string_view w(buf.data(), word.size());
  if (before == '$') return true;  // the tail of a name with a `$` in it
  if (before == '.') {
    if (is(qualifier_of, "into")) return false;  // INSERT INTO schema.table (columns)
    return !is(prev_word, "pg_catalog") || !detail::builtin_volatility(w);
  }
  if (is_paren_keyword(w) || is(prev_word, "into")) return false;
  return !detail::builtin_volatility(w);
}

// What a whole word means to the gates, by one dispatch on its first letter and length: a keyword
// that names something with session effects or runs code the pooler cannot see (Session; Set
// unless it is UPDATE's, Do as a statement's first word), a word of a statement that writes
// (Write; Update also starts UPDATE's SET list), or `u` (U&"name" when `&"` follows).
enum class WordKind : uint8_t { Other, Session, Set, Do, Write, Update, U };

[[gnu::always_inline]] inline WordKind word_kind(std::string_view w) {
  const size_t n = w.size();
  switch (lower(w[0])) {
    case 'c':
      return n == 4 && is(w, "call") ? WordKind::Session : n == 4 && is(w, "copy") ? WordKind::Write : WordKind::Other;
    case 'd':
      if (n == 2) return is(w, "do") ? WordKind::Do : WordKind::Other;
      if (n == 7) return is(w, "discard") ? WordKind::Session : WordKind::Other;
      return n == 6 && is(w, "delete") ? WordKind::Write : WordKind::Other;
    case 'e':
      return n == 7 && is(w, "execute") ? WordKind::Session : WordKind::Other;
    case 'f':
      return n == 8 && is(w, "function") ? WordKind::Session : WordKind::Other;
    case 'h':
      return n == 4 && is(w, "hold") ? WordKind::Session : WordKind::Other;
    case 'i':
      return n == 6 && is(w, "insert") ? WordKind::Write : WordKind::Other;
    case 'l':
      return (n == 6 && is(w, "listen")) || (n == 4 && is(w, "load")) ? WordKind::Session : WordKind::Other;
    case 'm':
      return n == 5 && is(w, "merge") ? WordKind::Write : WordKind::Other;
    case 'p':
      return (n == 7 && is(w, "prepare")) || (n == 9 && is(w, "procedure")) ? WordKind::Session : WordKind::Other;
    case 'r':
      return (n == 5 && is(w, "reset")) || (n == 4 && is(w, "rule")) ? WordKind::Session : WordKind::Other;
    case 's':
      return n == 3 && is(w, "set") ? WordKind::Set : WordKind::Other;
    case 't':
      if (n == 7) return is(w, "trigger") ? WordKind::Session : WordKind::Other;
      return n == 8 && is(w, "truncate") ? WordKind::Write : WordKind::Other;
    case 'u':
      if (n == 1) return WordKind::U;
      return n == 6 && is(w, "update") ? WordKind::Update : WordKind::Other;
    default:
      return WordKind::Other;
  }
}

}  // namespace

// One forward pass over a statement text: the key is built as the tokens go by, and every run of
// word bytes (outside literals and comments, and inside them) adds the marks it earns.
class StatementScanner {
 public:
  StatementScanner(std::string_view sql, StatementInfo& out) : sql_(sql), n_(sql.size()), out_(out) {}

  void run() {
    // The key is never longer than the text plus its marker: it is written in place.
    std::string& key = out_.key_;
    key.resize(n_ + 1);
    key_end_ = key.data();
    *key_end_++ = '\x01';
    size_t i = 0;
    while (i < n_) {
      // Runs of punctuation and blanks go over in one piece.
      size_t run = i;
      while (run < n_ && !(flags_of(sql_[run]) & (kIdentBit | kSpecialBit))) ++run;
      if (run > i) {
        i = run;
        if (i >= n_) break;
      }
      const unsigned char f = flags_of(sql_[i]);
      if (f & kDigitBit) {
        i = number(i);
      } else if (f & kWordBit) {
        i = word(i);
      } else {
        i = special(i);
      }
    }
    if (key_ == Key::Building) {
      std::memcpy(key_end_, sql_.data() + copied_, n_ - copied_);
      key_end_ += n_ - copied_;
    }
    key.resize(key_ == Key::Building ? size_t(key_end_ - key.data()) : 0);
    // session_effects() does not parse what is longer; may_write_tables() never scanned it.
    if (n_ > detail::kMaxAnalyzedLength) marks_ |= uint16_t(kSession | bit(Mark::WritesTables));
    out_.marks_ = marks_;
    out_.keyed_ = key_ == Key::Building;
  }

 private:
  // Where the scan stands in the current ;-separated statement, for DO (only a statement's first
  // word) and UPDATE ... SET (a SET statement is a statement's first token, so a `set` after an
  // uncommented `update` in the same stretch is UPDATE's).
  enum class Stretch { Start, Statement, AfterUpdate };
  // What a word inside quotes or comments may mean: a literal, comment or $$ body is looked at
  // for everything (conservatively: its words do not move Stretch), a "quoted name" only for the
  // patterns (it is called when `(` follows it, which quoted_name() checks).
  enum class Inside { Text, QuotedName };
  enum class Key { Building, None };

  // The key is the text with some tokens replaced: bytes up to a replaced token are copied in one
  // piece when it comes (and the rest at the end), everything else goes over as it is.
  void replace_in_key(size_t b, size_t e, char with) {
    if (key_ != Key::Building) return;
    std::memcpy(key_end_, sql_.data() + copied_, b - copied_);
    key_end_ += b - copied_;
    *key_end_++ = with;
    copied_ = e;
  }

  bool call_follows(size_t end) const {
    // Most words are followed by one blank and another token: decided without the loop.
    auto may_lead_to_paren = [](char c) { return flags_of(c) & kParenLeadBit; };
    if (end >= n_ || !may_lead_to_paren(sql_[end])) return false;
    if (sql_[end] == '(') return true;
    if (sql_[end] == ' ' && (end + 1 >= n_ || !may_lead_to_paren(sql_[end + 1]))) return false;
    const size_t after = next_significant(sql_, end);
    return after < n_ && sql_[after] == '(';
  }

  // Whether the word [b, e) of kind `k` may have session effects; `starts_statement` for DO.
  bool session_word(WordKind k, size_t b, size_t e, bool starts_statement) const {
    switch (k) {
      case WordKind::Session:
        return true;
      case WordKind::Set:
        if (stretch_ != Stretch::AfterUpdate) return true;
        break;
      case WordKind::Do:
        if (starts_statement) return true;
        break;
      case WordKind::U:
        if (e + 1 < n_ && sql_[e] == '&' && sql_[e + 1] == '"') return true;  // U&"name"
        break;
      default:
        break;
    }
    return call_follows(e) && unknown_call(sql_.substr(b, e - b), prev_word_, prev_prev_word_, b > 0 ? sql_[b - 1] : '\0');
  }

  // A run of word bytes [b, e) outside literals and comments.
  void code_word(size_t b, size_t e) { code_word(b, e, letters_of(sql_.substr(b, e - b))); }
  void code_word(size_t b, size_t e, uint32_t letters) {
    const std::string_view w = sql_.substr(b, e - b);
    const WordKind k = word_kind(w);
    if (!(marks_ & kSession) && session_word(k, b, e, stretch_ == Stretch::Start)) marks_ |= kSession;
    if (k == WordKind::Update) {
      marks_ |= bit(Mark::WritesTables);
      stretch_ = Stretch::AfterUpdate;
    } else {
      if (k == WordKind::Write) marks_ |= bit(Mark::WritesTables);
      if (stretch_ == Stretch::Start) stretch_ = Stretch::Statement;
    }
    marks_ |= inner_marks(w, letters);
    prev_prev_word_ = std::exchange(prev_word_, w);
  }

  // The word runs of [b, e), a region inside quotes or a comment.
  void inside(size_t b, size_t e, Inside what) {
    size_t i = b;
    while (i < e) {
      if (!word_byte(sql_[i])) {
        // `"` then `(`: what the old gate took for a quoted name called; kept as conservative.
        if (sql_[i] == '"' && what == Inside::Text && !(marks_ & kSession) && call_follows(i + 1)) marks_ |= kSession;
        ++i;
        continue;
      }
      size_t j = i;
      uint32_t letters = 0;
      for (uint32_t b1; j < e && (b1 = letter_bits(sql_[j])) != 0; ++j) letters |= b1;
      const std::string_view w = sql_.substr(i, j - i);
      const WordKind k = word_kind(w);
      uint16_t m = inner_marks(w, letters);
      if (k == WordKind::Write || k == WordKind::Update) m |= bit(Mark::WritesTables);
      if (what == Inside::QuotedName) {
        m &= uint16_t(~kSession);
      } else {
        if (!(marks_ & kSession) && session_word(k, i, j, true)) m |= kSession;
        prev_prev_word_ = std::exchange(prev_word_, w);
      }
      marks_ |= m;
      i = j;
    }
  }

  // An identifier or keyword at `i`; `$` continues it (my$func), and each run of word bytes
  // between `$`s is a word of its own for the gates.
  size_t word(size_t i) {
    size_t j = i;
    uint32_t letters = 0;
    for (uint32_t b; j < n_ && (b = letter_bits(sql_[j])) != 0; ++j) letters |= b;
    size_t e = j;
    while (e < n_ && ident_byte(sql_[e])) ++e;
    if (key_ == Key::Building) {
      const std::string_view w = sql_.substr(i, e - i);
      const size_t len = w.size();
      if ((len == 7 && is(w, "explain")) || (len == 10 && is(w, "set_config")) ||
          (len == 21 && is(w, "transaction_read_only")))
        key_ = Key::None;
    }
    code_word(i, j, letters);
    if (e > j) dollar_tail(j, e);
    return e;
  }

  // The `$`-separated word runs of an identifier's tail [b, e).
  void dollar_tail(size_t b, size_t e) {
    size_t k = b;
    while (k < e) {
      if (sql_[k] == '$') {
        ++k;
        continue;
      }
      size_t m = k;
      while (m < e && sql_[m] != '$') ++m;
      code_word(k, m);
      k = m;
    }
  }

  size_t number(size_t i);
  size_t special(size_t i);
  size_t literal(size_t i);
  size_t quoted_name(size_t i);
  size_t dollar(size_t i);

  std::string_view sql_;
  size_t n_;
  StatementInfo& out_;
  uint16_t marks_ = 0;
  Key key_ = Key::Building;
  char* key_end_ = nullptr;  // where the key's next byte goes
  size_t copied_ = 0;         // the text before this is in the key
  Stretch stretch_ = Stretch::Start;
  std::string_view prev_word_, prev_prev_word_;
};

// A numeric constant at `i` (a digit, or `.` before one): `?` in the key. One run into a word or a
// second dot (123abc, 1.2.3) is not worth keying; its word run is looked at like any word.
size_t StatementScanner::number(size_t i) {
  size_t j = lex::digits_end(sql_, i);
  if (j < n_ && sql_[j] == '.') j = lex::digits_end(sql_, j + 1);
  if (j < n_ && (sql_[j] == 'e' || sql_[j] == 'E')) {
    size_t k = j + 1;
    if (k < n_ && (sql_[k] == '+' || sql_[k] == '-')) ++k;
    if (k < n_ && digit_byte(sql_[k])) j = lex::digits_end(sql_, k);
  }
  if (j < n_ && (ident_byte(sql_[j]) || sql_[j] == '.')) {
    key_ = Key::None;
    const size_t b = sql_[i] == '.' ? i + 1 : i;
    size_t e = b;
    while (e < n_ && word_byte(sql_[e])) ++e;
    code_word(b, e);
    return e;
  }
  replace_in_key(i, j, '?');
  if (stretch_ == Stretch::Start) stretch_ = Stretch::Statement;
  // `3 (` is no call PostgreSQL accepts; the old gate said yes to it, and so does this one.
  if (!(marks_ & kSession) && call_follows(j)) marks_ |= kSession;
  return j;
}

size_t StatementScanner::special(size_t i) {
  const char c = sql_[i];
  const char next = i + 1 < n_ ? sql_[i + 1] : '\0';
  switch (c) {
    case ';':
      stretch_ = Stretch::Start;
      return i + 1;
    case '\'':
      return literal(i);
    case '"':
      return quoted_name(i);
    case '$':
      return dollar(i);
    case '.':
      if (digit_byte(next)) return number(i);
      break;
    case '-':
      if (next == '-') {
        const size_t end = std::min(sql_.find('\n', i), n_);
        inside(i + 2, end, Inside::Text);
        return end;
      }
      break;
    case '/':
      if (next == '*') {
        const size_t end = lex::block_comment_end(sql_, i);
        if (end == kUnclosed) {  // the server rejects it; the parser may say so
          key_ = Key::None;
          marks_ |= kSession;
          inside(i + 2, n_, Inside::Text);
          return n_;
        }
        inside(i + 2, end - 2, Inside::Text);
        return end;
      }
      break;
    default:  // \x01, the key's own marker
      key_ = Key::None;
      return i + 1;
  }
  return i + 1;
}

// A '...' literal: `?` in the key. E'', B'', X'', U&'' are not keyed (escapes and bit strings);
// E'' ends where PostgreSQL ends it (a backslash escapes the next byte).
size_t StatementScanner::literal(size_t i) {
  const char before = i > 0 ? sql_[i - 1] : '\0';
  if (i > 0 && (ident_byte(before) || before == '&')) key_ = Key::None;
  const bool escapes = (before == 'e' || before == 'E') && (i < 2 || !ident_byte(sql_[i - 2]));
  const size_t end = lex::quoted_end(sql_, i, '\'', escapes);
  if (end == kUnclosed) {  // the server rejects it; the parser may say so
    key_ = Key::None;
    marks_ |= kSession;
    inside(i + 1, n_, Inside::Text);
    return n_;
  }
  replace_in_key(i, end, '?');
  inside(i + 1, end - 1, Inside::Text);
  return end;
}

// A "quoted name", kept as written; called (followed by `(`) it may be any function, and an
// unclosed one is not worth guessing about.
size_t StatementScanner::quoted_name(size_t i) {
  const size_t end = lex::quoted_end(sql_, i, '"');
  if (end == kUnclosed) {
    key_ = Key::None;
    marks_ |= kSession;
    inside(i + 1, n_, Inside::QuotedName);
    return n_;
  }
  inside(i + 1, end - 1, Inside::QuotedName);
  if (!(marks_ & kSession) && call_follows(end)) marks_ |= kSession;
  return end;
}

// `$` starting a token: a parameter ($1, kept in the key), a $tag$ body (not keyed; its words are
// looked at like a literal's), or the tail of a name (1$a).
size_t StatementScanner::dollar(size_t i) {
  if (i > 0 && ident_byte(sql_[i - 1])) {
    key_ = Key::None;  // only after a number that runs into it: not keyed either way
    size_t e = i;
    while (e < n_ && ident_byte(sql_[e])) ++e;
    dollar_tail(i, e);
    return e;
  }
  if (i + 1 < n_ && digit_byte(sql_[i + 1])) {
    const size_t end = lex::digits_end(sql_, i + 1);
    code_word(i + 1, end);
    return end;
  }
  key_ = Key::None;
  size_t k = i + 1;
  if (k < n_ && word_byte(sql_[k]) && !digit_byte(sql_[k])) {
    while (k < n_ && word_byte(sql_[k])) ++k;
  }
  if (k >= n_ || sql_[k] != '$') return i + 1;  // a lone `$`: not SQL
  const std::string_view delimiter = sql_.substr(i, k + 1 - i);
  const size_t close = sql_.find(delimiter, k + 1);
  if (close == std::string_view::npos) {  // the server rejects it; the parser may say so
    marks_ |= kSession;
    inside(i + 1, n_, Inside::Text);
    return n_;
  }
  inside(i + 1, close + delimiter.size() - 1, Inside::Text);
  return close + delimiter.size();
}

}  // namespace pgopt::sql

namespace pgopt::sql {

void analyze(std::string_view sql, StatementInfo& out) { StatementScanner(sql, out).run(); }

// The consumers of one statement (router, session effects, cursors, prepared tracker, capture,
// result cache) ask one after the other on the same thread: the last text and its analysis are kept.
const StatementInfo& analyze(std::string_view sql) {
  constexpr size_t kMemoMax = 4096;
  struct Memo {
    std::string text;
    StatementInfo info;
    enum class State { Empty, Kept } state = State::Empty;
  };
  thread_local Memo memo;
  thread_local StatementInfo uncached;
  if (memo.state == Memo::State::Kept && sql.size() == memo.text.size() &&
      (sql.empty() || std::memcmp(sql.data(), memo.text.data(), sql.size()) == 0))
    return memo.info;
  if (sql.size() > kMemoMax) {
    analyze(sql, uncached);
    return uncached;
  }
  analyze(sql, memo.info);
  memo.text.assign(sql);
  memo.state = Memo::State::Kept;
  return memo.info;
}

}  // namespace pgopt::sql
