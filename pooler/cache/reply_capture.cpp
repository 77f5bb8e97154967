// ReplyCapture: a three-state check over message type bytes (before RowDescription, rows,
// complete); the message framing is the relay's, only the type and length byte positions are read.
#include "pooler/cache/reply_capture.hpp"

namespace pgopt::pooler::cache {
namespace {

uint32_t be32(std::string_view s, size_t at) {
  auto b = [&](size_t i) { return uint32_t(static_cast<unsigned char>(s[at + i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

std::string_view name_of(char type) {
  switch (type) {
    case 'E': return "ErrorResponse";
    case 'N': return "NoticeResponse";
    case 'S': return "ParameterStatus";
    case 's': return "PortalSuspended";
    case 'I': return "EmptyQueryResponse";
    case 'A': return "NotificationResponse";
    case 'n': return "NoData";
    case 'G': case 'H': case 'W': case 'd': case 'c': return "COPY";
    default: return {};
  }
}

}  // namespace

void ReplyCapture::abandon(std::string why) {
  if (why_not_.empty()) why_not_ = std::move(why);
  std::string().swap(bytes_);  // free now: the relay may keep this object until the reply ends
}

bool ReplyCapture::on_message(std::string_view m) {
  if (abandoned()) return false;
  if (m.size() < 5 || be32(m, 1) != m.size() - 1) {
    abandon("malformed message");
    return false;
  }
  const char type = m[0];
  if (complete_) {
    abandon("a message after CommandComplete");
    return false;
  }
  switch (type) {
    case '1':  // ParseComplete
    case '2':  // BindComplete
      if (described_) abandon("ParseComplete/BindComplete inside the rows");
      return !abandoned();
    case 'T':
      if (described_) abandon("a second RowDescription");
      described_ = true;
      break;
    case 'D':
      if (!described_) abandon("rows without RowDescription (Execute without Describe)");
      break;
    case 'C':
      if (!described_) abandon("CommandComplete without RowDescription");
      complete_ = true;
      break;
    default: {
      std::string_view name = name_of(type);
      abandon(name.empty() ? "unexpected message '" + std::string(1, type) + "'" : std::string(name));
      return false;
    }
  }
  if (abandoned()) return false;
  if (bytes_.size() + m.size() > max_bytes_) {
    abandon("larger than max_entry_size");
    return false;
  }
  bytes_.append(m);
  return true;
}

size_t row_description_size(std::string_view reply) {
  if (reply.size() < 5 || reply[0] != 'T') return 0;
  const size_t n = 1 + size_t(be32(reply, 1));
  return n <= reply.size() ? n : 0;
}

}  // namespace pgopt::pooler::cache
