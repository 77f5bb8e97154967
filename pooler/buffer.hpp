// A growable byte buffer with a read cursor: sockets append at the end, decoders consume the front.
#pragma once

#include <boost/asio/buffer.hpp>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace pgopt::pooler {

class Buffer {
 public:
  explicit Buffer(size_t initial = 16 * 1024) : data_(initial) {}

  std::span<const uint8_t> readable() const { return {data_.data() + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;  // cheap reset keeps the hot path at offset 0
  }
  // Space for at least `min` more bytes, moving unread bytes to the front before growing.
  boost::asio::mutable_buffer prepare(size_t min = 4096) {
    if (data_.size() - end_ < min) {
      if (begin_ > 0) {
        std::memmove(data_.data(), data_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (data_.size() - end_ < min) data_.resize(std::max(data_.size() * 2, end_ + min));
    }
    return boost::asio::buffer(data_.data() + end_, data_.size() - end_);
  }
  void commit(size_t n) { end_ += n; }
  void clear() { begin_ = end_ = 0; }
  // Give back memory after a huge message so 10,000 idle clients stay small.
  void shrink(size_t keep = 16 * 1024) {
    if (empty() && data_.size() > keep) {
      data_.resize(keep);
      data_.shrink_to_fit();
    }
  }

 private:
  std::vector<uint8_t> data_;
  size_t begin_ = 0, end_ = 0;
};

}  // namespace pgopt::pooler
