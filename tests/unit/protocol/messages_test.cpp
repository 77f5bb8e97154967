// Builders produce the server's/libpq's exact bytes, and round-trip through decode_frame and the
// typed parsers; typed parsers reject truncation and trailing bytes.
#include <gtest/gtest.h>

#include <functional>

#include "tests/unit/protocol/protocol_test_util.hpp"

namespace pgopt::protocol {
namespace {

using test::as_bytes;
using test::as_string;
using test::from_hex;
using namespace std::string_literals;

// Decodes exactly one frame that must fill `msg`, checking its type.
Frame only_frame(const std::string& msg, char type) {
  auto r = decode_frame(as_bytes(msg), 1u << 20);
  EXPECT_EQ(r.status, DecodeStatus::Frame) << r.error;
  EXPECT_EQ(r.frame.size, msg.size());
  EXPECT_EQ(r.frame.type, type);
  return r.frame;
}

template <typename F>
std::string build(F f) {
  std::string out;
  f(out);
  return out;
}

// Every strict prefix of the body and the body plus one byte must be rejected by the parser.
void expect_exact_layout(const std::string& msg,
                         const std::function<bool(std::span<const uint8_t>)>& ok) {
  std::string body = msg.substr(5);
  ASSERT_TRUE(ok(as_bytes(body))) << testing::PrintToString(body);
  for (size_t n = 0; n < body.size(); ++n) {
    EXPECT_FALSE(ok(as_bytes(body.substr(0, n))))
        << "prefix " << n << " of " << testing::PrintToString(body);
  }
  for (char extra : {'\0', 'x'}) EXPECT_FALSE(ok(as_bytes(body + extra)));
}

TEST(Builders, ErrorResponseBytesAndRoundTrip) {
  auto msg = build([](auto& o) { error_response(o, "FATAL", "08P01", "bad", "more"); });
  EXPECT_EQ(msg, "E\0\0\0\x25"s + "SFATAL\0VFATAL\0C08P01\0Mbad\0Dmore\0\0"s);
  auto f = only_frame(msg, 'E');
  auto fields = parse_error_fields(f.body);
  ASSERT_TRUE(fields);
  ASSERT_EQ(fields->size(), 5u);
  EXPECT_EQ(error_field(*fields, 'S'), "FATAL");
  EXPECT_EQ(error_field(*fields, 'V'), "FATAL");
  EXPECT_EQ(error_field(*fields, 'C'), "08P01");
  EXPECT_EQ(error_field(*fields, 'M'), "bad");
  EXPECT_EQ(error_field(*fields, 'D'), "more");
  EXPECT_EQ(error_field(*fields, 'H'), "");
  expect_exact_layout(msg, [](auto b) { return parse_error_fields(b).has_value(); });

  auto no_detail = build([](auto& o) { error_response(o, "ERROR", "42601", "syntax"); });
  EXPECT_EQ(no_detail, "E\0\0\0\x22"s + "SERROR\0VERROR\0C42601\0Msyntax\0\0"s);
}

TEST(Builders, NoticeResponse) {
  auto msg = build([](auto& o) { notice_response(o, "01000", "careful"); });
  auto f = only_frame(msg, 'N');
  auto fields = parse_error_fields(f.body);
  ASSERT_TRUE(fields);
  EXPECT_EQ(error_field(*fields, 'S'), "NOTICE");
  EXPECT_EQ(error_field(*fields, 'V'), "NOTICE");
  EXPECT_EQ(error_field(*fields, 'C'), "01000");
  EXPECT_EQ(error_field(*fields, 'M'), "careful");
}

TEST(TypedParsers, ErrorFieldsFromTheServer) {
  // Captured from PostgreSQL 15 (psql_scram_session.txt): SELECT 1/0.
  std::string body = from_hex(
      "534552524f5200564552524f5200433232303132004d6469766973696f6e206279207a65726f00"
      "46696e742e63004c3836390052696e74346469760000");
  auto fields = parse_error_fields(as_bytes(body));
  ASSERT_TRUE(fields);
  EXPECT_EQ(error_field(*fields, 'C'), "22012");
  EXPECT_EQ(error_field(*fields, 'M'), "division by zero");
  EXPECT_EQ(error_field(*fields, 'R'), "int4div");
  EXPECT_EQ(error_field(*fields, 'L'), "869");
  EXPECT_EQ(fields->size(), 7u);
  EXPECT_EQ(error_sqlstate(as_bytes(body)), "22012");
  EXPECT_EQ(error_sqlstate(as_bytes("Mno code\0\0"s)), "");
  EXPECT_EQ(error_sqlstate(as_bytes("C235")), "");  // cut short: no terminator
  EXPECT_EQ(error_sqlstate(as_bytes("")), "");
  EXPECT_FALSE(parse_error_fields(as_bytes("")));
  EXPECT_FALSE(parse_error_fields(as_bytes("Mno nul")));
}

TEST(Builders, ReadyForQuery) {
  for (char s : {'I', 'T', 'E'}) {
    auto msg = build([s](auto& o) { ready_for_query(o, s); });
    EXPECT_EQ(msg, "Z\0\0\0\x05"s + s);
    EXPECT_EQ(parse_ready_for_query(only_frame(msg, 'Z').body), s);
  }
  EXPECT_FALSE(parse_ready_for_query(as_bytes("X")));
  EXPECT_FALSE(parse_ready_for_query(as_bytes("")));
  EXPECT_FALSE(parse_ready_for_query(as_bytes("II")));
}

TEST(Builders, AuthenticationRequests) {
  EXPECT_EQ(build(auth_ok), from_hex("52 00000008 00000000"));
  EXPECT_EQ(build(auth_cleartext), from_hex("52 00000008 00000003"));
  const uint8_t salt[4] = {0x8e, 0x0c, 0x8f, 0xa4};
  auto md5 = build([&](auto& o) { auth_md5(o, salt); });
  EXPECT_EQ(md5, from_hex("520000000c000000058e0c8fa4"));  // captured: psql_md5_select.txt
  auto sasl = build([](auto& o) { auth_sasl(o, {"SCRAM-SHA-256"}); });
  EXPECT_EQ(sasl, from_hex("52000000170000000a534352414d2d5348412d3235360000"));  // captured
  auto cont = build([](auto& o) { auth_sasl_continue(o, "r=abc,s=xyz,i=4096"); });
  auto fin = build([](auto& o) { auth_sasl_final(o, "v=proof"); });

  auto a = parse_authentication(only_frame(md5, 'R').body);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, kAuthMd5);
  EXPECT_EQ(as_string(a->rest), from_hex("8e0c8fa4"));
  a = parse_authentication(only_frame(sasl, 'R').body);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, kAuthSasl);
  auto mechs = parse_sasl_mechanisms(a->rest);
  ASSERT_TRUE(mechs);
  EXPECT_EQ(*mechs, (std::vector<std::string_view>{"SCRAM-SHA-256"}));
  auto two = build([](auto& o) { auth_sasl(o, {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}); });
  mechs = parse_sasl_mechanisms(parse_authentication(only_frame(two, 'R').body)->rest);
  ASSERT_TRUE(mechs);
  EXPECT_EQ(mechs->size(), 2u);
  a = parse_authentication(only_frame(cont, 'R').body);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, kAuthSaslContinue);
  EXPECT_EQ(as_string(a->rest), "r=abc,s=xyz,i=4096");
  a = parse_authentication(only_frame(fin, 'R').body);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, kAuthSaslFinal);
  EXPECT_EQ(as_string(a->rest), "v=proof");

  for (const auto& m : {build(auth_ok), build(auth_cleartext), md5, sasl}) {
    expect_exact_layout(m, [](auto b) { return parse_authentication(b).has_value(); });
  }
  // Unknown codes pass through for the caller to report.
  std::string unknown = from_hex("00000063 0102");
  a = parse_authentication(as_bytes(unknown));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, 99);
  EXPECT_EQ(a->rest.size(), 2u);
  EXPECT_FALSE(parse_authentication(as_bytes(from_hex("000000"))));
}

TEST(Builders, ParameterStatusMatchesTheServer) {
  auto msg = build([](auto& o) { parameter_status(o, "application_name", "psql"); });
  EXPECT_EQ(msg, from_hex("530000001a6170706c69636174696f6e5f6e616d65007073716c00"));  // captured
  auto p = parse_parameter_status(only_frame(msg, 'S').body);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->name, "application_name");
  EXPECT_EQ(p->value, "psql");
  expect_exact_layout(msg, [](auto b) { return parse_parameter_status(b).has_value(); });
}

TEST(Builders, BackendKeyData) {
  auto msg = build([](auto& o) { backend_key_data(o, {0x2250, 0x0dabdd6a}); });
  EXPECT_EQ(msg, from_hex("4b0000000c000022500dabdd6a"));  // captured
  EXPECT_EQ(parse_backend_key_data(only_frame(msg, 'K').body), (CancelKey{0x2250, 0x0dabdd6a}));
  expect_exact_layout(msg, [](auto b) { return parse_backend_key_data(b).has_value(); });
}

TEST(Builders, NegotiateProtocolVersion) {
  auto msg = build([](auto& o) { negotiate_protocol_version(o, 0, {"_pq_.a", "_pq_.bc"}); });
  EXPECT_EQ(msg, "v\0\0\0\x1b"s + "\0\0\0\0"s + "\0\0\0\x02"s + "_pq_.a\0_pq_.bc\0"s);
  auto v = parse_negotiate_protocol_version(only_frame(msg, 'v').body);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->newest_minor, 0);
  EXPECT_EQ(v->unsupported_options, (std::vector<std::string_view>{"_pq_.a", "_pq_.bc"}));
  expect_exact_layout(msg, [](auto b) { return parse_negotiate_protocol_version(b).has_value(); });
  auto none = build([](auto& o) { negotiate_protocol_version(o, 0, {}); });
  EXPECT_EQ(none, "v\0\0\0\x0c"s + std::string(8, '\0'));
  EXPECT_FALSE(parse_negotiate_protocol_version(as_bytes(from_hex("00000000 ffffffff"))));
}

TEST(Builders, QueryResultMessages) {
  auto cc = build([](auto& o) { command_complete(o, "SELECT 1"); });
  EXPECT_EQ(cc,
            "C\0\0\0\x0d"
            "SELECT 1\0"s);
  EXPECT_EQ(parse_command_complete(only_frame(cc, 'C').body), "SELECT 1");
  expect_exact_layout(cc, [](auto b) { return parse_command_complete(b).has_value(); });
  EXPECT_EQ(build(empty_query_response), "I\0\0\0\x04"s);
  EXPECT_EQ(build(parse_complete), "1\0\0\0\x04"s);
  EXPECT_EQ(build(bind_complete), "2\0\0\0\x04"s);
  EXPECT_EQ(build(close_complete), "3\0\0\0\x04"s);
  EXPECT_EQ(build(no_data), "n\0\0\0\x04"s);
}

TEST(Builders, RowDescriptionForTextColumns) {
  auto msg = build([](auto& o) { row_description(o, {"a", "bc"}); });
  EXPECT_EQ(msg, "T\0\0\0\x2f\0\x02"s + "a\0"s +
                     from_hex("00000000 0000 00000019 ffff ffffffff 0000") + "bc\0"s +
                     from_hex("00000000 0000 00000019 ffff ffffffff 0000"));
  auto cols = parse_row_description(only_frame(msg, 'T').body);
  ASSERT_TRUE(cols);
  ASSERT_EQ(cols->size(), 2u);
  EXPECT_EQ((*cols)[1].name, "bc");
  EXPECT_EQ((*cols)[1].table_oid, 0);
  EXPECT_EQ((*cols)[1].column, 0);
  EXPECT_EQ((*cols)[1].type_oid, 25);
  EXPECT_EQ((*cols)[1].type_len, -1);
  EXPECT_EQ((*cols)[1].type_mod, -1);
  EXPECT_EQ((*cols)[1].format, 0);
  expect_exact_layout(msg, [](auto b) { return parse_row_description(b).has_value(); });
  EXPECT_EQ(build([](auto& o) { row_description(o, {}); }), "T\0\0\0\x06\0\0"s);
}

TEST(Builders, DataRowWithNulls) {
  auto msg = build([](auto& o) { data_row(o, {std::string("1"), std::nullopt, std::string("")}); });
  EXPECT_EQ(msg, "D\0\0\0\x13\0\x03"s + from_hex("00000001 31 ffffffff 00000000"));
  auto row = parse_data_row(only_frame(msg, 'D').body);
  ASSERT_TRUE(row);
  ASSERT_EQ(row->size(), 3u);
  EXPECT_EQ(as_string(*(*row)[0]), "1");
  EXPECT_FALSE((*row)[1]);
  ASSERT_TRUE((*row)[2]);
  EXPECT_TRUE((*row)[2]->empty());
  expect_exact_layout(msg, [](auto b) { return parse_data_row(b).has_value(); });
  EXPECT_FALSE(parse_data_row(as_bytes(from_hex("0001 fffffffe"))));
}

TEST(Builders, NotificationResponse) {
  auto msg = build([](auto& o) { notification_response(o, 8769, "ch", "hi"); });
  // captured (psql_scram_session.txt): NOTIFY ch, 'hi' from backend 8769
  EXPECT_EQ(msg, from_hex("410000000e00002241636800686900"));
  auto n = parse_notification(only_frame(msg, 'A').body);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->pid, 8769);
  EXPECT_EQ(n->channel, "ch");
  EXPECT_EQ(n->payload, "hi");
  expect_exact_layout(msg, [](auto b) { return parse_notification(b).has_value(); });
}

TEST(Builders, FrontendAuthenticationMessages) {
  auto pw = build([](auto& o) { password_message(o, "md5372fee56ad73f6167e888b3eda794069"); });
  // captured: psql_md5_select.txt
  EXPECT_EQ(pw, from_hex("70000000286d6435333732666565353661643733663631363765383838623365"
                         "646137393430363900"));
  EXPECT_EQ(parse_password(only_frame(pw, 'p').body), "md5372fee56ad73f6167e888b3eda794069");
  expect_exact_layout(pw, [](auto b) { return parse_password(b).has_value(); });

  auto init = build([](auto& o) { sasl_initial_response(o, "SCRAM-SHA-256", "n,,n=,r=abc"); });
  EXPECT_EQ(init,
            "p\0\0\0\x21"
            "SCRAM-SHA-256\0\0\0\0\x0b"
            "n,,n=,r=abc"s);
  auto si = parse_sasl_initial(only_frame(init, 'p').body);
  ASSERT_TRUE(si);
  EXPECT_EQ(si->mechanism, "SCRAM-SHA-256");
  ASSERT_TRUE(si->data);
  EXPECT_EQ(as_string(*si->data), "n,,n=,r=abc");
  expect_exact_layout(init, [](auto b) { return parse_sasl_initial(b).has_value(); });
  std::string null_data = "SCRAM-SHA-256\0\xff\xff\xff\xff"s;
  auto no_data = parse_sasl_initial(as_bytes(null_data));
  ASSERT_TRUE(no_data);
  EXPECT_FALSE(no_data->data);
  EXPECT_FALSE(parse_sasl_initial(as_bytes("SCRAM-SHA-256\0\xff\xff\xff\xfe"s)));

  auto resp = build([](auto& o) { sasl_response(o, "c=biws,r=abc,p=proof"); });
  EXPECT_EQ(resp,
            "p\0\0\0\x18"
            "c=biws,r=abc,p=proof"s);
}

TEST(Builders, FrontendQueryMessagesValidate) {
  auto q = build([](auto& o) { query(o, "SELECT 1"); });
  EXPECT_EQ(q,
            "Q\0\0\0\x0d"
            "SELECT 1\0"s);
  EXPECT_EQ(parse_query(only_frame(q, 'Q').body), "SELECT 1");
  EXPECT_EQ(build(terminate), "X\0\0\0\x04"s);
  EXPECT_EQ(build(sync), "S\0\0\0\x04"s);
  for (const auto& m :
       {q, build(terminate), build(sync), build([](auto& o) { password_message(o, "pw"); })}) {
    auto f = only_frame(m, m[0]);
    EXPECT_EQ(validate_frontend(f), "") << m[0];
  }
}

TEST(TypedParsers, FrontendMessagesExposeTheirFields) {
  std::string parse_body = "s1\0select $1\0\0\x01\0\0\0\x17"s;
  auto p = parse_parse(as_bytes(parse_body));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->name, "s1");
  EXPECT_EQ(p->query, "select $1");
  EXPECT_EQ(p->param_types, (std::vector<int32_t>{23}));

  std::string bind_body = "\0s1\0\0\x01\0\x01\0\x02\0\0\0\x02hi\xff\xff\xff\xff\0\x01\0\x01"s;
  auto b = parse_bind(as_bytes(bind_body));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->portal, "");
  EXPECT_EQ(b->statement, "s1");
  EXPECT_EQ(b->param_formats, (std::vector<int16_t>{1}));
  ASSERT_EQ(b->params.size(), 2u);
  EXPECT_EQ(as_string(*b->params[0]), "hi");
  EXPECT_FALSE(b->params[1]);
  EXPECT_EQ(b->result_formats, (std::vector<int16_t>{1}));

  std::string exec_body = "portal\0\0\0\0\x0a"s;
  auto e = parse_execute(as_bytes(exec_body));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->portal, "portal");
  EXPECT_EQ(e->max_rows, 10);

  std::string target_body = "Sstmt\0"s;
  auto t = parse_named_target(as_bytes(target_body));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, 'S');
  EXPECT_EQ(t->name, "stmt");

  std::string fc_body = from_hex("000003b8 0001 0001 0002 00000004 00004028 ffffffff 0001");
  auto fc = parse_function_call(as_bytes(fc_body));
  ASSERT_TRUE(fc);
  EXPECT_EQ(fc->function_oid, 952);
  EXPECT_EQ(fc->arg_formats, (std::vector<int16_t>{1}));
  ASSERT_EQ(fc->args.size(), 2u);
  EXPECT_EQ(as_string(*fc->args[0]), from_hex("00004028"));
  EXPECT_FALSE(fc->args[1]);
  EXPECT_EQ(fc->result_format, 1);

  EXPECT_EQ(parse_copy_fail(as_bytes("aborted\0"s)), "aborted");
}

}  // namespace
}  // namespace pgopt::protocol
