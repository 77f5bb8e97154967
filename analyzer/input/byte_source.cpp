// Plain, memory, gzip (zlib) and zstd (streaming) byte sources, chosen by magic bytes, not names.
#include "analyzer/input/byte_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace pgopt::analyzer::input {
namespace {

constexpr size_t kCompressedChunk = 256 * 1024;

class FdSource : public ByteSource {
 public:
  FdSource(int fd, bool owned, std::string name) : fd_(fd), owned_(owned), name_(std::move(name)) {}
  ~FdSource() override {
    if (owned_ && fd_ >= 0) ::close(fd_);
  }
  // Bytes already read while sniffing the magic of a pipe; handed out before reading the fd again.
  void push_back(std::string bytes) { pushed_ = std::move(bytes); }

  size_t read(char* out, size_t n) override {
    if (pos_pushed_ < pushed_.size()) {
      size_t k = std::min(n, pushed_.size() - pos_pushed_);
      std::memcpy(out, pushed_.data() + pos_pushed_, k);
      pos_pushed_ += k;
      return k;
    }
    if (fd_ < 0 || eof_) return 0;
    for (;;) {
      ssize_t r = ::read(fd_, out, n);
      if (r > 0) {
        raw_consumed_ += uint64_t(r);
        return size_t(r);
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) error_ = name_ + ": " + std::strerror(errno);
      eof_ = true;
      return 0;
    }
  }

 private:
  int fd_;
  bool owned_;
  bool eof_ = false;
  std::string name_;
  std::string pushed_;
  size_t pos_pushed_ = 0;
};

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  size_t read(char* out, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(out, data_.data() + pos_, k);
    pos_ += k;
    raw_consumed_ += k;
    return k;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

class GzipSource : public ByteSource {
 public:
  explicit GzipSource(std::unique_ptr<ByteSource> inner) : inner_(std::move(inner)), in_(kCompressedChunk) {
    std::memset(&z_, 0, sizeof z_);
    // 15 + 32: accept gzip or zlib headers, maximum window.
    ok_ = inflateInit2(&z_, 15 + 32) == Z_OK;
    if (!ok_) error_ = "gzip: cannot initialise zlib";
  }
  ~GzipSource() override {
    if (ok_) inflateEnd(&z_);
  }

  size_t read(char* out, size_t n) override {
    if (!ok_ || done_) return 0;
    const uInt want = uInt(std::min<size_t>(n, 1u << 30));
    z_.next_out = reinterpret_cast<Bytef*>(out);
    z_.avail_out = want;
    while (z_.avail_out == want) {
      if (z_.avail_in == 0) {
        size_t got = inner_->read(reinterpret_cast<char*>(in_.data()), in_.size());
        raw_consumed_ = inner_->raw_consumed();
        if (got == 0) {
          if (!inner_->error().empty()) error_ = inner_->error();
          else if (in_member_) error_ = "gzip: unexpected end of compressed data (truncated file?)";
          done_ = true;
          break;
        }
        z_.next_in = in_.data();
        z_.avail_in = uInt(got);
      }
      in_member_ = true;
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        // Concatenated members (e.g. `cat a.gz b.gz`) are one stream to gzip(1); likewise here.
        in_member_ = false;
        inflateReset(&z_);
        continue;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        error_ = std::string("gzip: ") + (z_.msg ? z_.msg : "corrupt data");
        done_ = true;
        break;
      }
    }
    return want - z_.avail_out;
  }

 private:
  std::unique_ptr<ByteSource> inner_;
  std::vector<unsigned char> in_;
  z_stream z_;
  bool ok_ = false;
  bool done_ = false;
  bool in_member_ = false;
};

class ZstdSource : public ByteSource {
 public:
  explicit ZstdSource(std::unique_ptr<ByteSource> inner)
      : inner_(std::move(inner)), in_(ZSTD_DStreamInSize()), ds_(ZSTD_createDStream()) {
    if (!ds_) error_ = "zstd: cannot create decompression stream";
    else ZSTD_initDStream(ds_);
  }
  ~ZstdSource() override { ZSTD_freeDStream(ds_); }

  size_t read(char* out, size_t n) override {
    if (!ds_ || done_) return 0;
    ZSTD_outBuffer ob{out, n, 0};
    while (ob.pos == 0) {
      if (ib_.pos == ib_.size) {
        size_t got = inner_->read(in_.data(), in_.size());
        raw_consumed_ = inner_->raw_consumed();
        if (got == 0) {
          if (!inner_->error().empty()) error_ = inner_->error();
          else if (last_hint_ != 0) error_ = "zstd: unexpected end of compressed data (truncated file?)";
          done_ = true;
          break;
        }
        ib_ = ZSTD_inBuffer{in_.data(), got, 0};
      }
      size_t hint = ZSTD_decompressStream(ds_, &ob, &ib_);
      if (ZSTD_isError(hint)) {
        error_ = std::string("zstd: ") + ZSTD_getErrorName(hint);
        done_ = true;
        break;
      }
      last_hint_ = hint;  // 0: a frame just ended cleanly
    }
    return ob.pos;
  }

 private:
  std::unique_ptr<ByteSource> inner_;
  std::vector<char> in_;
  ZSTD_DStream* ds_;
  ZSTD_inBuffer ib_{nullptr, 0, 0};
  size_t last_hint_ = 0;
  bool done_ = false;
};

}  // namespace

Compression sniff_compression(std::string_view head) {
  if (head.size() >= 2 && uint8_t(head[0]) == 0x1f && uint8_t(head[1]) == 0x8b) return Compression::gzip;
  if (head.size() >= 4 && uint8_t(head[0]) == 0x28 && uint8_t(head[1]) == 0xb5 &&
      uint8_t(head[2]) == 0x2f && uint8_t(head[3]) == 0xfd)
    return Compression::zstd;
  return Compression::none;
}

namespace {

Compression sniff(std::string_view head) { return sniff_compression(head); }

std::unique_ptr<ByteSource> wrap(std::unique_ptr<ByteSource> src, Compression c) {
  switch (c) {
    case Compression::gzip: return std::make_unique<GzipSource>(std::move(src));
    case Compression::zstd: return std::make_unique<ZstdSource>(std::move(src));
    case Compression::none: break;
  }
  return src;
}

}  // namespace

OpenedSource open_source(const std::string& path) {
  OpenedSource out;
  if (path == "-") {
    auto src = std::make_unique<FdSource>(0, false, "<stdin>");
    // A pipe cannot be re-read: keep the sniffed bytes and hand them out first.
    std::string head(4, '\0');
    size_t got = 0;
    while (got < head.size()) {
      size_t r = src->read(head.data() + got, head.size() - got);
      if (r == 0) break;
      got += r;
    }
    head.resize(got);
    out.compression = sniff(head);
    src->push_back(std::move(head));
    out.source = wrap(std::move(src), out.compression);
    return out;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    out.error = path + ": " + std::strerror(errno);
    return out;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    out.error = path + ": " + std::strerror(S_ISDIR(st.st_mode) ? EISDIR : errno);
    ::close(fd);
    return out;
  }
  char head[4];
  ssize_t got = ::pread(fd, head, sizeof head, 0);
  bool regular = S_ISREG(st.st_mode);
  auto src = std::make_unique<FdSource>(fd, true, path);
  if (!regular) {
    // FIFO or character device: read the magic bytes once and push them back.
    std::string h(4, '\0');
    size_t n = 0;
    while (n < h.size()) {
      size_t r = src->read(h.data() + n, h.size() - n);
      if (r == 0) break;
      n += r;
    }
    h.resize(n);
    out.compression = sniff(h);
    src->push_back(std::move(h));
  } else {
    out.compression = got > 0 ? sniff(std::string_view(head, size_t(got))) : Compression::none;
    out.size = uint64_t(st.st_size);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  out.seekable = regular && out.compression == Compression::none;
  out.source = wrap(std::move(src), out.compression);
  return out;
}

std::unique_ptr<ByteSource> open_file_range(const std::string& path, uint64_t offset, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::lseek(fd, off_t(offset), SEEK_SET) < 0) {
    if (error) *error = path + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  ::posix_fadvise(fd, off_t(offset), 0, POSIX_FADV_SEQUENTIAL);
  return std::make_unique<FdSource>(fd, true, path);
}

std::unique_ptr<ByteSource> open_memory(std::string_view data, uint64_t offset) {
  if (offset > data.size()) offset = data.size();
  Compression c = offset == 0 ? sniff(data) : Compression::none;
  return wrap(std::make_unique<MemorySource>(data.substr(offset)), c);
}

}  // namespace pgopt::analyzer::input
