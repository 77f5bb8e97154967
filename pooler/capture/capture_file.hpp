// The capture file (docs/capture_format.md): a Snapshot as JSON Lines, replaced atomically.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "pooler/capture/store.hpp"

namespace pgopt::pooler::capture {

// Appends `s` as a JSON string literal (quotes included). Control characters become \uXXXX (or
// \n, \t ...); bytes that are not valid UTF-8 become U+FFFD, so every line stays parseable.
void append_json_string(std::string& out, std::string_view s);

// "2026-12-04T18:40:00.123Z"
std::string rfc3339_ms(std::chrono::system_clock::time_point t);

// The whole file: header line, then one line per entry of `snap`. `samples` false writes "samples":[]
// whatever the entries hold.
std::string to_jsonl(const Snapshot& snap, bool samples, std::chrono::system_clock::time_point written_at);

// Writes `content` to `path`.tmp in the same directory and renames it over `path`. Empty on
// success, else "PATH: strerror".
std::string write_atomically(const std::string& path, std::string_view content);

}  // namespace pgopt::pooler::capture
