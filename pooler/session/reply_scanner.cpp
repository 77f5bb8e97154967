// Cutting server bytes into messages for the relay's listener (see reply_scanner.hpp).
#include "pooler/session/reply_scanner.hpp"

#include <algorithm>

#include "pooler/session/invariant.hpp"

namespace pgopt::pooler::session {

ReplyScanner::Result ReplyScanner::scan(std::span<const uint8_t> data, ReplyListener& listener) {
  Result r;
  size_t pos = std::min(stream_left_, data.size());  // the rest of a streamed message passes
  stream_left_ -= pos;
  bool copied = false;  // something was dropped or replaced: the output is copy_
  size_t copied_upto = 0;
  auto copy_upto = [&](size_t end) {
    if (!copied) copy_.clear();
    copied = true;
    copy_.append(reinterpret_cast<const char*>(data.data()) + copied_upto, end - copied_upto);
    copied_upto = end;
  };
  std::string replacement;
  while (stream_left_ == 0 && data.size() - pos >= 5) {
    const uint8_t* p = data.data() + pos;
    const char type = char(p[0]);
    const uint32_t len = uint32_t(p[1]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 8 | uint32_t(p[4]);
    if (len < 4) {
      r.status = Status::Malformed;
      break;
    }
    const size_t total = size_t(len) + 1;
    if (data.size() - pos < total) {
      if (listener.needs_body(type)) break;  // judged once it is all here
      const Verdict v = listener.on_message(type, {}, true, replacement);
      PGOPT_ASSERT(v == Verdict::Forward || v == Verdict::Stop);
      if (v == Verdict::Stop) {
        r.status = Status::Stopped;
        break;
      }
      stream_left_ = total - (data.size() - pos);
      pos = data.size();
      break;
    }
    replacement.clear();
    const Verdict v = listener.on_message(type, {p + 5, len - 4}, false, replacement);
    if (v == Verdict::Stop) {
      r.status = Status::Stopped;
      break;
    }
    if (v != Verdict::Forward) {
      copy_upto(pos);
      if (v == Verdict::Replace) copy_.append(replacement);
      copied_upto = pos + total;
    }
    pos += total;
  }
  if (copied) copy_upto(pos);
  r.consumed = pos;
  r.out = copied ? std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(copy_.data()), copy_.size())
                 : data.first(pos);
  return r;
}

}  // namespace pgopt::pooler::session
