// A strict parser for one line of JSON Lines (RFC 8259 values, nesting bounded) into a small tree,
// for inputs that must be rejected when malformed rather than skipped (the capture file).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgopt::analyzer::input::json {

struct Value {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  std::string text;  // a string's decoded text, or a number as written
  std::vector<Value> items;  // Array
  // Object, in the order written: names[i] is the name of members[i]. Two vectors, not
  // one of pairs: std::pair<std::string, Value> cannot be instantiated while Value is incomplete
  // (clang with libstdc++ refuses it), std::vector<Value> can.
  std::vector<std::string> names;
  std::vector<Value> members;

  // The member named `key` of an object (the last one if it is repeated), or nullptr.
  const Value* find(std::string_view key) const;
  // A number that is a whole number from 0 to 2^64-1, written without fraction or exponent.
  std::optional<uint64_t> as_count() const;
  // Any finite number.
  std::optional<double> as_number() const;
};

struct ParseResult {
  std::optional<Value> value;
  std::string error;  // with the 1-based column, when value is empty
};

// Parses exactly one JSON value filling the whole line (surrounding blanks allowed).
ParseResult parse_line(std::string_view line);

// A short description of a value's type for error messages ("a string", "an array" ...).
std::string_view kind_name(Value::Kind kind);

}  // namespace pgopt::analyzer::input::json
