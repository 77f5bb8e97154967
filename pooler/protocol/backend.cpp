// Backend (server -> client) messages: typed parsers for what the pooler inspects when it is the
// client of a real server (authentication, session state, errors) and for checking its own output.
#include <algorithm>

#include "pooler/protocol/codec.hpp"

namespace pgopt::protocol {
namespace {

// Reads NUL-terminated strings until an empty one (the list terminator), which must be the last
// byte. Used by AuthenticationSASL's mechanism list.
std::optional<std::vector<std::string_view>> read_string_list(Reader& r) {
  std::vector<std::string_view> out;
  for (;;) {
    auto s = r.cstr();
    if (r.failed()) return std::nullopt;
    if (s.empty()) break;
    out.push_back(s);
  }
  if (!r.at_end()) return std::nullopt;
  return out;
}

// A length-prefixed value list (DataRow); -1 is NULL, other negative lengths are malformed.
bool read_value(Reader& r, std::optional<std::span<const uint8_t>>& out) {
  int32_t len = r.i32();
  if (r.failed() || len < -1) return false;
  if (len == -1) {
    out = std::nullopt;
    return true;
  }
  out = r.bytes(static_cast<size_t>(len));
  return !r.failed();
}

}  // namespace

std::optional<std::vector<ErrorField>> parse_error_fields(std::span<const uint8_t> body) {
  Reader r(body);
  std::vector<ErrorField> out;
  for (;;) {
    auto code = static_cast<char>(r.u8());
    if (r.failed()) return std::nullopt;  // no terminator
    if (code == '\0') break;
    auto value = r.cstr();
    if (r.failed()) return std::nullopt;
    out.push_back({code, value});
  }
  if (!r.at_end()) return std::nullopt;
  return out;
}

std::string_view error_field(const std::vector<ErrorField>& fields, char code) {
  auto it = std::find_if(fields.begin(), fields.end(),
                         [code](const ErrorField& f) { return f.code == code; });
  return it == fields.end() ? std::string_view{} : it->value;
}

std::string_view error_sqlstate(std::span<const uint8_t> body) {
  // The hot-path reading of one field: no vector, stops at the first 'C' (PostgreSQL sends S, V, C
  // first). A malformed body gives an empty code, like a missing field.
  Reader r(body);
  for (;;) {
    auto code = static_cast<char>(r.u8());
    if (r.failed() || code == '\0') return {};
    auto value = r.cstr();
    if (r.failed()) return {};
    if (code == 'C') return value;
  }
}

std::optional<ParameterStatusMsg> parse_parameter_status(std::span<const uint8_t> body) {
  Reader r(body);
  ParameterStatusMsg m;
  m.name = r.cstr();
  m.value = r.cstr();
  if (r.failed() || !r.at_end()) return std::nullopt;
  return m;
}

std::optional<std::string_view> parse_command_complete(std::span<const uint8_t> body) {
  Reader r(body);
  auto tag = r.cstr();
  if (r.failed() || !r.at_end()) return std::nullopt;
  return tag;
}

std::optional<AuthRequest> parse_authentication(std::span<const uint8_t> body) {
  Reader r(body);
  AuthRequest a;
  a.code = r.i32();
  if (r.failed()) return std::nullopt;
  a.rest = r.rest();
  switch (a.code) {
    case kAuthOk:
    case kAuthKerberosV5:
    case kAuthCleartext:
    case kAuthGss:
    case kAuthSspi:
      if (!a.rest.empty()) return std::nullopt;
      break;
    case kAuthMd5:
      if (a.rest.size() != 4) return std::nullopt;
      break;
    case kAuthSasl:
      if (!parse_sasl_mechanisms(a.rest)) return std::nullopt;
      break;
    default:  // GSS/SASL continuation data is opaque; unknown codes are the caller's to report
      break;
  }
  return a;
}

std::optional<std::vector<std::string_view>> parse_sasl_mechanisms(std::span<const uint8_t> rest) {
  Reader r(rest);
  return read_string_list(r);
}

std::optional<CancelKey> parse_backend_key_data(std::span<const uint8_t> body) {
  Reader r(body);
  CancelKey k;
  k.pid = r.i32();
  k.secret = r.i32();
  if (r.failed() || !r.at_end()) return std::nullopt;
  return k;
}

std::optional<char> parse_ready_for_query(std::span<const uint8_t> body) {
  if (body.size() != 1) return std::nullopt;
  char status = static_cast<char>(body[0]);
  if (status != 'I' && status != 'T' && status != 'E') return std::nullopt;
  return status;
}

std::optional<NotificationMsg> parse_notification(std::span<const uint8_t> body) {
  Reader r(body);
  NotificationMsg m;
  m.pid = r.i32();
  m.channel = r.cstr();
  m.payload = r.cstr();
  if (r.failed() || !r.at_end()) return std::nullopt;
  return m;
}

std::optional<NegotiateProtocolVersionMsg> parse_negotiate_protocol_version(
    std::span<const uint8_t> body) {
  Reader r(body);
  NegotiateProtocolVersionMsg m;
  m.newest_minor = r.i32();
  int32_t n = r.i32();
  // Each option name needs at least its NUL, which bounds the count before reserving.
  if (r.failed() || n < 0 || static_cast<size_t>(n) > r.remaining()) return std::nullopt;
  m.unsupported_options.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    m.unsupported_options.push_back(r.cstr());
  }
  if (r.failed() || !r.at_end()) return std::nullopt;
  return m;
}

std::optional<std::vector<RowField>> parse_row_description(std::span<const uint8_t> body) {
  Reader r(body);
  auto n = static_cast<uint16_t>(r.i16());
  // A field is at least 19 bytes (empty name + 18 bytes of attributes).
  if (r.failed() || size_t{n} * 19 > r.remaining()) return std::nullopt;
  std::vector<RowField> out;
  out.reserve(n);
  for (uint16_t i = 0; i < n; ++i) {
    RowField f;
    f.name = r.cstr();
    f.table_oid = r.i32();
    f.column = r.i16();
    f.type_oid = r.i32();
    f.type_len = r.i16();
    f.type_mod = r.i32();
    f.format = r.i16();
    if (r.failed()) return std::nullopt;
    out.push_back(f);
  }
  if (!r.at_end()) return std::nullopt;
  return out;
}

std::optional<std::vector<std::optional<std::span<const uint8_t>>>> parse_data_row(
    std::span<const uint8_t> body) {
  Reader r(body);
  auto n = static_cast<uint16_t>(r.i16());
  if (r.failed() || size_t{n} * 4 > r.remaining()) return std::nullopt;
  std::vector<std::optional<std::span<const uint8_t>>> out(n);
  for (auto& v : out) {
    if (!read_value(r, v)) return std::nullopt;
  }
  if (!r.at_end()) return std::nullopt;
  return out;
}

}  // namespace pgopt::protocol
