// libFuzzer target for the result cache's pgoutput decoder (pooler/cache/pgoutput_decoder.hpp):
// arbitrary bytes cut into CopyData payloads (a 2-byte length before each), fed to one decoder.
// Checks: no crash, no read past a payload (ASan), a Malformed/Unsupported payload reports nothing,
// and every reported transaction's tables are unique and sorted.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "pooler/cache/pgoutput_decoder.hpp"

namespace {

using namespace pgopt::pooler::cache;

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

struct Counter : ChangeListener {
  size_t events = 0;
  void on_relation(uint32_t, std::string_view, std::string_view) override { ++events; }
  void on_commit(const CommittedTransaction& tx) override {
    ++events;
    FUZZ_CHECK(std::is_sorted(tx.tables.begin(), tx.tables.end()));
    FUZZ_CHECK(std::adjacent_find(tx.tables.begin(), tx.tables.end()) == tx.tables.end());
  }
  void on_keepalive(uint64_t, PgTimestamp, bool) override { ++events; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Counter c;
  PgoutputDecoder d(c);
  std::span<const uint8_t> in(data, size);
  while (in.size() >= 2) {
    const size_t n = std::min<size_t>(in.size() - 2, size_t(in[0]) << 8 | in[1]);
    const size_t before = c.events;
    const auto status = d.on_copy_data(in.subspan(2, n));
    if (status != PgoutputDecoder::Status::Ok) FUZZ_CHECK(c.events == before);
    in = in.subspan(2 + n);
  }
  return 0;
}
