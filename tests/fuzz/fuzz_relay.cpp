// libFuzzer target for the relay's socket-free parts (pooler/session/). The input is split in two:
// a server byte stream, scanned whole and again in chunks whose sizes the input picks, and a
// sequence of client messages and server replies driving the transaction tracker. Checks: the
// scanner judges the same messages whatever the chunking and, forwarding everything, gives the
// client exactly the bytes it consumed; the tracker's counts never go negative, a hidden BEGIN is
// never more than what is owed (PGOPT_ASSERT inside), and forgetting the requests leaves nothing owed.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "pooler/session/reply_scanner.hpp"
#include "pooler/session/tx_tracker.hpp"

namespace {

using namespace pgopt::pooler::session;

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

// Forwards everything; wants bodies of types with an even byte (the others stream).
struct Forwarder final : ReplyListener {
  std::vector<std::string> seen;
  bool needs_body(char type) const override { return (uint8_t(type) & 1) == 0; }
  Verdict on_message(char type, std::span<const uint8_t> body, bool streamed, std::string&) override {
    // Streamed messages are judged by type alone: record only that, so both runs compare equal
    // when one of them happened to have a whole message in one read.
    seen.push_back(std::string(1, type) + (streamed || (uint8_t(type) & 1) ? std::string("~")
                                                                             : std::string(reinterpret_cast<const char*>(body.data()), body.size())));
    return Verdict::Forward;
  }
};

struct ScanRun {
  std::vector<std::string> seen;
  std::string out, consumed;
  bool malformed = false;
};

ScanRun scan_in_chunks(std::span<const uint8_t> stream, std::span<const uint8_t> sizes) {
  ScanRun run;
  Forwarder f;
  ReplyScanner scanner;
  std::string buf;
  size_t at = 0, k = 0;
  while (at < stream.size()) {
    const size_t n = sizes.empty() ? stream.size() : std::max<size_t>(1, sizes[k++ % sizes.size()]);
    const size_t take = std::min(n, stream.size() - at);
    buf.append(reinterpret_cast<const char*>(stream.data()) + at, take);
    at += take;
    auto r = scanner.scan({reinterpret_cast<const uint8_t*>(buf.data()), buf.size()}, f);
    FUZZ_CHECK(r.consumed <= buf.size());
    run.out.append(reinterpret_cast<const char*>(r.out.data()), r.out.size());
    run.consumed.append(buf, 0, r.consumed);
    buf.erase(0, r.consumed);
    if (r.status == ReplyScanner::Status::Malformed) {
      run.malformed = true;
      break;
    }
    FUZZ_CHECK(r.status == ReplyScanner::Status::Ok);
  }
  run.seen = std::move(f.seen);
  return run;
}

void drive_tracker(std::span<const uint8_t> ops) {
  static constexpr char kClient[] = {'Q', 'P', 'B', 'E', 'D', 'C', 'H', 'S', 'F', 'd', 'c', 'f'};
  static constexpr TxStatus kStatus[] = {TxStatus::Idle, TxStatus::InTransaction, TxStatus::Failed};
  TxTracker t;
  t.start();
  for (uint8_t op : ops) {
    switch (op % 8) {
      case 0:
      case 1:
        t.on_client(kClient[(op / 8) % sizeof(kClient)]);
        break;
      case 2:
        t.on_ready(kStatus[(op / 8) % 3]);
        break;
      case 3:
        t.on_copy_in();
        break;
      case 4:
        if (op & 8) t.on_error();
        else t.send_hidden_begin();
        break;
      case 5:
        t.on_statement(op & 8 ? "DECLARE c CURSOR WITH HOLD FOR SELECT 1" : "CLOSE ALL");
        break;
      case 6:
        t.forget_requests();
        FUZZ_CHECK(!t.busy() && !t.hiding());
        break;
      case 7:
        t.start();
        FUZZ_CHECK(!t.busy() && t.status() == TxStatus::Idle);
        break;
    }
    FUZZ_CHECK(t.outstanding() >= 0 && t.unsynced() >= 0);
    if (t.releasable()) FUZZ_CHECK(!t.busy() && t.status() == TxStatus::Idle && !t.copy_in_open());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // First byte: where the server stream ends; the rest after it are chunk sizes, then tracker ops.
  const size_t stream_len = std::min<size_t>(size - 1, size_t(data[0]) * 4);
  std::span<const uint8_t> stream(data + 1, stream_len);
  std::span<const uint8_t> rest(data + 1 + stream_len, size - 1 - stream_len);
  const size_t n_sizes = rest.empty() ? 0 : std::min<size_t>(rest.size(), rest[0] % 16);
  std::span<const uint8_t> sizes = rest.empty() ? rest : rest.subspan(1, std::min(n_sizes, rest.size() - 1));

  const ScanRun whole = scan_in_chunks(stream, {});
  const ScanRun chunked = scan_in_chunks(stream, sizes);
  FUZZ_CHECK(whole.out == whole.consumed);
  FUZZ_CHECK(chunked.out == chunked.consumed);
  FUZZ_CHECK(whole.malformed == chunked.malformed);
  if (!whole.malformed) {
    FUZZ_CHECK(whole.seen == chunked.seen);
    FUZZ_CHECK(whole.consumed == chunked.consumed);
  }
  drive_tracker(rest.subspan(std::min(rest.size(), 1 + n_sizes)));
  return 0;
}
