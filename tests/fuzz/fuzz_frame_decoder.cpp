// libFuzzer target for the wire-protocol codec: frames arbitrary bytes as a startup packet and as a
// stream of typed messages, runs every validator and typed parser on each frame, and checks that
// parsers and validators agree and that parsed messages re-encode to the exact bytes they came
// from.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "pooler/protocol/codec.hpp"

namespace {

using namespace pgopt::protocol;

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

using Values = std::vector<std::optional<std::span<const uint8_t>>>;

std::string_view text(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

void write_values(Writer& w, const Values& values) {
  for (const auto& v : values) {
    if (v) {
      w.i32(static_cast<int32_t>(v->size())).raw(*v);
    } else {
      w.i32(-1);
    }
  }
}

// Re-encodes a parsed body with the Writer and requires byte equality: a parser that skipped,
// misread or invented a field cannot pass this.
template <typename Build>
void expect_reencodes(std::span<const uint8_t> body, Build build) {
  std::string out;
  Writer w(out);
  w.begin('?');
  build(w);
  w.end();
  FUZZ_CHECK(out.size() == body.size() + 5);
  FUZZ_CHECK(text(body) == std::string_view(out).substr(5));
}

void check_frontend_agreement(const Frame& f, bool valid) {
  auto b = f.body;
  switch (f.type) {
    case 'P': {
      auto m = parse_parse(b);
      FUZZ_CHECK(m.has_value() == valid);
      if (m) {
        expect_reencodes(b, [&](Writer& w) {
          w.cstr(m->name).cstr(m->query).i16(static_cast<int16_t>(m->param_types.size()));
          for (auto t : m->param_types) w.i32(t);
        });
      }
      break;
    }
    case 'B': {
      auto m = parse_bind(b);
      FUZZ_CHECK(m.has_value() == valid);
      if (m) {
        for (auto fmt : m->param_formats) FUZZ_CHECK(fmt == 0 || fmt == 1);
        for (auto fmt : m->result_formats) FUZZ_CHECK(fmt == 0 || fmt == 1);
        FUZZ_CHECK(m->param_formats.size() <= 1 || m->param_formats.size() == m->params.size());
        expect_reencodes(b, [&](Writer& w) {
          w.cstr(m->portal).cstr(m->statement).i16(static_cast<int16_t>(m->param_formats.size()));
          for (auto fmt : m->param_formats) w.i16(fmt);
          w.i16(static_cast<int16_t>(m->params.size()));
          write_values(w, m->params);
          w.i16(static_cast<int16_t>(m->result_formats.size()));
          for (auto fmt : m->result_formats) w.i16(fmt);
        });
      }
      break;
    }
    case 'E': {
      auto m = parse_execute(b);
      FUZZ_CHECK(m.has_value() == valid);
      if (m) expect_reencodes(b, [&](Writer& w) { w.cstr(m->portal).i32(m->max_rows); });
      break;
    }
    case 'D':
    case 'C': {
      auto m = parse_named_target(b);
      FUZZ_CHECK(m.has_value() == valid);
      if (m) {
        FUZZ_CHECK(m->kind == 'S' || m->kind == 'P');
        expect_reencodes(b, [&](Writer& w) { w.u8(static_cast<uint8_t>(m->kind)).cstr(m->name); });
      }
      break;
    }
    case 'F': {
      auto m = parse_function_call(b);
      FUZZ_CHECK(m.has_value() == valid);
      if (m) {
        expect_reencodes(b, [&](Writer& w) {
          w.i32(m->function_oid).i16(static_cast<int16_t>(m->arg_formats.size()));
          for (auto fmt : m->arg_formats) w.i16(fmt);
          w.i16(static_cast<int16_t>(m->args.size()));
          write_values(w, m->args);
          w.i16(m->result_format);
        });
      }
      break;
    }
    case 'Q': {
      auto q = parse_query(b);
      FUZZ_CHECK(q.has_value() == valid);
      if (q) expect_reencodes(b, [&](Writer& w) { w.cstr(*q); });
      break;
    }
    case 'f':
      FUZZ_CHECK(parse_copy_fail(b).has_value() == valid);
      break;
    case 'S':
    case 'H':
    case 'X':
    case 'c':
      FUZZ_CHECK(valid == b.empty());
      break;
    case 'd':
    case 'p':
      FUZZ_CHECK(valid);
      break;
    default:
      FUZZ_CHECK(!valid);
      break;
  }
}

// Every typed parser runs on every body regardless of type: none may crash or overrun, and the
// ones with a fully determined layout must re-encode exactly.
void run_all_parsers(std::span<const uint8_t> b) {
  if (auto fields = parse_error_fields(b)) {
    expect_reencodes(b, [&](Writer& w) {
      for (const auto& f : *fields) w.u8(static_cast<uint8_t>(f.code)).cstr(f.value);
      w.u8(0);
    });
    (void)error_field(*fields, 'M');
  }
  if (auto p = parse_parameter_status(b)) {
    expect_reencodes(b, [&](Writer& w) { w.cstr(p->name).cstr(p->value); });
  }
  if (auto a = parse_authentication(b)) {
    if (a->code == kAuthSasl) {
      auto mechs = parse_sasl_mechanisms(a->rest);
      FUZZ_CHECK(mechs.has_value());
      expect_reencodes(b, [&](Writer& w) {
        w.i32(a->code);
        for (auto m : *mechs) w.cstr(m);
        w.u8(0);
      });
    }
    if (a->code == kAuthMd5) FUZZ_CHECK(a->rest.size() == 4);
    if (a->code == kAuthOk) FUZZ_CHECK(a->rest.empty());
  } else {
    (void)parse_sasl_mechanisms(b);
  }
  if (auto k = parse_backend_key_data(b)) {
    expect_reencodes(b, [&](Writer& w) { w.i32(k->pid).i32(k->secret); });
  }
  if (auto s = parse_ready_for_query(b)) FUZZ_CHECK(*s == 'I' || *s == 'T' || *s == 'E');
  if (auto n = parse_notification(b)) {
    expect_reencodes(b, [&](Writer& w) { w.i32(n->pid).cstr(n->channel).cstr(n->payload); });
  }
  if (auto v = parse_negotiate_protocol_version(b)) {
    expect_reencodes(b, [&](Writer& w) {
      w.i32(v->newest_minor).i32(static_cast<int32_t>(v->unsupported_options.size()));
      for (auto o : v->unsupported_options) w.cstr(o);
    });
  }
  if (auto cols = parse_row_description(b)) {
    expect_reencodes(b, [&](Writer& w) {
      w.i16(static_cast<int16_t>(cols->size()));
      for (const auto& c : *cols) {
        w.cstr(c.name)
            .i32(c.table_oid)
            .i16(c.column)
            .i32(c.type_oid)
            .i16(c.type_len)
            .i32(c.type_mod)
            .i16(c.format);
      }
    });
  }
  if (auto row = parse_data_row(b)) {
    expect_reencodes(b, [&](Writer& w) {
      w.i16(static_cast<int16_t>(row->size()));
      write_values(w, *row);
    });
  }
  if (auto t = parse_command_complete(b)) expect_reencodes(b, [&](Writer& w) { w.cstr(*t); });
  if (auto p = parse_password(b)) expect_reencodes(b, [&](Writer& w) { w.cstr(*p); });
  if (auto s = parse_sasl_initial(b)) {
    expect_reencodes(b, [&](Writer& w) {
      w.cstr(s->mechanism);
      if (s->data) {
        w.i32(static_cast<int32_t>(s->data->size())).raw(*s->data);
      } else {
        w.i32(-1);
      }
    });
  }
  (void)parse_copy_fail(b);
  (void)parse_cancel_request(b);

  // Reader: an arbitrary op sequence must stay in bounds and keep remaining() consistent.
  Reader r(b);
  for (size_t i = 0; i < b.size() && !r.failed(); ++i) {
    size_t before = r.remaining();
    switch (b[i] % 6) {
      case 0:
        r.u8();
        break;
      case 1:
        r.i16();
        break;
      case 2:
        r.i32();
        break;
      case 3:
        r.cstr();
        break;
      case 4:
        r.bytes(b[i] % 7);
        break;
      default:
        r.rest();
        break;
    }
    FUZZ_CHECK(r.remaining() <= before);
  }
}

void fuzz_startup(std::span<const uint8_t> in) {
  auto r = decode_startup(in, 10000);
  if (r.status == DecodeStatus::Malformed) {
    FUZZ_CHECK(!r.error.empty());
    return;
  }
  if (r.status == DecodeStatus::NeedMore) return;
  const auto& f = r.frame;
  FUZZ_CHECK(f.size <= in.size() && f.size >= 8 && f.size == f.payload.size() + 8);
  FUZZ_CHECK(f.payload.data() == in.data() + 8);
  std::string startup_error = validate_startup(f);
  std::string params_error;
  auto params = parse_startup_params(f.code, f.payload, params_error);
  FUZZ_CHECK(params.has_value() == params_error.empty());
  if (params) {
    std::string rebuilt;
    Writer w(rebuilt);
    w.begin_untyped().i32(static_cast<int32_t>(f.code));
    for (const auto& [k, v] : params->params) w.cstr(k).cstr(v);
    w.u8(0).end();
    FUZZ_CHECK(rebuilt == text(in.subspan(0, f.size)));
    if (!params->params.empty()) FUZZ_CHECK(params->find(params->params.back().first) != nullptr);
  }
  if (f.code == kCancelRequestCode) {
    FUZZ_CHECK(startup_error.empty() == parse_cancel_request(f.payload).has_value());
  } else if (f.code != kSslRequestCode && f.code != kGssEncRequestCode &&
             protocol_major(f.code) == 3) {
    FUZZ_CHECK(startup_error.empty() == params.has_value());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  fuzz_startup(in);

  // A small limit so the fuzzer reaches the max_len check as easily as the framing itself.
  constexpr uint32_t kMaxLen = 1024;
  size_t pos = 0;
  while (pos < in.size()) {
    auto rest = in.subspan(pos);
    auto r = decode_frame(rest, kMaxLen);
    if (r.status == DecodeStatus::NeedMore) {
      FUZZ_CHECK(r.error.empty());
      if (rest.size() >= 5) {
        uint32_t len = (uint32_t{rest[1]} << 24) | (uint32_t{rest[2]} << 16) |
                       (uint32_t{rest[3]} << 8) | rest[4];
        FUZZ_CHECK(len >= 4 && len <= kMaxLen && size_t{len} + 1 > rest.size());
      }
      break;
    }
    if (r.status == DecodeStatus::Malformed) {
      FUZZ_CHECK(!r.error.empty());
      break;
    }
    const Frame& f = r.frame;
    FUZZ_CHECK(f.size <= rest.size() && f.size == f.body.size() + 5 && f.size - 1 <= kMaxLen);
    FUZZ_CHECK(f.body.data() == rest.data() + 5);
    std::string error = validate_frontend(f);
    FUZZ_CHECK(is_frontend_type(f.type) == (error.rfind("unknown message type", 0) != 0));
    (void)message_name(f.type, true);
    (void)message_name(f.type, false);
    check_frontend_agreement(f, error.empty());
    run_all_parsers(f.body);
    pos += f.size;
  }
  return 0;
}
