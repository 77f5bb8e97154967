// The admin console's command language: one statement of Query text to a command, socket-free.
#include "pooler/admin/command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

namespace pgopt::pooler::admin {
namespace {

constexpr std::string_view kCommands =
    "SHOW POOLS, SHOW CLIENTS, SHOW SERVERS, SHOW DATABASES, SHOW CONFIG, SHOW REPLICAS, SHOW STATS, "
    "SHOW PREPARED, SHOW QUERIES, SHOW CACHE, CACHE CLEAR [rule], PAUSE [db], RESUME [db], KILL <db>, KILL_CLIENT <id>, "
    "SET <key> = <value>, RELOAD, SHUTDOWN";

struct Word {
  std::string upper, text;  // compared upper-case, quoted in messages as typed
  bool operator==(std::string_view s) const { return upper == s; }
};

// Splits into words, quoted strings, ';' and '=' tokens, dropping blanks and comments. Returns false
// on an unterminated block comment or quote.
bool tokenize(std::string_view s, std::vector<Word>& out) {
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (s.substr(i, 2) == "--") {
      const size_t nl = s.find('\n', i);
      i = nl == std::string_view::npos ? s.size() : nl + 1;
    } else if (s.substr(i, 2) == "/*") {
      const size_t end = s.find("*/", i + 2);
      if (end == std::string_view::npos) return false;
      i = end + 2;
    } else if (c == ';' || c == '=') {
      out.push_back({std::string(1, c), std::string(1, c)});
      ++i;
    } else if (c == '\'' || c == '"') {
      // A quoted value or name; a doubled quote inside stands for one. `quoted` keeps the quote
      // character first so that SET can tell 'text' from a bare word.
      std::string w(1, c);
      size_t j = i + 1;
      for (;; ++j) {
        if (j >= s.size()) return false;
        if (s[j] == c) {
          if (j + 1 < s.size() && s[j + 1] == c) {
            w += c;
            ++j;
            continue;
          }
          break;
        }
        w += s[j];
      }
      out.push_back({w, w});
      i = j + 1;
    } else {
      size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != ';' && s[j] != '=' &&
             s[j] != '\'' && s[j] != '"' && s.substr(j, 2) != "--" && s.substr(j, 2) != "/*")
        ++j;
      std::string w(s.substr(i, j - i)), up = w;
      std::transform(up.begin(), up.end(), up.begin(), [](unsigned char ch) { return char(std::toupper(ch)); });
      out.push_back({std::move(up), std::move(w)});
      i = j;
    }
  }
  return true;
}

// A name as PostgreSQL reads it: "Quoted" keeps its case, a bare word is folded to lower case.
std::string identifier(const Word& w) {
  if (!w.text.empty() && w.text[0] == '"') return w.text.substr(1);
  std::string out = w.text;
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
  return out;
}

bool is_bare_toml(std::string_view upper) {
  if (upper == "TRUE" || upper == "FALSE") return true;
  if (upper.empty()) return false;
  size_t i = upper[0] == '-' || upper[0] == '+' ? 1 : 0;
  if (i == upper.size()) return false;
  for (; i < upper.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(upper[i]))) return false;
  return true;
}

std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      out += fmt::format("\\u{:04X}", static_cast<unsigned>(static_cast<unsigned char>(ch)));
      continue;
    }
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

Command command_of(CommandKind kind) {
  Command c;
  c.kind = kind;
  return c;
}

CommandError syntax(std::string message) {
  return {"42601", std::move(message), fmt::format("commands: {}", kCommands)};
}

}  // namespace

std::string_view command_list() { return kCommands; }

std::variant<Command, CommandError> parse_command(std::string_view text) {
  std::vector<Word> t;
  if (!tokenize(text, t)) return syntax("unterminated /* comment or quoted string");
  // One statement: a trailing ';' (or several, as psql never sends but people type) is allowed.
  size_t end = t.size();
  while (end > 0 && t[end - 1] == ";") --end;
  if (std::any_of(t.begin(), t.begin() + end, [](const Word& w) { return w == ";"; }))
    return CommandError{"0A000", "the admin console runs one command per query", {}};
  t.resize(end);
  if (t.empty()) return command_of(CommandKind::Empty);
  auto done = [&](CommandKind k, size_t words) -> std::variant<Command, CommandError> {
    if (t.size() > words) return syntax(fmt::format("unexpected \"{}\" after the command", t[words].text));
    return command_of(k);
  };
  if (t[0] == "SHOW") {
    if (t.size() < 2) return syntax("SHOW needs what to show");
    static constexpr std::pair<std::string_view, CommandKind> kShow[] = {
        {"POOLS", CommandKind::ShowPools},         {"CLIENTS", CommandKind::ShowClients},
        {"SERVERS", CommandKind::ShowServers},     {"DATABASES", CommandKind::ShowDatabases},
        {"CONFIG", CommandKind::ShowConfig},       {"REPLICAS", CommandKind::ShowReplicas},
        {"STATS", CommandKind::ShowStats},         {"PREPARED", CommandKind::ShowPrepared},
        {"QUERIES", CommandKind::ShowQueries},     {"CACHE", CommandKind::ShowCache}};
    for (const auto& [word, kind] : kShow)
      if (t[1] == word) return done(kind, 2);
    return syntax(fmt::format("unknown SHOW item \"{}\"", t[1].text));
  }
  if (t[0] == "RELOAD") return done(CommandKind::Reload, 1);
  if (t[0] == "CACHE") {
    if (t.size() < 2 || !(t[1] == "CLEAR")) return syntax("CACHE needs CLEAR: CACHE CLEAR [rule]");
    if (t.size() < 3) return command_of(CommandKind::CacheClear);
    auto r = done(CommandKind::CacheClear, 3);
    if (auto* c = std::get_if<Command>(&r)) c->rule = identifier(t[2]);
    return r;
  }
  if (t[0] == "SHUTDOWN") return done(CommandKind::Shutdown, 1);
  if (t[0] == "KILL_CLIENT") {
    if (t.size() < 2) return syntax("KILL_CLIENT needs a client id (the id column of SHOW CLIENTS)");
    uint64_t id = 0;
    const std::string& w = t[1].text;
    auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), id);
    if (ec != std::errc() || p != w.data() + w.size() || id == 0)
      return syntax(fmt::format("KILL_CLIENT: \"{}\" is not a client id", w));
    auto r = done(CommandKind::KillClient, 2);
    if (auto* c = std::get_if<Command>(&r)) c->client_id = id;
    return r;
  }
  if (t[0] == "PAUSE" || t[0] == "RESUME" || t[0] == "KILL") {
    const CommandKind kind =
        t[0] == "PAUSE" ? CommandKind::Pause : t[0] == "RESUME" ? CommandKind::Resume : CommandKind::Kill;
    if (t.size() < 2) {
      if (kind == CommandKind::Kill)
        return syntax("KILL needs a database name (KILL_CLIENT <id> disconnects one client)");
      return command_of(kind);
    }
    auto r = done(kind, 2);
    if (auto* c = std::get_if<Command>(&r)) c->database = identifier(t[1]);
    return r;
  }
  if (t[0] == "SET") {
    // SET key = value, or SET key TO value as in PostgreSQL.
    if (t.size() < 4 || !(t[2] == "=" || t[2] == "TO"))
      return syntax("SET needs a key and a value: SET key = value");
    auto r = done(CommandKind::Set, 4);
    if (auto* c = std::get_if<Command>(&r)) {
      c->key = identifier(t[1]);
      const std::string& v = t[3].text;
      // 'text' becomes a TOML string; bare words that TOML reads as they are (numbers, true,
      // false) stay bare; any other bare word (a duration such as 30s) is quoted.
      if (!v.empty() && v[0] == '\'') {
        c->value = toml_string(std::string_view(v).substr(1));
      } else if (is_bare_toml(t[3].upper)) {
        c->value = v;
        std::transform(c->value.begin(), c->value.end(), c->value.begin(),
                       [](unsigned char ch) { return char(std::tolower(ch)); });
      } else {
        c->value = toml_string(v);
      }
    }
    return r;
  }
  return syntax(fmt::format("unknown command \"{}\"", t[0].text));
}

}  // namespace pgopt::pooler::admin
