// A growable byte buffer with a read cursor: sockets append at the end, decoders consume the front.
#pragma once

#include <boost/asio/buffer.hpp>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace pgopt::pooler {

// Storage is allocated on first use and never zero-filled: 10,000 idle clients should cost only
// what they actually hold (see release()).
class Buffer {
 public:
  explicit Buffer(size_t initial = 0) {
    if (initial) reserve_exact(initial);
  }

  std::span<const uint8_t> readable() const { return {data_.get() + begin_, end_ - begin_}; }
  // The same bytes, to rewrite in place (a routing hint blanked out keeps every length).
  std::span<uint8_t> readable_mut() { return {data_.get() + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  size_t capacity() const { return cap_; }
  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;  // cheap reset keeps the hot path at offset 0
  }
  // Space for at least `min` more bytes, moving unread bytes to the front before growing.
  boost::asio::mutable_buffer prepare(size_t min = 4096) {
    if (cap_ - end_ < min) {
      if (begin_ > 0) {
        std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (cap_ - end_ < min) reserve_exact(std::max({cap_ * 2, end_ + min, kFirst}));
    }
    return boost::asio::buffer(data_.get() + end_, cap_ - end_);
  }
  void commit(size_t n) { end_ += n; }
  void append(const uint8_t* p, size_t n) {
    auto space = prepare(n);
    std::memcpy(space.data(), p, n);
    commit(n);
  }
  void clear() { begin_ = end_ = 0; }
  // Give back memory after a huge message, keeping `keep` bytes for the next one.
  void shrink(size_t keep = 16 * 1024) {
    if (empty() && cap_ > keep) {
      data_.reset();
      cap_ = 0;
      if (keep) reserve_exact(keep);
    }
  }
  // Give back all memory; only valid while no read into this buffer is pending.
  void release() { shrink(0); }

 private:
  static constexpr size_t kFirst = 512;  // a startup packet or a password message fits
  void reserve_exact(size_t cap) {
    std::unique_ptr<uint8_t[]> next(new uint8_t[cap]);
    if (end_ > begin_) std::memcpy(next.get(), data_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    data_ = std::move(next);
    cap_ = cap;
  }
  std::unique_ptr<uint8_t[]> data_;
  size_t cap_ = 0, begin_ = 0, end_ = 0;
};

}  // namespace pgopt::pooler
