// Frontend (client -> server) messages: structural validation and typed parsers, one layout
// definition per message type so "validates" and "parses" can never disagree.
#include <algorithm>
#include <cstring>

#include "pooler/protocol/codec.hpp"
#include "pooler/protocol/text.hpp"

namespace pgopt::protocol {
namespace {

using detail::cat;

std::string invalid(std::string_view msg, std::string_view what) {
  return cat("invalid ", msg, " message: ", what);
}

std::string check_end(const Reader& r, std::string_view msg) {
  if (r.at_end()) return {};
  return invalid(msg, cat(r.remaining(), " unexpected trailing byte(s)"));
}

// Counts are read as uint16 because that is how the server reads them (pq_getmsgint(msg, 2) is
// unsigned): a Bind with 40000 parameters is legal even though the docs say "Int16".
uint16_t read_count(Reader& r) { return static_cast<uint16_t>(r.i16()); }

// A count followed by that many format codes, each 0 (text) or 1 (binary).
std::string read_formats(Reader& r, std::string_view msg, std::string_view what, uint16_t& count,
                         std::vector<int16_t>* out) {
  count = read_count(r);
  if (r.failed()) return invalid(msg, cat("message ends before the ", what, " format count"));
  if (r.remaining() < size_t{count} * 2) {
    return invalid(msg, cat(count, " ", what, " format codes declared but only ", r.remaining(),
                            " byte(s) left"));
  }
  if (out != nullptr) out->reserve(count);
  for (uint16_t i = 0; i < count; ++i) {
    int16_t f = r.i16();
    if (f != 0 && f != 1) {
      return invalid(msg, cat(what, " format code ", f, " is not 0 (text) or 1 (binary)"));
    }
    if (out != nullptr) out->push_back(f);
  }
  return {};
}

// `count` length-prefixed values; length -1 is SQL NULL.
std::string read_values(Reader& r, std::string_view msg, std::string_view what, uint16_t count,
                        std::vector<std::optional<std::span<const uint8_t>>>* out) {
  if (out != nullptr) out->reserve(std::min<size_t>(count, r.remaining() / 4));
  for (uint32_t i = 1; i <= count; ++i) {
    int32_t len = r.i32();
    if (r.failed()) {
      return invalid(msg, cat("message ends before the length of ", what, " ", i, " of ", count));
    }
    if (len == -1) {
      if (out != nullptr) out->emplace_back(std::nullopt);
      continue;
    }
    if (len < 0) return invalid(msg, cat(what, " ", i, " has invalid length ", len));
    size_t left = r.remaining();
    auto value = r.bytes(static_cast<size_t>(len));
    if (r.failed()) {
      return invalid(msg, cat(what, " ", i, " length ", len, " exceeds the ", left,
                              " byte(s) left in the message"));
    }
    if (out != nullptr) out->emplace_back(value);
  }
  return {};
}

// Bodies that are exactly one NUL-terminated string (Query, CopyFail, PasswordMessage).
std::string check_single_string(std::span<const uint8_t> body, std::string_view msg,
                                std::string_view what, std::string_view* out) {
  const void* nul = body.empty() ? nullptr : std::memchr(body.data(), 0, body.size());
  if (nul == nullptr) return invalid(msg, cat(what, " is not NUL-terminated"));
  size_t len = static_cast<size_t>(static_cast<const uint8_t*>(nul) - body.data());
  if (len + 1 != body.size()) {
    return invalid(msg,
                   cat(body.size() - len - 1, " unexpected trailing byte(s) after the ", what));
  }
  if (out != nullptr) *out = {reinterpret_cast<const char*>(body.data()), len};
  return {};
}

std::string check_empty(std::span<const uint8_t> body, std::string_view msg) {
  if (body.empty()) return {};
  return invalid(msg, cat("expected an empty body, got ", body.size(), " byte(s)"));
}

std::string check_parse(std::span<const uint8_t> body, ParseMsg* out) {
  constexpr std::string_view msg = "Parse";
  Reader r(body);
  auto name = r.cstr();
  if (r.failed()) return invalid(msg, "statement name is not NUL-terminated");
  auto sql = r.cstr();
  if (r.failed()) return invalid(msg, "query string is not NUL-terminated");
  uint16_t n = read_count(r);
  if (r.failed()) return invalid(msg, "message ends before the parameter type count");
  if (r.remaining() < size_t{n} * 4) {
    return invalid(msg,
                   cat(n, " parameter types declared but only ", r.remaining(), " byte(s) left"));
  }
  if (out != nullptr) {
    out->param_types.reserve(n);
    for (uint16_t i = 0; i < n; ++i) out->param_types.push_back(r.i32());
  } else {
    r.bytes(size_t{n} * 4);  // any OID is acceptable (0 = let the server infer)
  }
  if (auto e = check_end(r, msg); !e.empty()) return e;
  if (out != nullptr) {
    out->name = name;
    out->query = sql;
  }
  return {};
}

std::string check_bind(std::span<const uint8_t> body, BindMsg* out) {
  constexpr std::string_view msg = "Bind";
  Reader r(body);
  auto portal = r.cstr();
  if (r.failed()) return invalid(msg, "portal name is not NUL-terminated");
  auto statement = r.cstr();
  if (r.failed()) return invalid(msg, "statement name is not NUL-terminated");
  uint16_t nformats = 0;
  if (auto e = read_formats(r, msg, "parameter", nformats, out ? &out->param_formats : nullptr);
      !e.empty()) {
    return e;
  }
  uint16_t nparams = read_count(r);
  if (r.failed()) return invalid(msg, "message ends before the parameter count");
  if (nformats > 1 && nformats != nparams) {
    return invalid(msg, cat(nformats, " parameter format codes for ", nparams,
                            " parameters (must be 0, 1 or ", nparams, ")"));
  }
  if (auto e = read_values(r, msg, "parameter", nparams, out ? &out->params : nullptr);
      !e.empty()) {
    return e;
  }
  uint16_t nresults = 0;
  if (auto e = read_formats(r, msg, "result", nresults, out ? &out->result_formats : nullptr);
      !e.empty()) {
    return e;
  }
  if (auto e = check_end(r, msg); !e.empty()) return e;
  if (out != nullptr) {
    out->portal = portal;
    out->statement = statement;
  }
  return {};
}

std::string check_function_call(std::span<const uint8_t> body, FunctionCallMsg* out) {
  constexpr std::string_view msg = "FunctionCall";
  Reader r(body);
  int32_t oid = r.i32();
  if (r.failed()) return invalid(msg, "message ends before the function OID");
  uint16_t nformats = 0;
  if (auto e = read_formats(r, msg, "argument", nformats, out ? &out->arg_formats : nullptr);
      !e.empty()) {
    return e;
  }
  uint16_t nargs = read_count(r);
  if (r.failed()) return invalid(msg, "message ends before the argument count");
  if (nformats > 1 && nformats != nargs) {
    return invalid(msg, cat(nformats, " argument format codes for ", nargs,
                            " arguments (must be 0, 1 or ", nargs, ")"));
  }
  if (auto e = read_values(r, msg, "argument", nargs, out ? &out->args : nullptr); !e.empty()) {
    return e;
  }
  int16_t result_format = r.i16();
  if (r.failed()) return invalid(msg, "message ends before the result format code");
  if (result_format != 0 && result_format != 1) {
    return invalid(msg,
                   cat("result format code ", result_format, " is not 0 (text) or 1 (binary)"));
  }
  if (auto e = check_end(r, msg); !e.empty()) return e;
  if (out != nullptr) {
    out->function_oid = oid;
    out->result_format = result_format;
  }
  return {};
}

std::string check_named_target(std::span<const uint8_t> body, std::string_view msg,
                               NamedTarget* out) {
  Reader r(body);
  auto kind = static_cast<char>(r.u8());
  if (r.failed()) return invalid(msg, "message ends before the kind byte");
  if (kind != 'S' && kind != 'P') {
    return invalid(
        msg, cat("kind ", detail::quote_char(kind), " is not 'S' (statement) or 'P' (portal)"));
  }
  auto name = r.cstr();
  if (r.failed()) return invalid(msg, "name is not NUL-terminated");
  if (auto e = check_end(r, msg); !e.empty()) return e;
  if (out != nullptr) *out = {kind, name};
  return {};
}

std::string check_execute(std::span<const uint8_t> body, ExecuteMsg* out) {
  constexpr std::string_view msg = "Execute";
  Reader r(body);
  auto portal = r.cstr();
  if (r.failed()) return invalid(msg, "portal name is not NUL-terminated");
  // Any row limit is legal: the server treats zero and negative values as "no limit".
  int32_t max_rows = r.i32();
  if (r.failed()) return invalid(msg, "message ends before the row limit");
  if (auto e = check_end(r, msg); !e.empty()) return e;
  if (out != nullptr) *out = {portal, max_rows};
  return {};
}

std::string check_sasl_initial(std::span<const uint8_t> body, SaslInitialMsg* out) {
  constexpr std::string_view msg = "SASLInitialResponse";
  Reader r(body);
  auto mechanism = r.cstr();
  if (r.failed()) return invalid(msg, "mechanism name is not NUL-terminated");
  int32_t len = r.i32();
  if (r.failed()) return invalid(msg, "message ends before the data length");
  std::optional<std::span<const uint8_t>> data;
  if (len != -1) {
    if (len < 0) return invalid(msg, cat("invalid data length ", len));
    size_t left = r.remaining();
    data = r.bytes(static_cast<size_t>(len));
    if (r.failed()) {
      return invalid(msg, cat("data length ", len, " exceeds the ", left, " byte(s) left"));
    }
  }
  if (auto e = check_end(r, msg); !e.empty()) return e;
  if (out != nullptr) *out = {mechanism, data};
  return {};
}

template <typename T, typename Check>
std::optional<T> parse_with(Check check) {
  T out{};
  if (!check(&out).empty()) return std::nullopt;
  return out;
}

}  // namespace

bool is_frontend_type(char type) {
  switch (type) {
    case 'B':
    case 'C':
    case 'D':
    case 'E':
    case 'F':
    case 'H':
    case 'P':
    case 'Q':
    case 'S':
    case 'X':
    case 'c':
    case 'd':
    case 'f':
    case 'p':
      return true;
    default:
      return false;
  }
}

std::string validate_frontend(const Frame& f) {
  switch (f.type) {
    case 'Q':
      return check_single_string(f.body, "Query", "query string", nullptr);
    case 'P':
      return check_parse(f.body, nullptr);
    case 'B':
      return check_bind(f.body, nullptr);
    case 'E':
      return check_execute(f.body, nullptr);
    case 'D':
      return check_named_target(f.body, "Describe", nullptr);
    case 'C':
      return check_named_target(f.body, "Close", nullptr);
    case 'F':
      return check_function_call(f.body, nullptr);
    case 'S':
      return check_empty(f.body, "Sync");
    case 'H':
      return check_empty(f.body, "Flush");
    case 'X':
      return check_empty(f.body, "Terminate");
    case 'c':
      return check_empty(f.body, "CopyDone");
    case 'f':
      return check_single_string(f.body, "CopyFail", "error message", nullptr);
    case 'd':
      return {};  // CopyData: opaque payload
    // PasswordMessage, SASLInitialResponse, SASLResponse and GSSResponse share 'p'; which one it is
    // depends on the authentication exchange, so the auth code checks it with the typed parsers.
    case 'p':
      return {};
    default:
      return cat("unknown message type ", detail::quote_char(f.type));
  }
}

std::optional<ParseMsg> parse_parse(std::span<const uint8_t> body) {
  return parse_with<ParseMsg>([&](ParseMsg* m) { return check_parse(body, m); });
}

std::optional<BindMsg> parse_bind(std::span<const uint8_t> body) {
  return parse_with<BindMsg>([&](BindMsg* m) { return check_bind(body, m); });
}

namespace {
// The first NUL in [p, end), or end: memchr, whose vector loop reads a long query text several
// times faster than a byte loop (Parse texts are scanned on every extended-protocol group).
const uint8_t* nul_or_end(const uint8_t* p, const uint8_t* end) {
  const void* nul = std::memchr(p, 0, size_t(end - p));
  return nul ? static_cast<const uint8_t*>(nul) : end;
}
}  // namespace

std::optional<ParseText> parse_text(std::span<const uint8_t> body) {
  // Two NUL-terminated strings start the body: the statement name, then its text.
  const auto* p = body.data();
  const auto* end = p + body.size();
  const auto* name_end = nul_or_end(p, end);
  if (name_end == end) return std::nullopt;
  const auto* query = name_end + 1;
  const auto* query_end = nul_or_end(query, end);
  if (query_end == end) return std::nullopt;
  return ParseText{std::string_view(reinterpret_cast<const char*>(p), size_t(name_end - p)),
                   std::string_view(reinterpret_cast<const char*>(query), size_t(query_end - query))};
}

std::optional<std::string_view> bind_statement_name(std::span<const uint8_t> body) {
  // Two NUL-terminated strings start the body: the portal, then the statement.
  const auto* p = body.data();
  const auto* end = p + body.size();
  const auto* portal_end = nul_or_end(p, end);
  if (portal_end == end) return std::nullopt;
  const auto* name = portal_end + 1;
  const auto* name_end = nul_or_end(name, end);
  if (name_end == end) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(name), size_t(name_end - name));
}

std::optional<NamedTarget> parse_named_target(std::span<const uint8_t> body) {
  return parse_with<NamedTarget>(
      [&](NamedTarget* m) { return check_named_target(body, "Describe/Close", m); });
}

std::optional<ExecuteMsg> parse_execute(std::span<const uint8_t> body) {
  return parse_with<ExecuteMsg>([&](ExecuteMsg* m) { return check_execute(body, m); });
}

std::optional<FunctionCallMsg> parse_function_call(std::span<const uint8_t> body) {
  return parse_with<FunctionCallMsg>(
      [&](FunctionCallMsg* m) { return check_function_call(body, m); });
}

std::optional<SaslInitialMsg> parse_sasl_initial(std::span<const uint8_t> body) {
  return parse_with<SaslInitialMsg>([&](SaslInitialMsg* m) { return check_sasl_initial(body, m); });
}

std::optional<std::string_view> parse_query(std::span<const uint8_t> body) {
  return parse_with<std::string_view>(
      [&](std::string_view* s) { return check_single_string(body, "Query", "query string", s); });
}

std::optional<std::string_view> parse_password(std::span<const uint8_t> body) {
  return parse_with<std::string_view>([&](std::string_view* s) {
    return check_single_string(body, "PasswordMessage", "password", s);
  });
}

std::optional<std::string_view> parse_copy_fail(std::span<const uint8_t> body) {
  return parse_with<std::string_view>([&](std::string_view* s) {
    return check_single_string(body, "CopyFail", "error message", s);
  });
}

}  // namespace pgopt::protocol
