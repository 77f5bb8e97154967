// Startup-phase payloads: StartupMessage parameter lists, CancelRequest keys, and the shape check
// that decides whether a startup frame is one the server would accept.
#include "pooler/protocol/codec.hpp"
#include "pooler/protocol/text.hpp"

namespace pgopt::protocol {

using detail::cat;

const std::string* StartupParams::find(std::string_view key) const {
  // The last occurrence wins, as in the server: a repeated "user" or GUC overrides earlier ones.
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    if (it->first == key) return &it->second;
  }
  return nullptr;
}

std::optional<StartupParams> parse_startup_params(uint32_t version,
                                                  std::span<const uint8_t> payload,
                                                  std::string& error) {
  StartupParams out;
  out.version = version;
  Reader r(payload);
  for (;;) {
    if (r.at_end()) {
      error = "invalid startup packet layout: missing parameter list terminator";
      return std::nullopt;
    }
    auto name = r.cstr();
    if (r.failed()) {
      error = "invalid startup packet layout: parameter name is not NUL-terminated";
      return std::nullopt;
    }
    if (name.empty()) break;  // the terminator
    auto value = r.cstr();
    if (r.failed()) {
      error = cat("invalid startup packet layout: parameter \"", name, "\" has no value");
      return std::nullopt;
    }
    out.params.emplace_back(std::string(name), std::string(value));
  }
  if (!r.at_end()) {
    // Same wording as the server (ProcessStartupPacket).
    error = "invalid startup packet layout: expected terminator as last byte";
    return std::nullopt;
  }
  return out;
}

std::optional<CancelKey> parse_cancel_request(std::span<const uint8_t> payload) {
  Reader r(payload);
  CancelKey k;
  k.pid = r.i32();
  k.secret = r.i32();
  if (r.failed() || !r.at_end()) return std::nullopt;
  return k;
}

std::string validate_startup(const StartupFrame& f) {
  switch (f.code) {
    case kSslRequestCode:
    case kGssEncRequestCode:
      if (!f.payload.empty()) {
        return cat("invalid length of ", f.code == kSslRequestCode ? "SSLRequest" : "GSSENCRequest",
                   " packet: ", f.size, " bytes, expected 8");
      }
      return {};
    case kCancelRequestCode:
    case kForwardedCancelCode:
      if (f.payload.size() != 8) {
        return cat("invalid length of CancelRequest packet: ", f.size, " bytes, expected 16");
      }
      return {};
    default:
      break;
  }
  if (protocol_major(f.code) != 3) {
    // Same wording as the server: it offers 3.0 only and negotiates newer 3.x minors down.
    return cat("unsupported frontend protocol ", protocol_major(f.code), ".",
               protocol_minor(f.code), ": server supports 3.0 to 3.0");
  }
  std::string error;
  if (!parse_startup_params(f.code, f.payload, error)) return error;
  return {};
}

}  // namespace pgopt::protocol
