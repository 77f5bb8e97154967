// Buffer management for the log readers: 1 MB reads, compaction at entry boundaries, growth for
// huge entries up to a bound.
#include "analyzer/input/stream_window.hpp"

#include <algorithm>
#include <cstring>

namespace pgopt::analyzer::input {

StreamWindow::StreamWindow(ByteSource& src, uint64_t offset, std::atomic<uint64_t>* progress, size_t chunk,
                           size_t max_entry)
    : src_(src), progress_(progress), chunk_(chunk), max_entry_(max_entry), base_(offset) {
  // Start small (short inputs, many ranges in tests) and grow to two chunks once the stream
  // proves longer than the buffer.
  cap_ = std::min(chunk_ * 2, size_t(64) << 10);
  buf_ = std::make_unique_for_overwrite<char[]>(cap_);
}

void StreamWindow::grow(size_t bigger) {
  auto nb = std::make_unique_for_overwrite<char[]>(bigger);
  std::memcpy(nb.get(), buf_.get(), end_);
  buf_ = std::move(nb);
  cap_ = bigger;
}

bool StreamWindow::fill() {
  if (eof_) return false;
  if (anchor_ > 0) {
    size_t keep = end_ - anchor_;
    std::memmove(buf_.get(), buf_.get() + anchor_, keep);
    base_ += anchor_;
    scanned_ = scanned_ > anchor_ ? scanned_ - anchor_ : 0;
    end_ = keep;
    anchor_ = 0;
  }
  if (cap_ < chunk_ * 2 && total_read_ >= cap_) {
    grow(std::min(cap_ * 4, chunk_ * 2));
  } else if (cap_ - end_ < std::min(chunk_, cap_ / 2)) {
    if (end_ >= max_entry_) {
      full_ = true;
      return false;
    }
    grow(cap_ * 2);  // one entry larger than the window
  }
  size_t got = src_.read(buf_.get() + end_, cap_ - end_);
  if (got == 0) {
    eof_ = true;
    return false;
  }
  end_ += got;
  total_read_ += got;
  if (progress_) {
    uint64_t raw = src_.raw_consumed();
    progress_->fetch_add(raw - raw_reported_, std::memory_order_relaxed);
    raw_reported_ = raw;
  }
  return true;
}

StreamWindow::Status StreamWindow::line(size_t rel, size_t* len) {
  for (;;) {
    size_t start = anchor_ + rel;
    size_t from = scanned_ > start ? scanned_ : start;
    if (from < end_) {
      const void* nl = std::memchr(buf_.get() + from, '\n', end_ - from);
      if (nl) {
        size_t at = size_t(static_cast<const char*>(nl) - buf_.get());
        *len = at - start;
        scanned_ = 0;
        return Status::line;
      }
    }
    scanned_ = end_ > start ? end_ : start;
    if (!fill()) {
      if (full_) {
        full_ = false;
        return Status::too_long;
      }
      start = anchor_ + rel;
      scanned_ = 0;
      if (start >= end_) return Status::end;
      *len = end_ - start;
      return Status::unterminated;
    }
  }
}

bool StreamWindow::skip_line() {
  // Discard the oversized entry in pieces until its terminating newline.
  for (;;) {
    const void* nl = std::memchr(buf_.get() + anchor_, '\n', end_ - anchor_);
    if (nl) {
      anchor_ = size_t(static_cast<const char*>(nl) - buf_.get()) + 1;
      scanned_ = 0;
      return true;
    }
    anchor_ = end_;
    scanned_ = 0;
    if (!fill()) return false;
  }
}

}  // namespace pgopt::analyzer::input
