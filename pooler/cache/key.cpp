// Key: each field written as a tag byte and a length-prefixed value, so no two different inputs
// can produce the same bytes (no separator a value could contain).
#include "pooler/cache/key.hpp"

#include <functional>
#include <stdexcept>

namespace pgopt::pooler::cache {
namespace {

constexpr std::string_view kOutputSettings[] = {
    "search_path",   "datestyle",     "intervalstyle",   "timezone",    "extra_float_digits",
    "bytea_output",  "client_encoding", "lc_messages",   "lc_monetary", "lc_numeric",
    "lc_time",       "standard_conforming_strings",      "array_nulls", "transform_null_equals",
    "row_security",  "default_text_search_config",       "xmlbinary",   "xmloption",
};

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}

void put_field(std::string& out, char tag, std::string_view value) {
  out.push_back(tag);
  put_u32(out, uint32_t(value.size()));
  out.append(value);
}

// NULL and absent get their own tag, distinct from any value (the empty string included).
void put_optional(std::string& out, char tag, const std::optional<std::string_view>& value) {
  if (value) put_field(out, tag, *value);
  else out.push_back(char(tag | 0x80));
}

}  // namespace

std::span<const std::string_view> output_settings() { return kOutputSettings; }

std::string_view Key::database() const {
  // 'd', a little-endian u32 length, the name (Key's constructor writes it first).
  if (bytes_.size() < 5) return {};
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i) len |= uint32_t(uint8_t(bytes_[size_t(1 + i)])) << (8 * i);
  return std::string_view(bytes_).substr(5, len);
}

Key::Key(const KeyInput& in) {
  if (in.settings.size() != std::size(kOutputSettings))
    throw std::invalid_argument("cache key: " + std::to_string(in.settings.size()) + " settings given, " +
                                std::to_string(std::size(kOutputSettings)) + " expected");
  size_t reserve = in.database.size() + in.user.size() + in.role.size() + in.statement.size() + 64;
  for (const auto& p : in.params) reserve += 5 + (p ? p->size() : 0);
  bytes_.reserve(reserve);
  put_field(bytes_, 'd', in.database);
  put_field(bytes_, 'u', in.user);
  put_field(bytes_, 'r', in.role);
  for (const auto& s : in.settings) put_optional(bytes_, 's', s);
  put_field(bytes_, 'q', in.statement);
  bytes_.push_back('T');
  put_u32(bytes_, uint32_t(in.param_types.size()));
  for (uint32_t t : in.param_types) put_u32(bytes_, t);
  bytes_.push_back('F');
  put_u32(bytes_, uint32_t(in.param_formats.size()));
  for (int16_t f : in.param_formats) put_u32(bytes_, uint32_t(uint16_t(f)));
  bytes_.push_back('P');
  put_u32(bytes_, uint32_t(in.params.size()));
  for (const auto& p : in.params) put_optional(bytes_, 'v', p);
  bytes_.push_back('R');
  put_u32(bytes_, uint32_t(in.result_formats.size()));
  for (int16_t f : in.result_formats) put_u32(bytes_, uint32_t(uint16_t(f)));
  hash_ = std::hash<std::string_view>{}(bytes_);
}

}  // namespace pgopt::pooler::cache
