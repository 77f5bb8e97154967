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
    "SHOW POOLS, SHOW CLIENTS, SHOW SERVERS, SHOW DATABASES, SHOW CONFIG, SHOW REPLICAS, RELOAD, "
    "KILL_CLIENT <id>, SHUTDOWN";

struct Word {
  std::string upper, text;  // compared upper-case, quoted in messages as typed
  bool operator==(std::string_view s) const { return upper == s; }
};

// Splits into words and ';' tokens, dropping blanks and comments. Returns false on an unterminated
// block comment.
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
    } else if (c == ';') {
      out.push_back({";", ";"});
      ++i;
    } else {
      size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != ';' &&
             s.substr(j, 2) != "--" && s.substr(j, 2) != "/*")
        ++j;
      std::string w(s.substr(i, j - i)), up = w;
      std::transform(up.begin(), up.end(), up.begin(), [](unsigned char ch) { return char(std::toupper(ch)); });
      out.push_back({std::move(up), std::move(w)});
      i = j;
    }
  }
  return true;
}

CommandError syntax(std::string message) {
  return {"42601", std::move(message), fmt::format("commands: {}", kCommands)};
}

}  // namespace

std::string_view command_list() { return kCommands; }

std::variant<Command, CommandError> parse_command(std::string_view text) {
  std::vector<Word> t;
  if (!tokenize(text, t)) return syntax("unterminated /* comment");
  // One statement: a trailing ';' (or several, as psql never sends but people type) is allowed.
  size_t end = t.size();
  while (end > 0 && t[end - 1] == ";") --end;
  if (std::any_of(t.begin(), t.begin() + end, [](const Word& w) { return w == ";"; }))
    return CommandError{"0A000", "the admin console runs one command per query", {}};
  t.resize(end);
  if (t.empty()) return Command{CommandKind::Empty, 0};
  auto done = [&](CommandKind k, size_t words) -> std::variant<Command, CommandError> {
    if (t.size() > words) return syntax(fmt::format("unexpected \"{}\" after the command", t[words].text));
    return Command{k, 0};
  };
  if (t[0] == "SHOW") {
    if (t.size() < 2) return syntax("SHOW needs what to show");
    static constexpr std::pair<std::string_view, CommandKind> kShow[] = {
        {"POOLS", CommandKind::ShowPools},         {"CLIENTS", CommandKind::ShowClients},
        {"SERVERS", CommandKind::ShowServers},     {"DATABASES", CommandKind::ShowDatabases},
        {"CONFIG", CommandKind::ShowConfig},       {"REPLICAS", CommandKind::ShowReplicas}};
    for (const auto& [word, kind] : kShow)
      if (t[1] == word) return done(kind, 2);
    return syntax(fmt::format("unknown SHOW item \"{}\"", t[1].text));
  }
  if (t[0] == "RELOAD") return done(CommandKind::Reload, 1);
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
  return syntax(fmt::format("unknown command \"{}\"", t[0].text));
}

}  // namespace pgopt::pooler::admin
