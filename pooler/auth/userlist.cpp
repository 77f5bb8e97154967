// Parsing and loading PgBouncer-style userlist.txt auth files.
#include "pooler/auth/userlist.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace pgopt::pooler::auth {

const UserEntry* UserList::find(std::string_view name) const {
  auto it = users.find(std::string(name));
  return it == users.end() ? nullptr : &it->second;
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

bool is_md5_hash(std::string_view s) {
  if (s.size() != 35 || !s.starts_with("md5")) return false;
  for (char c : s.substr(3))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// One "..." field starting at line[pos] == '"'; '""' is a literal quote. Advances pos past the
// closing quote; nullopt when the line ends first.
std::optional<std::string> read_quoted(std::string_view line, size_t& pos) {
  std::string out;
  for (size_t i = pos + 1; i < line.size(); ++i) {
    if (line[i] != '"') {
      out += line[i];
    } else if (i + 1 < line.size() && line[i + 1] == '"') {
      out += '"';
      ++i;
    } else {
      pos = i + 1;
      return out;
    }
  }
  return std::nullopt;
}

size_t skip_space(std::string_view line, size_t pos) {
  while (pos < line.size() && is_space(line[pos])) ++pos;
  return pos;
}

struct LineParser {
  std::string_view file;
  std::vector<std::string>& errors;
  std::unordered_map<std::string, size_t> first_line;  // user -> line, for duplicate messages

  std::optional<UserEntry> fail(size_t line_no, const std::string& msg) {
    errors.push_back(std::string(file) + ":" + std::to_string(line_no) + ": " + msg);
    return std::nullopt;
  }

  std::optional<UserEntry> parse(std::string_view line, size_t line_no) {
    // PostgreSQL strings cannot hold NUL, so such a secret could never match; most likely the
    // file is not a userlist at all.
    if (line.find('\0') != std::string_view::npos) return fail(line_no, "NUL byte in line");
    size_t pos = skip_space(line, 0);
    if (pos == line.size() || line[pos] == ';' || line[pos] == '#') return std::nullopt;

    if (line[pos] != '"')
      return fail(line_no, "text outside quotes: the user name must be in double quotes");
    auto name = read_quoted(line, pos);
    if (!name) return fail(line_no, "unterminated quote in user name");
    if (pos < line.size() && !is_space(line[pos]))
      return fail(line_no, "text outside quotes after the user name");
    if (name->empty()) return fail(line_no, "empty user name");

    pos = skip_space(line, pos);
    if (pos == line.size()) return fail(line_no, "missing secret for user \"" + *name + "\"");
    if (line[pos] != '"')
      return fail(line_no, "text outside quotes: the secret of user \"" + *name +
                               "\" must be in double quotes");
    auto secret = read_quoted(line, pos);
    if (!secret) return fail(line_no, "unterminated quote in the secret of user \"" + *name + "\"");
    // Fields after the second are ignored, as in PgBouncer, but must be set apart by whitespace.
    if (pos < line.size() && !is_space(line[pos]))
      return fail(line_no, "text outside quotes after the secret of user \"" + *name + "\"");
    UserEntry e{*name, *secret, SecretKind::Plain, std::nullopt};
    if (e.secret.empty()) {
      e.kind = SecretKind::None;
    } else if (is_md5_hash(e.secret)) {
      e.kind = SecretKind::Md5;
    } else if (auto scram = parse_scram_verifier(e.secret)) {
      e.kind = SecretKind::Scram;
      e.scram = std::move(scram);
    } else if (e.secret.starts_with("SCRAM-SHA-256$")) {
      // Never quote the secret itself: this message ends up in logs.
      return fail(line_no, "invalid SCRAM verifier for user \"" + *name + "\"");
    }

    auto [it, inserted] = first_line.emplace(e.name, line_no);
    if (!inserted)
      return fail(line_no, "duplicate user \"" + e.name + "\" (first defined on line " +
                               std::to_string(it->second) + ")");
    return e;
  }
};

}  // namespace

UserListResult parse_userlist(std::string_view text, std::string_view file_name) {
  UserListResult result;
  UserList list;
  LineParser parser{file_name, result.errors, {}};
  size_t line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line =
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (auto entry = parser.parse(line, line_no)) {
      std::string key = entry->name;
      list.users.emplace(std::move(key), std::move(*entry));
    }
  }
  if (result.errors.empty()) result.list = std::move(list);
  return result;
}

UserListResult load_userlist(const std::string& path) {
  auto os_error = [&](int err) {
    UserListResult r;
    r.errors.push_back(path + ": " + std::error_code(err, std::generic_category()).message());
    return r;
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return os_error(errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return os_error(err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return os_error(EISDIR);
  }
  std::string text;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return os_error(err);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return parse_userlist(text, path);
}

}  // namespace pgopt::pooler::auth
