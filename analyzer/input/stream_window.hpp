// A sliding window over a ByteSource: large reads, lines handed out as offsets, and the current
// entry (from the anchor on) kept contiguous so readers can take string_views into it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "analyzer/input/byte_source.hpp"

namespace pgopt::analyzer::input {

class StreamWindow {
 public:
  enum class Status { line, unterminated, end, too_long };

  // `offset` is the stream position of the source's first byte (for --jobs byte ranges).
  StreamWindow(ByteSource& src, uint64_t offset, std::atomic<uint64_t>* progress = nullptr,
               size_t chunk = size_t(1) << 20, size_t max_entry = size_t(256) << 20);

  // Finds the line starting `rel` bytes after the anchor; `len` excludes the newline. May read
  // more input and move bytes, but offsets relative to the anchor stay valid.
  Status line(size_t rel, size_t* len);
  // Pointer to the anchor; valid until the next call of line().
  const char* anchor() const { return buf_.get() + anchor_; }
  void advance(size_t rel) { anchor_ += rel; }
  uint64_t offset(size_t rel = 0) const { return base_ + anchor_ + rel; }
  // Drops everything up to and including the next newline at or after the anchor (an entry that
  // grew beyond max_entry). Returns the number of newlines skipped over... always 1 or 0 at end.
  bool skip_line();
  uint64_t bytes_read() const { return total_read_; }

 private:
  bool fill();
  void grow(size_t bigger);

  ByteSource& src_;
  std::atomic<uint64_t>* progress_;
  size_t chunk_, max_entry_;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0, anchor_ = 0, end_ = 0, scanned_ = 0;
  uint64_t base_;
  uint64_t total_read_ = 0, raw_reported_ = 0;
  bool eof_ = false;
  bool full_ = false;
};

}  // namespace pgopt::analyzer::input
