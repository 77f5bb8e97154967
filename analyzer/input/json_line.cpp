// Strict recursive-descent JSON for one line: every syntax error is reported with its column.
#include "analyzer/input/json_line.hpp"

#include <charconv>
#include <cmath>

#include "analyzer/input/json_text.hpp"

namespace pgopt::analyzer::input::json {
namespace {

// Deeper nesting than any record we read is an error, not a stack overflow.
constexpr int kMaxDepth = 64;

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  ParseResult run() {
    ParseResult out;
    Value v;
    size_t p = blank(0);
    if (p >= s_.size()) {
      out.error = "empty line where a JSON object was expected";
      return out;
    }
    if (!value(p, v, 0)) {
      out.error = error_;
      return out;
    }
    p = blank(p);
    if (p != s_.size()) {
      out.error = at(p, "unexpected text after the JSON value");
      return out;
    }
    out.value = std::move(v);
    return out;
  }

 private:
  std::string_view s_;
  std::string error_;

  size_t blank(size_t p) const {
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t' || s_[p] == '\r' || s_[p] == '\n')) ++p;
    return p;
  }
  std::string at(size_t p, std::string_view what) const {
    return "column " + std::to_string(p + 1) + ": " + std::string(what);
  }
  bool fail(size_t p, std::string_view what) {
    error_ = p >= s_.size() ? "line ends early (truncated?): " + std::string(what) : at(p, what);
    return false;
  }

  bool value(size_t& p, Value& v, int depth) {
    if (p >= s_.size()) return fail(p, "a value was expected");
    switch (s_[p]) {
      case '{': return object(p, v, depth);
      case '[': return array(p, v, depth);
      case '"': v.kind = Value::Kind::String; return string(p, v.text);
      case 't': return word(p, "true", v, Value::Kind::Bool, true);
      case 'f': return word(p, "false", v, Value::Kind::Bool, false);
      case 'n': return word(p, "null", v, Value::Kind::Null, false);
      default: return number(p, v);
    }
  }

  bool word(size_t& p, std::string_view w, Value& v, Value::Kind kind, bool b) {
    if (s_.substr(p, w.size()) != w) return fail(p, "not a JSON value");
    v.kind = kind;
    v.boolean = b;
    p += w.size();
    return true;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool number(size_t& p, Value& v) {
    size_t q = p;
    auto digits = [&] {
      size_t from = q;
      while (q < s_.size() && s_[q] >= '0' && s_[q] <= '9') ++q;
      return q > from;
    };
    if (q < s_.size() && s_[q] == '-') ++q;
    if (q < s_.size() && s_[q] == '0') ++q;
    else if (!digits()) return fail(p, "not a JSON value");
    if (q < s_.size() && s_[q] == '.') {
      ++q;
      if (!digits()) return fail(q, "digits expected after the decimal point");
    }
    if (q < s_.size() && (s_[q] == 'e' || s_[q] == 'E')) {
      ++q;
      if (q < s_.size() && (s_[q] == '+' || s_[q] == '-')) ++q;
      if (!digits()) return fail(q, "digits expected in the exponent");
    }
    v.kind = Value::Kind::Number;
    v.text.assign(s_.substr(p, q - p));
    p = q;
    return true;
  }

  bool string(size_t& p, std::string& out) {
    JsonString js;
    size_t end = parse_string(s_, p, js);
    if (end == std::string_view::npos) return fail(s_.size(), "a string is not closed");
    // RFC 8259: no raw control characters, and only the listed escapes.
    std::string_view r = js.raw;
    for (size_t i = 0; i < r.size(); ++i) {
      size_t col = p + 1 + i;
      if (static_cast<unsigned char>(r[i]) < 0x20) return fail(col, "control character inside a string");
      if (r[i] != '\\') continue;
      char e = i + 1 < r.size() ? r[i + 1] : '\0';
      if (e == 'u') {
        uint32_t cp;
        if (!hex4(r, i + 2, cp)) return fail(col, "\\u must be followed by 4 hex digits");
        i += 5;
      } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
        ++i;
      } else {
        return fail(col, "invalid escape in a string");
      }
    }
    std::string buf;
    std::string_view d = decode(js, buf);
    out.assign(d);
    p = end;
    return true;
  }

  bool array(size_t& p, Value& v, int depth) {
    if (depth >= kMaxDepth) return fail(p, "nested too deeply");
    v.kind = Value::Kind::Array;
    p = blank(p + 1);
    if (p < s_.size() && s_[p] == ']') {
      ++p;
      return true;
    }
    for (;;) {
      Value item;
      if (!value(p, item, depth + 1)) return false;
      v.items.push_back(std::move(item));
      p = blank(p);
      if (p >= s_.size()) return fail(p, "an array is not closed");
      if (s_[p] == ']') {
        ++p;
        return true;
      }
      if (s_[p] != ',') return fail(p, "',' or ']' expected in an array");
      p = blank(p + 1);
    }
  }

  bool object(size_t& p, Value& v, int depth) {
    if (depth >= kMaxDepth) return fail(p, "nested too deeply");
    v.kind = Value::Kind::Object;
    p = blank(p + 1);
    if (p < s_.size() && s_[p] == '}') {
      ++p;
      return true;
    }
    for (;;) {
      if (p >= s_.size()) return fail(p, "an object is not closed");
      if (s_[p] != '"') return fail(p, "a quoted member name expected");
      std::string key;
      if (!string(p, key)) return false;
      p = blank(p);
      if (p >= s_.size() || s_[p] != ':') return fail(p, "':' expected after a member name");
      p = blank(p + 1);
      Value member;
      if (!value(p, member, depth + 1)) return false;
      v.names.push_back(std::move(key));
      v.members.push_back(std::move(member));
      p = blank(p);
      if (p >= s_.size()) return fail(p, "an object is not closed");
      if (s_[p] == '}') {
        ++p;
        return true;
      }
      if (s_[p] != ',') return fail(p, "',' or '}' expected in an object");
      p = blank(p + 1);
    }
  }
};

}  // namespace

const Value* Value::find(std::string_view key) const {
  const Value* hit = nullptr;
  for (size_t i = 0; i < members.size(); ++i)
    if (names[i] == key) hit = &members[i];
  return hit;
}

std::optional<uint64_t> Value::as_count() const {
  if (kind != Kind::Number || text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<double> Value::as_number() const {
  if (kind != Kind::Number) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

ParseResult parse_line(std::string_view line) { return Parser(line).run(); }

std::string_view kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::Null: return "null";
    case Value::Kind::Bool: return "a boolean";
    case Value::Kind::Number: return "a number";
    case Value::Kind::String: return "a string";
    case Value::Kind::Array: return "an array";
    case Value::Kind::Object: return "an object";
  }
  return "?";
}

}  // namespace pgopt::analyzer::input::json
