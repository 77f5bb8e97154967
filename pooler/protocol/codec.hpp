// Socket-free PostgreSQL v3 framing: splits byte buffers into messages and builds messages.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pooler/protocol/message_types.hpp"

namespace pgopt::protocol {

// Startup-phase request codes (the int32 after the length of an untyped message).
inline constexpr uint32_t kProtocolV3 = 196608;  // 3.0
inline constexpr uint32_t kSslRequestCode = 80877103;
inline constexpr uint32_t kGssEncRequestCode = 80877104;
inline constexpr uint32_t kCancelRequestCode = 80877102;
// pgopt's own (1234/6678): a CancelRequest one pgopt process forwards to the peer that issued the
// key (pooler/fleet/peer_key.hpp); the same 8 bytes, and never forwarded again.
inline constexpr uint32_t kForwardedCancelCode = 80878102;

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

// Whether a reply held back until it is whole can go on (ClientSession::server_loop): the complete
// messages at the start of `buf` include a ReadyForQuery, or a length is invalid (nothing more is
// worth waiting for; the caller's decoder reports it). Reads headers only.
bool reply_ready(std::span<const uint8_t> buf);

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

// Shape of a decoded startup-phase frame, mirroring what the server accepts: SSLRequest and
// GSSENCRequest carry nothing after the code, CancelRequest exactly pid + secret, anything else
// must be protocol major version 3 (any minor: the pooler answers newer minors with
// NegotiateProtocolVersion) with a well-formed parameter list. Empty when valid.
std::string validate_startup(const StartupFrame& f);
inline uint16_t protocol_major(uint32_t version) { return static_cast<uint16_t>(version >> 16); }
inline uint16_t protocol_minor(uint32_t version) { return static_cast<uint16_t>(version & 0xFFFF); }

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
  Writer& cstr(std::string_view s);  // string + NUL (cut at an embedded NUL: see framing.cpp)
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
// The SQLSTATE ('C' field) of an ErrorResponse body, empty if it has none or is malformed.
std::string_view error_sqlstate(std::span<const uint8_t> body);

struct ParseMsg {
  std::string_view name, query;
  std::vector<int32_t> param_types;
};
std::optional<ParseMsg> parse_parse(std::span<const uint8_t> body);
// A Parse's statement name and text only (no parameter types, nothing allocated): for the relay,
// which reads them for every Parse it routes.
struct ParseText {
  std::string_view name, query;
};
std::optional<ParseText> parse_text(std::span<const uint8_t> body);

struct BindMsg {
  std::string_view portal, statement;
  std::vector<int16_t> param_formats;
  std::vector<std::optional<std::span<const uint8_t>>> params;  // nullopt = SQL NULL
  std::vector<int16_t> result_formats;
};
std::optional<BindMsg> parse_bind(std::span<const uint8_t> body);
// Just the statement a Bind names, without decoding its parameters (the relay's per-Bind look).
std::optional<std::string_view> bind_statement_name(std::span<const uint8_t> body);

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

// Single-string bodies: Query ('Q'), PasswordMessage ('p' during cleartext/md5 auth), CopyFail
// ('f'), CommandComplete ('C' from the server): exactly one NUL-terminated string, nothing after.
std::optional<std::string_view> parse_query(std::span<const uint8_t> body);
std::optional<std::string_view> parse_password(std::span<const uint8_t> body);
std::optional<std::string_view> parse_copy_fail(std::span<const uint8_t> body);
std::optional<std::string_view> parse_command_complete(std::span<const uint8_t> body);

// SASLInitialResponse ('p' answering AuthenticationSASL). SASLResponse ('p' answering
// AuthenticationSASLContinue) is the raw body and needs no parser.
struct SaslInitialMsg {
  std::string_view mechanism;
  std::optional<std::span<const uint8_t>> data;  // nullopt when the length field is -1
};
std::optional<SaslInitialMsg> parse_sasl_initial(std::span<const uint8_t> body);

// FunctionCall ('F'): fast-path call of a function by OID.
struct FunctionCallMsg {
  int32_t function_oid;
  std::vector<int16_t> arg_formats;
  std::vector<std::optional<std::span<const uint8_t>>> args;  // nullopt = SQL NULL
  int16_t result_format;
};
std::optional<FunctionCallMsg> parse_function_call(std::span<const uint8_t> body);

// Authentication request codes ('R' from the server; the int32 after the length).
inline constexpr int32_t kAuthOk = 0;
inline constexpr int32_t kAuthKerberosV5 = 2;
inline constexpr int32_t kAuthCleartext = 3;
inline constexpr int32_t kAuthMd5 = 5;
inline constexpr int32_t kAuthGss = 7;
inline constexpr int32_t kAuthGssContinue = 8;
inline constexpr int32_t kAuthSspi = 9;
inline constexpr int32_t kAuthSasl = 10;
inline constexpr int32_t kAuthSaslContinue = 11;
inline constexpr int32_t kAuthSaslFinal = 12;

// Authentication request ('R'). Known codes are checked for their exact layout (Ok/cleartext carry
// nothing, MD5 exactly a 4-byte salt, SASL a well-formed mechanism list, ...); unknown codes are
// returned as-is so the caller can report "unsupported authentication method N".
struct AuthRequest {
  int32_t code;
  std::span<const uint8_t> rest;  // bytes after the code: salt, mechanism list or SASL data
};
std::optional<AuthRequest> parse_authentication(std::span<const uint8_t> body);
// Mechanism names of an AuthenticationSASL `rest` (NUL-terminated names, then an empty name).
std::optional<std::vector<std::string_view>> parse_sasl_mechanisms(std::span<const uint8_t> rest);

std::optional<CancelKey> parse_backend_key_data(std::span<const uint8_t> body);
// ReadyForQuery ('Z'): 'I' idle, 'T' in a transaction block, 'E' in a failed transaction block.
std::optional<char> parse_ready_for_query(std::span<const uint8_t> body);

struct NotificationMsg {  // NotificationResponse ('A')
  int32_t pid;
  std::string_view channel, payload;
};
std::optional<NotificationMsg> parse_notification(std::span<const uint8_t> body);

struct NegotiateProtocolVersionMsg {  // NegotiateProtocolVersion ('v')
  int32_t newest_minor;
  std::vector<std::string_view> unsupported_options;
};
std::optional<NegotiateProtocolVersionMsg> parse_negotiate_protocol_version(
    std::span<const uint8_t> body);

struct RowField {  // one column of RowDescription ('T')
  std::string_view name;
  int32_t table_oid;
  int16_t column;
  int32_t type_oid;
  int16_t type_len;
  int32_t type_mod;
  int16_t format;
};
std::optional<std::vector<RowField>> parse_row_description(std::span<const uint8_t> body);
// DataRow ('D'): one entry per column, nullopt = SQL NULL.
std::optional<std::vector<std::optional<std::span<const uint8_t>>>> parse_data_row(
    std::span<const uint8_t> body);

// ---- Builders: each appends one complete message to `out` ---------------------------------------
void error_response(std::string& out, std::string_view severity, std::string_view sqlstate,
                    std::string_view message, std::string_view detail = {}, std::string_view hint = {});
void notice_response(std::string& out, std::string_view sqlstate, std::string_view message);
void warning_response(std::string& out, std::string_view sqlstate, std::string_view message);  // a NoticeResponse
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
void parse_complete(std::string& out);
void bind_complete(std::string& out);
void close_complete(std::string& out);
void no_data(std::string& out);
void notification_response(std::string& out, int32_t pid, std::string_view channel,
                           std::string_view payload);

// Frontend-side builders (the pooler is a client of the server).
void startup_message(std::string& out, const std::vector<std::pair<std::string, std::string>>& params);
void cancel_request(std::string& out, CancelKey key);
void forwarded_cancel_request(std::string& out, CancelKey key);
void ssl_request(std::string& out);
void password_message(std::string& out, std::string_view password);  // also md5 response
void sasl_initial_response(std::string& out, std::string_view mechanism, std::string_view data);
void sasl_response(std::string& out, std::string_view data);
void query(std::string& out, std::string_view sql);
void terminate(std::string& out);
void sync(std::string& out);
void copy_fail(std::string& out, std::string_view reason);

}  // namespace pgopt::protocol
