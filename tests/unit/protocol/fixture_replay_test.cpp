// Golden replay of real captured sessions (tests/fixtures/protocol/*.txt): every message is framed,
// validated and parsed, and a one-line summary per message is compared with <name>.golden.
// Regenerate after an intended change with PGOPT_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "tests/unit/protocol/protocol_test_util.hpp"

namespace pgopt::protocol {
namespace {

using test::as_bytes;
using test::from_hex;
namespace fs = std::filesystem;

struct Chunk {
  bool frontend;
  std::string bytes;
};

std::vector<Chunk> load_capture(const fs::path& path) {
  std::ifstream in(path);
  std::vector<Chunk> chunks;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_TRUE(line[0] == '>' || line[0] == '<') << path << ": " << line;
    chunks.push_back({line[0] == '>', from_hex(line.substr(1))});
  }
  return chunks;
}

std::string quote(std::string_view s, size_t limit = 60) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < limit; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c >= 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (s.size() > limit) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

std::string quote(std::span<const uint8_t> b) { return quote(test::as_string(b)); }

std::string value_list(const std::vector<std::optional<std::span<const uint8_t>>>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    out += values[i] ? quote(*values[i]) : "NULL";
  }
  return out + "]";
}

template <typename T>
std::string int_list(const std::vector<T>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + std::to_string(v[i]);
  return out + "]";
}

// Replays one connection the way the pooler sees it: startup-phase packets, the one-byte answer to
// SSLRequest/GSSENCRequest, then typed messages both ways; 'p' is named from the last
// authentication request, as the auth code must do.
class Replay {
 public:
  void feed(bool frontend, std::string_view bytes) {
    if (frontend) {
      fe_.append(bytes);
      drain_frontend();
    } else {
      be_.append(bytes);
      drain_backend();
    }
  }
  std::string finish() {
    if (!fe_.empty()) out_ << "F: " << fe_.size() << " trailing bytes\n";
    if (!be_.empty()) out_ << "B: " << be_.size() << " trailing bytes\n";
    return out_.str();
  }

 private:
  static constexpr uint32_t kMaxLen = 1u << 20;

  void drain_frontend() {
    for (;;) {
      if (!started_) {
        auto r = decode_startup(as_bytes(fe_), 10000);
        if (r.status == DecodeStatus::NeedMore) return;
        if (r.status == DecodeStatus::Malformed) return malformed(true, r.error);
        out_ << "F: " << describe_startup(r.frame) << "\n";
        fe_.erase(0, r.frame.size);
        continue;
      }
      auto r = decode_frame(as_bytes(fe_), kMaxLen);
      if (r.status == DecodeStatus::NeedMore) return;
      if (r.status == DecodeStatus::Malformed) return malformed(true, r.error);
      std::string invalid = validate_frontend(r.frame);
      out_ << "F: " << (invalid.empty() ? describe_frontend(r.frame) : "INVALID " + invalid)
           << "\n";
      fe_.erase(0, r.frame.size);
    }
  }

  void drain_backend() {
    for (;;) {
      if (awaiting_encryption_answer_ > 0) {
        if (be_.empty()) return;
        out_ << "B: encryption answer '" << be_[0] << "'\n";
        be_.erase(0, 1);
        --awaiting_encryption_answer_;
        continue;
      }
      auto r = decode_frame(as_bytes(be_), kMaxLen);
      if (r.status == DecodeStatus::NeedMore) return;
      if (r.status == DecodeStatus::Malformed) return malformed(false, r.error);
      out_ << "B: " << describe_backend(r.frame) << "\n";
      be_.erase(0, r.frame.size);
    }
  }

  void malformed(bool frontend, const std::string& error) {
    out_ << (frontend ? "F" : "B") << ": MALFORMED " << error << "\n";
    (frontend ? fe_ : be_).clear();
  }

  std::string describe_startup(const StartupFrame& f) {
    std::string err = validate_startup(f);
    if (!err.empty()) return "INVALID startup packet: " + err;
    if (f.code == kSslRequestCode || f.code == kGssEncRequestCode) {
      ++awaiting_encryption_answer_;
      return f.code == kSslRequestCode ? "SSLRequest" : "GSSENCRequest";
    }
    if (f.code == kCancelRequestCode) {
      auto k = parse_cancel_request(f.payload);
      return "CancelRequest pid=" + std::to_string(k->pid) + " secret=" + std::to_string(k->secret);
    }
    started_ = true;
    auto p = parse_startup_params(f.code, f.payload, err);
    std::string s = "StartupMessage " + std::to_string(protocol_major(f.code)) + "." +
                    std::to_string(protocol_minor(f.code));
    for (const auto& [k, v] : p->params) s += " " + k + "=" + quote(v);
    return s;
  }

  std::string describe_frontend(const Frame& f) {
    std::string name(message_name(f.type, false));
    switch (f.type) {
      case 'Q':
        return name + " " + quote(*parse_query(f.body), 200);
      case 'P': {
        auto m = parse_parse(f.body);
        return name + " name=" + quote(m->name) + " query=" + quote(m->query, 200) +
               " param_types=" + int_list(m->param_types);
      }
      case 'B': {
        auto m = parse_bind(f.body);
        return name + " portal=" + quote(m->portal) + " statement=" + quote(m->statement) +
               " param_formats=" + int_list(m->param_formats) + " params=" + value_list(m->params) +
               " result_formats=" + int_list(m->result_formats);
      }
      case 'E': {
        auto m = parse_execute(f.body);
        return name + " portal=" + quote(m->portal) + " max_rows=" + std::to_string(m->max_rows);
      }
      case 'D':
      case 'C': {
        auto m = parse_named_target(f.body);
        return name + " " + m->kind + " " + quote(m->name);
      }
      case 'F': {
        auto m = parse_function_call(f.body);
        return name + " oid=" + std::to_string(m->function_oid) +
               " arg_formats=" + int_list(m->arg_formats) + " args=" + value_list(m->args) +
               " result_format=" + std::to_string(m->result_format);
      }
      case 'f':
        return name + " " + quote(*parse_copy_fail(f.body));
      case 'd':
        return name + " " + quote(f.body);
      case 'p':
        return describe_auth_response(f);
      default:
        return name;
    }
  }

  std::string describe_auth_response(const Frame& f) {
    switch (last_auth_code_) {
      case kAuthCleartext:
      case kAuthMd5: {
        auto pw = parse_password(f.body);
        return pw ? "PasswordMessage " + quote(*pw) : "MALFORMED PasswordMessage";
      }
      case kAuthSasl: {
        auto m = parse_sasl_initial(f.body);
        if (!m) return "MALFORMED SASLInitialResponse";
        return "SASLInitialResponse mechanism=" + quote(m->mechanism) +
               " data=" + (m->data ? quote(*m->data) : "NULL");
      }
      case kAuthSaslContinue:
        return "SASLResponse " + quote(f.body);
      default:
        return "unexpected 'p' after authentication code " + std::to_string(last_auth_code_);
    }
  }

  std::string describe_backend(const Frame& f) {
    std::string name(message_name(f.type, true));
    auto bad = [&] { return "MALFORMED " + name; };
    switch (f.type) {
      case 'R': {
        auto a = parse_authentication(f.body);
        if (!a) return bad();
        last_auth_code_ = a->code;
        std::string s = name + " code=" + std::to_string(a->code);
        if (a->code == kAuthSasl) {
          auto mechanisms = parse_sasl_mechanisms(a->rest);
          for (auto m : *mechanisms) s += " " + quote(m);
        } else if (!a->rest.empty()) {
          s += " " + quote(a->rest);
        }
        return s;
      }
      case 'S': {
        auto p = parse_parameter_status(f.body);
        return p ? name + " " + std::string(p->name) + "=" + quote(p->value) : bad();
      }
      case 'K': {
        auto k = parse_backend_key_data(f.body);
        return k ? name + " pid=" + std::to_string(k->pid) + " secret=" + std::to_string(k->secret)
                 : bad();
      }
      case 'Z': {
        auto s = parse_ready_for_query(f.body);
        return s ? name + " " + *s : bad();
      }
      case 'C': {
        auto t = parse_command_complete(f.body);
        return t ? name + " " + quote(*t) : bad();
      }
      case 'T': {
        auto cols = parse_row_description(f.body);
        if (!cols) return bad();
        std::string s = name;
        for (const auto& c : *cols) {
          s += " [" + std::string(c.name) + " table=" + std::to_string(c.table_oid) + "." +
               std::to_string(c.column) + " type=" + std::to_string(c.type_oid) +
               " len=" + std::to_string(c.type_len) + " mod=" + std::to_string(c.type_mod) +
               " fmt=" + std::to_string(c.format) + "]";
        }
        return s;
      }
      case 'D': {
        auto row = parse_data_row(f.body);
        return row ? name + " " + value_list(*row) : bad();
      }
      case 'E':
      case 'N': {
        auto fields = parse_error_fields(f.body);
        if (!fields) return bad();
        std::string s = name;
        for (const auto& fl : *fields) s += std::string(" ") + fl.code + "=" + quote(fl.value);
        return s;
      }
      case 'A': {
        auto n = parse_notification(f.body);
        return n ? name + " pid=" + std::to_string(n->pid) + " channel=" + quote(n->channel) +
                       " payload=" + quote(n->payload)
                 : bad();
      }
      case 'd':
        return name + " " + quote(f.body);
      default:
        return f.body.empty() ? name : name + " (" + std::to_string(f.body.size()) + " bytes)";
    }
  }

  std::string fe_, be_;
  bool started_ = false;
  int awaiting_encryption_answer_ = 0;
  int32_t last_auth_code_ = -1;
  std::ostringstream out_;
};

std::string replay(const std::vector<Chunk>& chunks, size_t piece /* 0 = as captured */) {
  Replay r;
  for (const auto& c : chunks) {
    if (piece == 0) {
      r.feed(c.frontend, c.bytes);
      continue;
    }
    for (size_t i = 0; i < c.bytes.size(); i += piece) {
      r.feed(c.frontend, std::string_view(c.bytes).substr(i, piece));
    }
  }
  return r.finish();
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(CapturedSessions, MatchGoldenSummaries) {
  fs::path dir = fs::path(PGOPT_FIXTURES) / "protocol";
  bool update = std::getenv("PGOPT_UPDATE_GOLDEN") != nullptr;
  int count = 0;
  std::vector<fs::path> captures;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".txt") captures.push_back(e.path());
  }
  std::sort(captures.begin(), captures.end());
  for (const auto& path : captures) {
    SCOPED_TRACE(path.filename().string());
    auto chunks = load_capture(path);
    ASSERT_FALSE(chunks.empty());
    std::string got = replay(chunks, 0);
    // The same session fed byte-at-a-time and in 3- and 7-byte pieces must read identically.
    for (size_t piece : {1u, 3u, 7u}) EXPECT_EQ(replay(chunks, piece), got) << "piece " << piece;
    EXPECT_EQ(got.find("INVALID"), std::string::npos) << got;
    EXPECT_EQ(got.find("MALFORMED"), std::string::npos) << got;
    EXPECT_EQ(got.find("trailing bytes"), std::string::npos) << got;
    fs::path golden = path;
    golden.replace_extension(".golden");
    if (update) {
      std::ofstream(golden, std::ios::binary) << got;
    } else {
      ASSERT_TRUE(fs::exists(golden)) << golden << " missing; run with PGOPT_UPDATE_GOLDEN=1";
      EXPECT_EQ(got, read_file(golden));
    }
    ++count;
  }
  EXPECT_GE(count, 7);
}

}  // namespace
}  // namespace pgopt::protocol
