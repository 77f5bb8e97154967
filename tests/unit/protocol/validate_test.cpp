// validate_frontend: every frontend message type, valid and each kind of invalid, and agreement
// with the typed parsers on mutated messages.
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "tests/unit/protocol/protocol_test_util.hpp"

namespace pgopt::protocol {
namespace {

using test::as_bytes;
using test::from_hex;
using namespace std::string_literals;

std::string validate(char type, std::string_view body) {
  Frame f;
  f.type = type;
  f.body = as_bytes(body);
  f.size = body.size() + 5;
  return validate_frontend(f);
}

// Message bodies written field by field (not with the builders, which are tested elsewhere).
struct Body {
  std::string s;
  Body& cstr(std::string_view v) {
    s.append(v);
    s.push_back('\0');
    return *this;
  }
  Body& i16(int v) {
    s.push_back(static_cast<char>((v >> 8) & 0xff));
    s.push_back(static_cast<char>(v & 0xff));
    return *this;
  }
  Body& i32(int64_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
      s.push_back(static_cast<char>((v >> shift) & 0xff));
    return *this;
  }
  Body& raw(std::string_view v) {
    s.append(v);
    return *this;
  }
  Body& u8(char c) {
    s.push_back(c);
    return *this;
  }
  operator std::string() const { return s; }
};

struct Case {
  char type;
  std::string body;
  std::string error;  // "" when valid
};

void run(const std::vector<Case>& cases) {
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    EXPECT_EQ(validate(c.type, c.body), c.error) << "case " << i << " type " << c.type;
  }
}

TEST(ValidateFrontend, Query) {
  run({
      {'Q', "select 1\0"s, ""},
      {'Q', "\0"s, ""},  // empty query string: the server answers EmptyQueryResponse
      {'Q', "", "invalid Query message: query string is not NUL-terminated"},
      {'Q', "select 1", "invalid Query message: query string is not NUL-terminated"},
      {'Q', "select 1\0;\0"s,
       "invalid Query message: 2 unexpected trailing byte(s) after the query string"},
      {'Q', "a\0\0"s,
       "invalid Query message: 1 unexpected trailing byte(s) after the query string"},
  });
}

TEST(ValidateFrontend, Parse) {
  run({
      {'P', Body().cstr("").cstr("select $1, $2").i16(2).i32(23).i32(0), ""},
      {'P', Body().cstr("stmt1").cstr("select 1").i16(0), ""},
      {'P', Body().cstr("s").cstr("q").i16(1).i32(0xFFFFFFFFll), ""},  // any OID value
      {'P', "stmt", "invalid Parse message: statement name is not NUL-terminated"},
      {'P', Body().cstr("s").raw("select"),
       "invalid Parse message: query string is not NUL-terminated"},
      {'P', Body().cstr("s").cstr("q"),
       "invalid Parse message: message ends before the parameter type count"},
      {'P', Body().cstr("s").cstr("q").u8(0),
       "invalid Parse message: message ends before the parameter type count"},
      {'P', Body().cstr("s").cstr("q").i16(2).i32(23),
       "invalid Parse message: 2 parameter types declared but only 4 byte(s) left"},
      {'P', Body().cstr("s").cstr("q").i16(1).i32(23).u8('x'),
       "invalid Parse message: 1 unexpected trailing byte(s)"},
      // 0xFFFF is 65535 parameters (the server reads counts unsigned), not -1
      {'P', Body().cstr("s").cstr("q").i16(0xFFFF),
       "invalid Parse message: 65535 parameter types declared but only 0 byte(s) left"},
  });
}

Body bind_head(int nformats_field) {
  return std::move(Body().cstr("p").cstr("s").i16(nformats_field));
}

TEST(ValidateFrontend, Bind) {
  run({
      {'B', Body().cstr("").cstr("").i16(0).i16(0).i16(0), ""},
      // one format code applies to all parameters
      {'B',
       Body().cstr("").cstr("s1").i16(1).i16(1).i16(2).i32(4).raw("\0\0\0\x2a"s).i32(-1).i16(0),
       ""},
      // one format per parameter, an empty value and a NULL, one result format per column
      {'B',
       Body().cstr("p").cstr("s").i16(2).i16(0).i16(1).i16(2).i32(0).i32(-1).i16(2).i16(1).i16(0),
       ""},
      {'B', "p", "invalid Bind message: portal name is not NUL-terminated"},
      {'B', Body().cstr("p").raw("s"),
       "invalid Bind message: statement name is not NUL-terminated"},
      {'B', Body().cstr("p").cstr("s"),
       "invalid Bind message: message ends before the parameter format count"},
      {'B', bind_head(1).i16(2).i16(0).i16(0),
       "invalid Bind message: parameter format code 2 is not 0 (text) or 1 (binary)"},
      {'B', bind_head(1).i16(-1).i16(0).i16(0),
       "invalid Bind message: parameter format code -1 is not 0 (text) or 1 (binary)"},
      {'B', bind_head(3).i16(0).i16(0),
       "invalid Bind message: 3 parameter format codes declared but only 4 byte(s) left"},
      {'B', bind_head(0), "invalid Bind message: message ends before the parameter count"},
      {'B', bind_head(3).i16(0).i16(0).i16(0).i16(2).i32(-1).i32(-1).i16(0),
       "invalid Bind message: 3 parameter format codes for 2 parameters (must be 0, 1 or 2)"},
      {'B', bind_head(0).i16(2).i32(-1),
       "invalid Bind message: message ends before the length of parameter 2 of 2"},
      {'B', bind_head(0).i16(1).i32(-2).i16(0),
       "invalid Bind message: parameter 1 has invalid length -2"},
      {'B', bind_head(0).i16(2).i32(-1).i32(10).raw("short").i16(0),
       "invalid Bind message: parameter 2 length 10 exceeds the 7 byte(s) left in the message"},
      {'B', bind_head(0).i16(1).i32(0x7fffffff).i16(0),
       "invalid Bind message: parameter 1 length 2147483647 exceeds the 2 byte(s) left in the "
       "message"},
      {'B', bind_head(0).i16(0),
       "invalid Bind message: message ends before the result format count"},
      {'B', bind_head(0).i16(0).i16(2).i16(1).i16(5),
       "invalid Bind message: result format code 5 is not 0 (text) or 1 (binary)"},
      {'B', bind_head(0).i16(0).i16(1),
       "invalid Bind message: 1 result format codes declared but only 0 byte(s) left"},
      {'B', bind_head(0).i16(0).i16(0).u8('\0'),
       "invalid Bind message: 1 unexpected trailing byte(s)"},
  });
}

TEST(ValidateFrontend, BindWithMoreThan32767Parameters) {
  // The count is unsigned on the wire: 40000 NULL parameters with one text format code.
  Body b = bind_head(1);
  b.i16(0).i16(40000);
  for (int i = 0; i < 40000; ++i) b.i32(-1);
  b.i16(0);
  EXPECT_EQ(validate('B', b.s), "");
  auto m = parse_bind(as_bytes(b.s));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.size(), 40000u);
}

TEST(ValidateFrontend, Execute) {
  run({
      {'E', Body().cstr("").i32(0), ""},
      {'E', Body().cstr("portal").i32(100), ""},
      {'E', Body().cstr("").i32(-5), ""},  // the server treats <= 0 as "all rows"
      {'E', "portal", "invalid Execute message: portal name is not NUL-terminated"},
      {'E', Body().cstr("").i16(0), "invalid Execute message: message ends before the row limit"},
      {'E', Body().cstr("").i32(0).u8('x'),
       "invalid Execute message: 1 unexpected trailing byte(s)"},
  });
}

TEST(ValidateFrontend, DescribeAndClose) {
  for (auto [type, name] : {std::pair{'D', "Describe"}, std::pair{'C', "Close"}}) {
    std::string prefix = "invalid "s + name + " message: ";
    run({
        {type, Body().u8('S').cstr(""), ""},
        {type, Body().u8('P').cstr("portal_1"), ""},
        {type, "", prefix + "message ends before the kind byte"},
        {type, Body().u8('X').cstr(""), prefix + "kind 'X' is not 'S' (statement) or 'P' (portal)"},
        {type, Body().u8('\0').cstr(""),
         prefix + "kind '\\x00' is not 'S' (statement) or 'P' (portal)"},
        {type, Body().u8('s').cstr(""), prefix + "kind 's' is not 'S' (statement) or 'P' (portal)"},
        {type, "S", prefix + "name is not NUL-terminated"},
        {type, Body().u8('S').cstr("a").cstr("b"), prefix + "2 unexpected trailing byte(s)"},
    });
  }
}

TEST(ValidateFrontend, FunctionCall) {
  // lo_open(oid, mode) as libpq sends it: one binary format code for both arguments, binary result.
  std::string lo_open =
      Body().i32(952).i16(1).i16(1).i16(2).i32(4).i32(16424).i32(4).i32(0x20000).i16(1);
  run({
      {'F', lo_open, ""},
      {'F', Body().i32(1).i16(0).i16(0).i16(0), ""},
      {'F', Body().i32(1).i16(2).i16(0).i16(1).i16(2).i32(-1).i32(0).i16(0), ""},
      {'F', Body().i16(0), "invalid FunctionCall message: message ends before the function OID"},
      {'F', Body().i32(1).i16(1).i16(3).i16(0).i16(0),
       "invalid FunctionCall message: argument format code 3 is not 0 (text) or 1 (binary)"},
      {'F', Body().i32(1).i16(2).i16(0).i16(0).i16(1).i32(-1).i16(0),
       "invalid FunctionCall message: 2 argument format codes for 1 arguments (must be 0, 1 or 1)"},
      {'F', Body().i32(1).i16(0).i16(1).i32(-7).i16(0),
       "invalid FunctionCall message: argument 1 has invalid length -7"},
      {'F', Body().i32(1).i16(0).i16(1).i32(9).raw("abc").i16(0),
       "invalid FunctionCall message: argument 1 length 9 exceeds the 5 byte(s) left in the "
       "message"},
      {'F', Body().i32(1).i16(0).i16(0),
       "invalid FunctionCall message: message ends before the result format code"},
      {'F', Body().i32(1).i16(0).i16(0).i16(2),
       "invalid FunctionCall message: result format code 2 is not 0 (text) or 1 (binary)"},
      {'F', Body().i32(1).i16(0).i16(0).i16(0).u8('\0'),
       "invalid FunctionCall message: 1 unexpected trailing byte(s)"},
  });
}

TEST(ValidateFrontend, EmptyMessages) {
  for (auto [type, name] : {std::pair{'S', "Sync"}, std::pair{'H', "Flush"},
                            std::pair{'X', "Terminate"}, std::pair{'c', "CopyDone"}}) {
    EXPECT_EQ(validate(type, ""), "");
    EXPECT_EQ(validate(type, "x"),
              "invalid "s + name + " message: expected an empty body, got 1 byte(s)");
    EXPECT_EQ(validate(type, "\0\0\0"s),
              "invalid "s + name + " message: expected an empty body, got 3 byte(s)");
  }
}

TEST(ValidateFrontend, CopyMessages) {
  run({
      {'d', "", ""},
      {'d', "1\t2\n\0\xff"s, ""},
      {'f', "COPY aborted by the user\0"s, ""},
      {'f', "aborted", "invalid CopyFail message: error message is not NUL-terminated"},
      {'f', "a\0b\0"s,
       "invalid CopyFail message: 2 unexpected trailing byte(s) after the error message"},
  });
}

TEST(ValidateFrontend, AuthenticationResponsesAreLeftToTheAuthCode) {
  run({
      {'p', "", ""},
      {'p', "md5abc\0"s, ""},
      {'p', "\xff\xfe garbage without NUL"s, ""},
  });
}

TEST(ValidateFrontend, UnknownTypes) {
  run({
      {'Z', "", "unknown message type 'Z'"},
      {'q', "select 1\0"s, "unknown message type 'q'"},
      {'\x01', "", "unknown message type '\\x01'"},
      {'\xff', "", "unknown message type '\\xff'"},
      {'\0', "", "unknown message type '\\x00'"},
  });
  for (int t = 0; t < 256; ++t) {
    char c = static_cast<char>(t);
    bool unknown = validate(c, "").rfind("unknown message type", 0) == 0;
    EXPECT_EQ(unknown, !is_frontend_type(c)) << "type " << t;
    EXPECT_EQ(message_name(c, false) == "unknown", !is_frontend_type(c)) << "type " << t;
  }
}

TEST(MessageName, NamesBothDirections) {
  EXPECT_EQ(message_name('P', false), "Parse");
  EXPECT_EQ(message_name('p', false), "PasswordMessage");
  EXPECT_EQ(message_name('D', false), "Describe");
  EXPECT_EQ(message_name('D', true), "DataRow");
  EXPECT_EQ(message_name('C', true), "CommandComplete");
  EXPECT_EQ(message_name('C', false), "Close");
  EXPECT_EQ(message_name('S', true), "ParameterStatus");
  EXPECT_EQ(message_name('S', false), "Sync");
  EXPECT_EQ(message_name('v', true), "NegotiateProtocolVersion");
  EXPECT_EQ(message_name('Q', true), "unknown");
  const std::string backend_types = "RK23CdcGHWDIEVvnNAtS1sZT";
  for (char c : backend_types) EXPECT_NE(message_name(c, true), "unknown") << c;
  int named = 0;
  for (int t = 0; t < 256; ++t) named += message_name(static_cast<char>(t), true) != "unknown";
  EXPECT_EQ(named, static_cast<int>(backend_types.size()));
}

// validate_frontend and the typed parser must agree on every message, including broken ones: the
// relay validates, then later code parses, and a disagreement would be a crash or a bypass.
TEST(ValidateFrontend, AgreesWithTypedParsersOnMutations) {
  using Parser = std::function<bool(std::span<const uint8_t>)>;
  const std::vector<std::pair<char, Parser>> parsers = {
      {'P', [](auto b) { return parse_parse(b).has_value(); }},
      {'B', [](auto b) { return parse_bind(b).has_value(); }},
      {'E', [](auto b) { return parse_execute(b).has_value(); }},
      {'D', [](auto b) { return parse_named_target(b).has_value(); }},
      {'C', [](auto b) { return parse_named_target(b).has_value(); }},
      {'F', [](auto b) { return parse_function_call(b).has_value(); }},
      {'Q', [](auto b) { return parse_query(b).has_value(); }},
      {'f', [](auto b) { return parse_copy_fail(b).has_value(); }},
  };
  const std::vector<std::pair<char, std::string>> seeds = {
      {'P', Body().cstr("s").cstr("select $1").i16(1).i32(23)},
      {'B',
       Body().cstr("").cstr("s").i16(2).i16(0).i16(1).i16(2).i32(1).raw("x").i32(-1).i16(1).i16(1)},
      {'E', Body().cstr("p").i32(7)},
      {'D', Body().u8('S').cstr("s")},
      {'C', Body().u8('P').cstr("")},
      {'F', Body().i32(952).i16(1).i16(1).i16(1).i32(4).i32(5).i16(1)},
      {'Q', Body().cstr("select 1")},
      {'f', Body().cstr("oops")},
  };
  std::mt19937 rng(99);
  int valid = 0, invalid = 0;
  for (const auto& [type, seed] : seeds) {
    Parser parse;
    for (const auto& [t, p] : parsers) {
      if (t == type) parse = p;
    }
    ASSERT_EQ(validate(type, seed), "") << type;
    auto check = [&](const std::string& body) {
      bool ok = validate(type, body).empty();
      ASSERT_EQ(ok, parse(as_bytes(body))) << type << " body " << testing::PrintToString(body);
      (ok ? valid : invalid)++;
    };
    for (size_t n = 0; n <= seed.size(); ++n) check(seed.substr(0, n));
    for (size_t i = 0; i < seed.size(); ++i) {
      for (int v : {0, 1, 2, 0x7f, 0x80, 0xff, int{'S'}, int{'P'}}) {
        std::string m = seed;
        m[i] = static_cast<char>(v);
        check(m);
      }
    }
    for (int iter = 0; iter < 2000; ++iter) {
      std::string m = seed;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !m.empty(); ++e) {
        size_t pos = rng() % m.size();
        switch (rng() % 3) {
          case 0:
            m[pos] = static_cast<char>(rng());
            break;
          case 1:
            m.erase(pos, 1);
            break;
          default:
            m.insert(pos, 1, static_cast<char>(rng() % 3));
            break;
        }
      }
      check(m);
    }
  }
  EXPECT_GT(valid, 100);  // the mutations exercise both outcomes
  EXPECT_GT(invalid, 1000);
}

}  // namespace
}  // namespace pgopt::protocol
