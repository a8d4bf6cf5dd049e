// Resonator-board streams: the account of every sample, BUSY while streaming, timed starts and
// resumable reads. Every case stops its stream on every path (StreamGuard).
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "case_lists.hpp"
#include "case_support.hpp"

namespace kelvin::tools::conformance::detail {
namespace {

using namespace std::chrono_literals;

constexpr std::uint32_t kReadSamples = 4096;

const wire::StreamStarted& start(Session& s, std::uint64_t start_tick, Exchange& x) {
  x = exchange(*s.device, start_stream(start_tick));
  return expect_reply(x, Envelope::kStreamStarted, "StreamStarted").stream_started();
}

// The invariants every StreamData must keep (docs/protocol.md, "Loss is countable").
void check_data(const Exchange& x, const wire::StreamData& d, std::uint32_t cells) {
  check(d.cells() == cells, fmt::format("cells {}", cells), x);
  check(d.samples_le16().size() == d.sample_count() * cells * 2,
        fmt::format("{} bytes of samples (sample_count x cells x 2)", d.sample_count() * cells * 2),
        x);
  check(d.produced() == d.first_sequence() + d.sample_count() + d.buffered(),
        fmt::format("produced = first_sequence + sample_count + buffered = {}",
                    d.first_sequence() + d.sample_count() + d.buffered()),
        x);
}

void accounts_for_every_sample(const CaseContext& context) {
  Session s = open_session(context);
  require_resonator(s, wire::CAPABILITY_STREAMING, "CAPABILITY_STREAMING");
  program(s);
  StreamGuard guard(s);
  Exchange x;
  start(s, 0, x);
  const std::uint32_t n = s.info.cell_count();
  std::uint64_t next = 0;  // the sequence after the last sample received
  std::uint64_t lost = 0;
  std::uint64_t received = 0;
  bool stopped = false;
  for (int k = 0; k < 1000; ++k) {
    if (k == 8) {
      expect_reply(exchange(*s.device, stop_stream()), Envelope::kAck, "Ack for StopStream");
      stopped = true;
    }
    const Exchange read = exchange(*s.device, read_stream(kReadSamples));
    const auto& d = expect_reply(read, Envelope::kStreamData, "StreamData").stream_data();
    check_data(read, d, n);
    check(d.lost_samples() >= lost, fmt::format("lost_samples not below {}", lost), read);
    check(d.first_sequence() - next == d.lost_samples() - lost,
          fmt::format("first_sequence {} (the gap after sample {} equal to the growth of "
                      "lost_samples, {})",
                      next + (d.lost_samples() - lost), next, d.lost_samples() - lost),
          read);
    next = d.first_sequence() + d.sample_count();
    lost = d.lost_samples();
    received += d.sample_count();
    if (stopped && !d.running() && d.buffered() == 0) {
      check(received + lost == d.produced(),
            fmt::format("every produced sample received or lost: {} + {} = {}", received, lost,
                        d.produced()),
            read);
      check(received > 0, "some samples", read);
      return;
    }
    if (!stopped)
      std::this_thread::sleep_for(5ms);
  }
  fail("a stopped stream whose ring drains (running false, buffered 0) within 1000 reads");
}

void busy_while_streaming(const CaseContext& context) {
  Session s = open_session(context);
  require_resonator(s, wire::CAPABILITY_STREAMING, "CAPABILITY_STREAMING");
  program(s);
  StreamGuard guard(s);
  Exchange x;
  start(s, 0, x);
  Envelope run;
  run.mutable_start_run()->set_duration_ticks(1000 * std::uint64_t{s.info.ticks_per_sample()});
  expect_error(exchange(*s.device, run), wire::ERROR_CODE_BUSY, "a stream is running");
  expect_error(exchange(*s.device, start_stream()), wire::ERROR_CODE_BUSY,
               "a stream is running already");
  expect_reply(exchange(*s.device, stop_stream()), Envelope::kAck, "Ack for StopStream");
}

void timed_start(const CaseContext& context) {
  Session s = open_session(context);
  require_resonator(s, wire::CAPABILITY_TIMED_START, "CAPABILITY_TIMED_START");
  program(s);
  const std::uint64_t tps = s.info.ticks_per_sample();
  const auto ahead = static_cast<std::uint64_t>(0.05 * s.info.tick_rate_hz());  // 50 ms
  {
    StreamGuard guard(s);
    const std::uint64_t at = (device_tick(s) + ahead + tps - 1) / tps * tps;
    Exchange x;
    const auto& started = start(s, at, x);
    // Acquisition begins at start_tick; its first sample carries the tick one output period on.
    const std::uint64_t first = at + started.ticks_per_output_sample();
    check(started.first_tick() == first,
          fmt::format("first_tick {} (start_tick {} + ticks_per_output_sample)", first, at), x);
  }
  // A start in the past. An emulated board's clock stands still while it is idle, so a short
  // run moves it on first.
  Envelope run;
  run.mutable_start_run()->set_duration_ticks(1000 * tps);
  const Exchange started = exchange(*s.device, run);
  const auto id = expect_reply(started, Envelope::kRunStarted, "RunStarted").run_started().run_id();
  Envelope read;
  read.mutable_read_results()->set_run_id(id);
  expect_reply(exchange(*s.device, read), Envelope::kRunResults, "RunResults");
  const std::uint64_t now = device_tick(s) / tps * tps;
  check(now >= 2 * tps,
        fmt::format("a device tick of at least {} after a 1000-sample run", 2 * tps), started);
  StreamGuard guard(s);
  const Exchange late = exchange(*s.device, start_stream(now - tps));
  expect_error(late, wire::ERROR_CODE_LATE_COMMAND,
               fmt::format("start_tick {} had passed when it was sent (tick {})", now - tps, now));
}

void resumable_read(const CaseContext& context) {
  Session s = open_session(context);
  require_resonator(s, wire::CAPABILITY_RESUMABLE_READ, "CAPABILITY_RESUMABLE_READ");
  program(s);
  StreamGuard guard(s);
  Exchange x;
  start(s, 0, x);
  constexpr std::uint32_t kMax = 64;
  Exchange first;
  for (int k = 0; k < 100; ++k) {  // wait for a full read
    std::this_thread::sleep_for(2ms);
    first = exchange(*s.device, read_stream(kMax, 0));
    const auto& d = expect_reply(first, Envelope::kStreamData, "StreamData").stream_data();
    if (d.sample_count() == kMax)
      break;
  }
  const auto& a = first.reply->stream_data();
  check(a.sample_count() == kMax, fmt::format("{} samples after 200 ms of streaming", kMax), first);
  check(a.first_sequence() == 0, "first_sequence 0 for from_sequence 0", first);
  // The same from_sequence again: the samples were sent but not acknowledged, so they come again.
  const Exchange again = exchange(*s.device, read_stream(kMax, 0));
  const auto& b = expect_reply(again, Envelope::kStreamData, "StreamData").stream_data();
  check(b.first_sequence() == 0 &&
            b.samples_le16().substr(0, a.samples_le16().size()) == a.samples_le16(),
        "the same samples from sequence 0 again (the read was not acknowledged)", again);
  const Exchange next = exchange(*s.device, read_stream(kMax, kMax));
  const auto& c = expect_reply(next, Envelope::kStreamData, "StreamData").stream_data();
  check(c.first_sequence() == kMax,
        fmt::format("first_sequence {} for from_sequence {}", kMax, kMax), next);
  const std::uint64_t beyond = c.first_sequence() + c.sample_count() + 1'000'000'000;
  expect_error(exchange(*s.device, read_stream(kMax, beyond)), wire::ERROR_CODE_INVALID_ARGUMENT,
               fmt::format("from_sequence {} lies beyond every sample sent", beyond));
}

}  // namespace

std::vector<Case> stream_cases() {
  return {
      {"stream.accounts_for_every_sample",
       "every StreamData keeps produced = first_sequence + sample_count + buffered, and every "
       "sample is received or counted lost",
       accounts_for_every_sample},
      {"stream.busy_while_streaming",
       "StartRun and a second StartStream are BUSY while a stream runs", busy_while_streaming},
      {"stream.timed_start",
       "StartStream.start_tick starts the stream at that tick; a passed tick is LATE_COMMAND",
       timed_start},
      {"stream.resumable_read",
       "ReadStream.from_sequence answers from that sequence until it is acknowledged",
       resumable_read},
  };
}

}  // namespace kelvin::tools::conformance::detail
