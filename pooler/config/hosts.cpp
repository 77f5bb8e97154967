// The `hosts` key of [databases.NAME]: the members of a database whose primary pgopt follows
// (issue 18), with its own `file:line: message` errors.
#include "pooler/config/hosts.hpp"

#include <charconv>
#include <set>

namespace pgopt::pooler::config_detail {
namespace {

// "h", "h:p", "[v6]" or "[v6]:p" into out; the message says what is wrong, empty when fine.
std::string split_host_port(std::string_view text, HostConfig& out) {
  std::string_view host = text, port;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return "has no closing ]";
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return "has text after ]";
      port = rest.substr(1);
      if (port.empty()) return "has an empty port";
    }
  } else if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    if (text.find(':') != colon) return "is an IPv6 address without brackets; write \"[::1]:5432\"";
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) return "has an empty port";
  }
  if (host.empty()) return "has no host";
  out.host.assign(host);
  out.port = 0;
  if (!port.empty()) {
    int p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc{} || end != port.data() + port.size() || p < 1 || p > 65535)
      return "has a port that is not a number between 1 and 65535";
    out.port = p;
  }
  return {};
}

}  // namespace

bool read_hosts(Reader& r, const toml::node& n, const std::string& key, std::vector<HostConfig>& out) {
  const toml::array* a = n.as_array();
  if (a == nullptr) {
    r.wrong_type(n, key, "an array of \"host:port\" strings such as [\"10.0.0.1:5432\", \"10.0.0.2:5432\"]");
    return false;
  }
  std::vector<HostConfig> hosts;
  bool ok = true;
  for (size_t i = 0; i < a->size(); ++i) {
    const std::string where = fmt::format("{}[{}]", key, i);
    std::string text;
    if (!r.read_string((*a)[i], where, false, text)) {
      ok = false;
      continue;
    }
    HostConfig h;
    h.line = line_of((*a)[i].source());
    if (std::string why = split_host_port(text, h); !why.empty()) {
      r.error(h.line, fmt::format("{}: {} {}", where, toml_quote(text), why));
      ok = false;
      continue;
    }
    hosts.push_back(std::move(h));
  }
  if (ok) out = std::move(hosts);
  return ok;
}

bool read_patroni_urls(Reader& r, const toml::node& n, const std::string& key, std::vector<PatroniUrl>& out) {
  const toml::array* a = n.as_array();
  if (a == nullptr) {
    r.wrong_type(n, key, "an array of \"http[s]://host:port\" strings such as [\"http://10.0.0.1:8008\"]");
    return false;
  }
  std::vector<PatroniUrl> urls;
  bool ok = true;
  for (size_t i = 0; i < a->size(); ++i) {
    const std::string where = fmt::format("{}[{}]", key, i);
    std::string text;
    if (!r.read_string((*a)[i], where, false, text)) {
      ok = false;
      continue;
    }
    PatroniUrl u;
    u.line = line_of((*a)[i].source());
    std::string why;
    std::string_view rest = text;
    u.https = rest.starts_with("https://");
    if (!u.https && !rest.starts_with("http://")) {
      why = "is not an http:// or https:// URL";
    } else {
      rest.remove_prefix(u.https ? 8 : 7);
      if (rest.ends_with('/')) rest.remove_suffix(1);
      HostConfig h;
      if (rest.find('/') != std::string_view::npos)
        why = "has a path; give the API's root (pgopt asks /cluster)";
      else
        why = split_host_port(rest, h);
      u.host = h.host;
      u.port = h.port == 0 ? 8008 : h.port;
    }
    if (!why.empty()) {
      r.error(u.line, fmt::format("{}: {} {}", where, toml_quote(text), why));
      ok = false;
      continue;
    }
    urls.push_back(std::move(u));
  }
  if (ok) out = std::move(urls);
  return ok;
}

std::string patroni_urls_text(const std::vector<PatroniUrl>& urls) {
  std::string out = "[";
  for (size_t i = 0; i < urls.size(); ++i) {
    const bool v6 = urls[i].host.find(':') != std::string::npos;
    const char* scheme = urls[i].https ? "https" : "http";
    out += (i ? ", " : "") + toml_quote(v6 ? fmt::format("{}://[{}]:{}", scheme, urls[i].host, urls[i].port)
                                           : fmt::format("{}://{}:{}", scheme, urls[i].host, urls[i].port));
  }
  return out + "]";
}

bool check_hosts(Reader& r, const std::string& qualified, DatabaseConfig& db,
                 const std::map<std::string_view, int, std::less<>>& lines) {
  if (db.hosts.empty() && !db.patroni_urls.empty()) {
    r.error(lines.contains("patroni_urls") ? lines.at("patroni_urls") : db.line,
            fmt::format("{}: patroni_urls needs hosts (pgopt matches Patroni's members to them by host:port)",
                        qualified));
    return false;
  }
  if (db.hosts.empty()) return true;
  const int hosts_line = lines.contains("hosts") ? lines.at("hosts") : db.line;
  if (lines.contains("host")) {
    r.error(lines.at("host"),
            fmt::format("{}: set hosts or host, not both (port is the default port of hosts without one)", qualified));
    return false;
  }
  bool ok = true;
  std::set<std::pair<std::string, int>> seen;
  for (size_t i = 0; i < db.hosts.size(); ++i) {
    HostConfig& h = db.hosts[i];
    if (h.port == 0) h.port = db.port;
    if (!seen.emplace(h.host, h.port).second) {
      r.error(h.line ? h.line : hosts_line,
              fmt::format("{}.hosts[{}]: {}:{} is listed twice", qualified, i, h.host, h.port));
      ok = false;
    }
  }
  if (ok) {
    db.host = db.hosts.front().host;
    db.port = db.hosts.front().port;
  }
  return ok;
}

std::string hosts_text(const std::vector<HostConfig>& hosts) {
  std::string out = "[";
  for (size_t i = 0; i < hosts.size(); ++i) {
    const HostConfig& h = hosts[i];
    const bool v6 = h.host.find(':') != std::string::npos;
    out += (i ? ", " : "") + toml_quote(v6 ? fmt::format("[{}]:{}", h.host, h.port) : fmt::format("{}:{}", h.host, h.port));
  }
  return out + "]";
}

}  // namespace pgopt::pooler::config_detail
