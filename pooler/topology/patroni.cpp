// A small JSON reader for Patroni's /cluster (patroni.hpp): one pass, depth-limited, strings with
// their escapes (\uXXXX kept as '?': host names and roles are ASCII), numbers as text.
#include "pooler/topology/patroni.hpp"

#include <cctype>
#include <charconv>
#include <memory>
#include <utility>

namespace pgopt::pooler::topology {
namespace {

struct Value {
  enum class Kind { Null, Bool, Number, String, Array, Object } kind = Kind::Null;
  std::string text;  // String, Number, Bool ("true"/"false")
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> fields;
};

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  bool value(Value& out, int depth) {
    if (depth > 32) return false;  // no legitimate /cluster nests this deep
    ws();
    if (at_ >= s_.size()) return false;
    const char c = s_[at_];
    if (c == '{') return object(out, depth);
    if (c == '[') return array(out, depth);
    if (c == '"') {
      out.kind = Value::Kind::String;
      return string(out.text);
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (s_.substr(at_, word.size()) == word) {
        at_ += word.size();
        out.kind = word == "null" ? Value::Kind::Null : Value::Kind::Bool;
        out.text = word;
        return true;
      }
    }
    const size_t start = at_;
    while (at_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[at_])) || std::string_view("+-.eE").find(s_[at_]) != std::string_view::npos))
      ++at_;
    if (at_ == start) return false;
    out.kind = Value::Kind::Number;
    out.text = s_.substr(start, at_ - start);
    return true;
  }

  bool done() {
    ws();
    return at_ == s_.size();
  }

 private:
  void ws() {
    while (at_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[at_]))) ++at_;
  }
  bool eat(char c) {
    ws();
    if (at_ < s_.size() && s_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  bool string(std::string& out) {
    if (!eat('"')) return false;
    while (at_ < s_.size()) {
      const char c = s_[at_++];
      if (c == '"') return true;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= s_.size()) return false;
      const char e = s_[at_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u':
          if (at_ + 4 > s_.size()) return false;
          at_ += 4;
          out += '?';
          break;
        default: out += e;  // \" \\ \/
      }
    }
    return false;
  }
  bool array(Value& out, int depth) {
    out.kind = Value::Kind::Array;
    eat('[');
    if (eat(']')) return true;
    do {
      Value v;
      if (!value(v, depth + 1)) return false;
      out.items.push_back(std::move(v));
    } while (eat(','));
    return eat(']');
  }
  bool object(Value& out, int depth) {
    out.kind = Value::Kind::Object;
    eat('{');
    if (eat('}')) return true;
    do {
      std::string key;
      ws();
      if (!string(key) || !eat(':')) return false;
      Value v;
      if (!value(v, depth + 1)) return false;
      out.fields.emplace_back(std::move(key), std::move(v));
    } while (eat(','));
    return eat('}');
  }

  std::string_view s_;
  size_t at_ = 0;
};

const Value* field(const Value& obj, std::string_view name) {
  for (const auto& [k, v] : obj.fields)
    if (k == name) return &v;
  return nullptr;
}

std::string text_of(const Value& obj, std::string_view name) {
  const Value* v = field(obj, name);
  return v && (v->kind == Value::Kind::String || v->kind == Value::Kind::Number) ? v->text : std::string();
}

}  // namespace

std::optional<std::vector<PatroniMember>> parse_patroni_cluster(std::string_view json) {
  Reader r(json);
  Value root;
  if (!r.value(root, 0) || !r.done() || root.kind != Value::Kind::Object) return std::nullopt;
  const Value* members = field(root, "members");
  if (!members || members->kind != Value::Kind::Array) return std::nullopt;
  std::vector<PatroniMember> out;
  for (const Value& m : members->items) {
    if (m.kind != Value::Kind::Object) continue;
    PatroniMember pm{text_of(m, "name"), text_of(m, "role"), text_of(m, "state"), text_of(m, "host"), 0};
    const std::string port = text_of(m, "port");
    std::from_chars(port.data(), port.data() + port.size(), pm.port);
    out.push_back(std::move(pm));
  }
  return out;
}

std::optional<size_t> patroni_leader(const std::vector<PatroniMember>& members,
                                     const std::vector<std::pair<std::string, int>>& hosts) {
  for (const auto& m : members) {
    const bool leader = m.role == "leader" || m.role == "master" || m.role == "primary";
    if (!leader || m.state != "running") continue;
    for (size_t i = 0; i < hosts.size(); ++i)
      if (hosts[i].first == m.host && hosts[i].second == m.port) return i;
    return std::nullopt;  // a leader pgopt was not told about: nothing to agree with
  }
  return std::nullopt;
}

}  // namespace pgopt::pooler::topology
