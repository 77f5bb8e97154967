// Message builders: each appends one complete message, byte-for-byte in the server's (or libpq's)
// format, to an output buffer.
#include "pooler/protocol/codec.hpp"

namespace pgopt::protocol {
namespace {

void empty_message(std::string& out, char type) { Writer(out).begin(type).end(); }

void auth_request(std::string& out, int32_t code, std::string_view data = {}) {
  Writer(out).begin('R').i32(code).raw(data).end();
}

}  // namespace

// ---- Backend ------------------------------------------------------------------------------------

void error_response(std::string& out, std::string_view severity, std::string_view sqlstate,
                    std::string_view message, std::string_view detail, std::string_view hint) {
  // S is the localized severity, V the never-localized one (protocol 3.0, server 9.6+); the pooler
  // does not localize, so both carry the same text.
  Writer w(out);
  w.begin('E').u8('S').cstr(severity).u8('V').cstr(severity).u8('C').cstr(sqlstate).u8('M').cstr(
      message);
  if (!detail.empty()) w.u8('D').cstr(detail);
  if (!hint.empty()) w.u8('H').cstr(hint);
  w.u8(0).end();
}

namespace {

void notice_of(std::string& out, std::string_view severity, std::string_view sqlstate, std::string_view message) {
  Writer(out)
      .begin('N')
      .u8('S')
      .cstr(severity)
      .u8('V')
      .cstr(severity)
      .u8('C')
      .cstr(sqlstate)
      .u8('M')
      .cstr(message)
      .u8(0)
      .end();
}

}  // namespace

void notice_response(std::string& out, std::string_view sqlstate, std::string_view message) {
  notice_of(out, "NOTICE", sqlstate, message);
}

void warning_response(std::string& out, std::string_view sqlstate, std::string_view message) {
  notice_of(out, "WARNING", sqlstate, message);
}

void ready_for_query(std::string& out, char status) {
  Writer(out).begin('Z').u8(static_cast<uint8_t>(status)).end();
}

void auth_ok(std::string& out) { auth_request(out, kAuthOk); }
void auth_cleartext(std::string& out) { auth_request(out, kAuthCleartext); }

void auth_md5(std::string& out, const uint8_t salt[4]) {
  Writer(out).begin('R').i32(kAuthMd5).raw(std::span<const uint8_t>(salt, 4)).end();
}

void auth_sasl(std::string& out, const std::vector<std::string>& mechanisms) {
  Writer w(out);
  w.begin('R').i32(kAuthSasl);
  for (const auto& m : mechanisms) w.cstr(m);
  w.u8(0).end();
}

void auth_sasl_continue(std::string& out, std::string_view data) {
  auth_request(out, kAuthSaslContinue, data);
}

void auth_sasl_final(std::string& out, std::string_view data) {
  auth_request(out, kAuthSaslFinal, data);
}

void parameter_status(std::string& out, std::string_view name, std::string_view value) {
  Writer(out).begin('S').cstr(name).cstr(value).end();
}

void backend_key_data(std::string& out, CancelKey key) {
  Writer(out).begin('K').i32(key.pid).i32(key.secret).end();
}

void negotiate_protocol_version(std::string& out, uint32_t newest_minor,
                                const std::vector<std::string>& unsupported_options) {
  Writer w(out);
  w.begin('v')
      .i32(static_cast<int32_t>(newest_minor))
      .i32(static_cast<int32_t>(unsupported_options.size()));
  for (const auto& o : unsupported_options) w.cstr(o);
  w.end();
}

void command_complete(std::string& out, std::string_view tag) {
  Writer(out).begin('C').cstr(tag).end();
}

void empty_query_response(std::string& out) { empty_message(out, 'I'); }

void row_description(std::string& out, const std::vector<std::string>& text_columns) {
  constexpr int32_t kTextOid = 25;  // pg_type.oid of `text`
  Writer w(out);
  w.begin('T').i16(static_cast<int16_t>(text_columns.size()));
  for (const auto& name : text_columns) {
    // Not a table column (table OID 0, attnum 0); varlena (typlen -1), no typmod, text format.
    w.cstr(name).i32(0).i16(0).i32(kTextOid).i16(-1).i32(-1).i16(0);
  }
  w.end();
}

void data_row(std::string& out, const std::vector<std::optional<std::string>>& values) {
  Writer w(out);
  w.begin('D').i16(static_cast<int16_t>(values.size()));
  for (const auto& v : values) {
    if (v) {
      w.i32(static_cast<int32_t>(v->size())).raw(*v);
    } else {
      w.i32(-1);
    }
  }
  w.end();
}

void parse_complete(std::string& out) { empty_message(out, '1'); }
void bind_complete(std::string& out) { empty_message(out, '2'); }
void close_complete(std::string& out) { empty_message(out, '3'); }
void no_data(std::string& out) { empty_message(out, 'n'); }

void notification_response(std::string& out, int32_t pid, std::string_view channel,
                           std::string_view payload) {
  Writer(out).begin('A').i32(pid).cstr(channel).cstr(payload).end();
}

// ---- Frontend -----------------------------------------------------------------------------------

void startup_message(std::string& out,
                     const std::vector<std::pair<std::string, std::string>>& params) {
  Writer w(out);
  w.begin_untyped().i32(static_cast<int32_t>(kProtocolV3));
  for (const auto& [name, value] : params) w.cstr(name).cstr(value);
  w.u8(0).end();
}

namespace {
void cancel_with_code(std::string& out, uint32_t code, CancelKey key) {
  Writer(out).begin_untyped().i32(static_cast<int32_t>(code)).i32(key.pid).i32(key.secret).end();
}
}  // namespace

void cancel_request(std::string& out, CancelKey key) { cancel_with_code(out, kCancelRequestCode, key); }

void forwarded_cancel_request(std::string& out, CancelKey key) { cancel_with_code(out, kForwardedCancelCode, key); }

void ssl_request(std::string& out) {
  Writer(out).begin_untyped().i32(static_cast<int32_t>(kSslRequestCode)).end();
}

void password_message(std::string& out, std::string_view password) {
  Writer(out).begin('p').cstr(password).end();
}

void sasl_initial_response(std::string& out, std::string_view mechanism, std::string_view data) {
  Writer(out).begin('p').cstr(mechanism).i32(static_cast<int32_t>(data.size())).raw(data).end();
}

void sasl_response(std::string& out, std::string_view data) {
  Writer(out).begin('p').raw(data).end();
}

void query(std::string& out, std::string_view sql) { Writer(out).begin('Q').cstr(sql).end(); }
void terminate(std::string& out) { empty_message(out, 'X'); }
void sync(std::string& out) { empty_message(out, 'S'); }

void copy_fail(std::string& out, std::string_view reason) { Writer(out).begin('f').cstr(reason).end(); }

}  // namespace pgopt::protocol
