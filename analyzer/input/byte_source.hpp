// Byte streams the log readers pull from: plain files (from an offset), stdin, memory, gzip, zstd.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace pgopt::analyzer::input {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills up to `n` bytes; returns 0 at end of stream. A read error ends the stream and sets error().
  virtual size_t read(char* out, size_t n) = 0;
  const std::string& error() const { return error_; }
  // Bytes consumed from the underlying file so far (compressed bytes for .gz/.zst), for progress.
  uint64_t raw_consumed() const { return raw_consumed_; }

 protected:
  std::string error_;
  uint64_t raw_consumed_ = 0;
};

enum class Compression { none, gzip, zstd };

// gzip (1f 8b) or zstd (28 b5 2f fd) magic at the start of `head`.
Compression sniff_compression(std::string_view head);

struct OpenedSource {
  std::unique_ptr<ByteSource> source;
  Compression compression = Compression::none;
  uint64_t size = 0;        // file size on disk (0 for stdin and pipes)
  bool seekable = false;    // a regular uncompressed file: may be split into byte ranges
  std::string error;        // "path: No such file or directory"
};

// Opens `path` ("-" is stdin) and sniffs gzip/zstd magic bytes, wrapping the stream accordingly.
OpenedSource open_source(const std::string& path);
// A plain regular file read from byte `offset` (for --jobs ranges; no decompression).
std::unique_ptr<ByteSource> open_file_range(const std::string& path, uint64_t offset, std::string* error);
// Memory (not owned): the fuzzer and tests read through the same code as files. Sniffs magic too.
std::unique_ptr<ByteSource> open_memory(std::string_view data, uint64_t offset = 0);

}  // namespace pgopt::analyzer::input
