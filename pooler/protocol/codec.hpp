// Socket-free PostgreSQL v3 framing: splits byte buffers into messages and builds messages.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgopt::protocol {

// Startup-phase request codes (the int32 after the length of an untyped message).
inline constexpr uint32_t kProtocolV3 = 196608;  // 3.0
inline constexpr uint32_t kSslRequestCode = 80877103;
inline constexpr uint32_t kGssEncRequestCode = 80877104;
inline constexpr uint32_t kCancelRequestCode = 80877102;

// Why the decoder returns a status instead of throwing: the relay loop must treat "need more bytes"
// and "this client sent garbage" as ordinary values (Envoy's postgres_proxy does the same).
enum class DecodeStatus { NeedMore, Frame, Malformed };

// One typed message: `type` is the first byte, `body` excludes the type byte and the length.
struct Frame {
  char type = 0;
  std::span<const uint8_t> body;
  size_t size = 0;  // bytes the whole message occupies in the buffer (1 + length)
};

struct DecodeResult {
  DecodeStatus status = DecodeStatus::NeedMore;
  Frame frame;
  std::string error;  // set when Malformed: what was wrong, for the 08P01 message
};

// Decode one typed message at the start of `buf`. Lengths below 4 or above `max_len` are Malformed
// (max_len bounds the length field, which includes itself).
DecodeResult decode_frame(std::span<const uint8_t> buf, uint32_t max_len);

// Untyped startup-phase message (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest).
struct StartupFrame {
  uint32_t code = 0;
  std::span<const uint8_t> payload;  // after the code
  size_t size = 0;
};
struct StartupDecodeResult {
  DecodeStatus status = DecodeStatus::NeedMore;
  StartupFrame frame;
  std::string error;
};
// Lengths below 8 or above max_len are Malformed.
StartupDecodeResult decode_startup(std::span<const uint8_t> buf, uint32_t max_len);

// Parsed StartupMessage parameters, in the order the client sent them.
struct StartupParams {
  uint32_t version = 0;
  std::vector<std::pair<std::string, std::string>> params;
  const std::string* find(std::string_view key) const;
};
// nullopt (with `error` filled) when the key/value list is not NUL-terminated pairs ending in NUL.
std::optional<StartupParams> parse_startup_params(uint32_t version, std::span<const uint8_t> payload,
                                                  std::string& error);

struct CancelKey {
  int32_t pid = 0;
  int32_t secret = 0;
  bool operator==(const CancelKey&) const = default;
};
std::optional<CancelKey> parse_cancel_request(std::span<const uint8_t> payload);

// Bounds-checked reader over a message body. Every getter returns a default and sets `failed()` on
// overrun, so decoders check once at the end instead of after every field.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> body) : data_(body) {}
  uint8_t u8();
  int16_t i16();
  int32_t i32();
  std::string_view cstr();                 // up to (not including) the next NUL
  std::span<const uint8_t> bytes(size_t n);
  std::span<const uint8_t> rest();
  bool failed() const { return failed_; }
  bool at_end() const { return pos_ == data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// Appends messages to a byte buffer; begin() writes the type and a length placeholder that end()
// patches, so callers never compute lengths by hand.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  Writer& begin(char type);    // typed message
  Writer& begin_untyped();     // startup-phase message
  Writer& u8(uint8_t v);
  Writer& i16(int16_t v);
  Writer& i32(int32_t v);
  Writer& cstr(std::string_view s);  // string + NUL
  Writer& raw(std::string_view s);
  Writer& raw(std::span<const uint8_t> s);
  void end();

 private:
  std::string& out_;
  size_t start_ = 0;
};

// ---- Structural validation ----------------------------------------------------------------------
// Frontend messages come from untrusted clients: every field of every type is checked before the
// pooler acts on it or relays it. Returns an empty string when valid, else what is wrong.
std::string validate_frontend(const Frame& f);
// True for the frontend message types the pooler knows (B C D E F H P Q S X c d f p).
bool is_frontend_type(char type);
// Human-readable name for logs ("Parse", "ReadyForQuery", ...). `backend` selects the namespace.
std::string_view message_name(char type, bool backend);

// ---- Typed views of the messages the pooler inspects --------------------------------------------
struct ErrorField {
  char code;
  std::string_view value;
};
// ErrorResponse ('E') and NoticeResponse ('N') bodies.
std::optional<std::vector<ErrorField>> parse_error_fields(std::span<const uint8_t> body);
std::string_view error_field(const std::vector<ErrorField>& fields, char code);

struct ParseMsg {
  std::string_view name, query;
  std::vector<int32_t> param_types;
};
std::optional<ParseMsg> parse_parse(std::span<const uint8_t> body);

struct BindMsg {
  std::string_view portal, statement;
  std::vector<int16_t> param_formats;
  std::vector<std::optional<std::span<const uint8_t>>> params;  // nullopt = SQL NULL
  std::vector<int16_t> result_formats;
};
std::optional<BindMsg> parse_bind(std::span<const uint8_t> body);

struct NamedTarget {  // Describe ('D') and Close ('C'): kind is 'S' (statement) or 'P' (portal)
  char kind;
  std::string_view name;
};
std::optional<NamedTarget> parse_named_target(std::span<const uint8_t> body);

struct ExecuteMsg {
  std::string_view portal;
  int32_t max_rows;
};
std::optional<ExecuteMsg> parse_execute(std::span<const uint8_t> body);

struct ParameterStatusMsg {
  std::string_view name, value;
};
std::optional<ParameterStatusMsg> parse_parameter_status(std::span<const uint8_t> body);

// ---- Builders: each appends one complete message to `out` ---------------------------------------
void error_response(std::string& out, std::string_view severity, std::string_view sqlstate,
                    std::string_view message, std::string_view detail = {});
void notice_response(std::string& out, std::string_view sqlstate, std::string_view message);
void ready_for_query(std::string& out, char status);
void auth_ok(std::string& out);
void auth_cleartext(std::string& out);
void auth_md5(std::string& out, const uint8_t salt[4]);
void auth_sasl(std::string& out, const std::vector<std::string>& mechanisms);
void auth_sasl_continue(std::string& out, std::string_view data);
void auth_sasl_final(std::string& out, std::string_view data);
void parameter_status(std::string& out, std::string_view name, std::string_view value);
void backend_key_data(std::string& out, CancelKey key);
void negotiate_protocol_version(std::string& out, uint32_t newest_minor,
                                const std::vector<std::string>& unsupported_options);
void command_complete(std::string& out, std::string_view tag);
void empty_query_response(std::string& out);
void row_description(std::string& out, const std::vector<std::string>& text_columns);
void data_row(std::string& out, const std::vector<std::optional<std::string>>& values);

// Frontend-side builders (the pooler is a client of the server).
void startup_message(std::string& out, const std::vector<std::pair<std::string, std::string>>& params);
void cancel_request(std::string& out, CancelKey key);
void password_message(std::string& out, std::string_view password);  // also md5 response
void sasl_initial_response(std::string& out, std::string_view mechanism, std::string_view data);
void sasl_response(std::string& out, std::string_view data);
void query(std::string& out, std::string_view sql);
void terminate(std::string& out);
void sync(std::string& out);

}  // namespace pgopt::protocol
