// Shared fixture of the SampleStream tests (sample_stream_*_test.cpp): a programmed 4-cell
// emulated board, stream options for fast tests, and a reader that records what the frames say.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/resonator/sample_stream.hpp"

namespace kelvin::driver::testing {

inline constexpr std::uint32_t kCells = 4;

// Opens a 4-cell board (seed 11) with extra URI parameters and programs independent cells.
// Register writes are retried on lost replies, as a faulty link may eat them.
inline ResonatorBoard programmed_board(const std::string& extra = "") {
  using namespace std::chrono_literals;
  using common::Deadline;
  ResonatorBoard board(backends::open("sim:resonator?cells=4&seed=11" + extra));
  SymmetricCodes a(kCells);
  for (std::uint32_t i = 0; i < kCells; ++i)
    a.set(i, i, 9830);
  const std::vector<std::int16_t> b(kCells, 0);
  const auto retried = [](const auto& write) {
    const auto deadline = Deadline::after(10s);
    for (;;) {
      try {
        write(deadline.min(Deadline::after(50ms)));
        return;
      } catch (const common::Error& e) {
        if ((e.kind() != common::ErrorKind::kTimeout && e.kind() != common::ErrorKind::kBadFrame) ||
            deadline.expired())
          throw;
      }
    }
  };
  retried([&](Deadline d) { board.program_couplings(a, d); });
  retried([&](Deadline d) { board.program_biases(b, d); });
  retried([&](Deadline d) { board.set_noise(2000, d); });
  return board;
}

inline StreamOptions fast_options() {
  using namespace std::chrono_literals;
  StreamOptions o;
  // Short enough that lost replies cost little, long enough for any healthy reply: the emulator
  // spends up to 100 ms catching up before it answers when it falls behind real time (a loaded
  // machine). A shorter timeout there turns every reply into a "lost" one and starves the stream.
  o.reply_timeout = 200ms;
  o.max_samples_per_frame = 2048;
  return o;
}

// What a reader saw: samples by sequence number and the frames' bookkeeping.
struct Capture {
  std::map<std::uint64_t, std::vector<std::int16_t>> samples;  // first_sequence -> codes
  std::uint64_t next_sequence = 0;  // where the frames say the stream has reached
  std::uint64_t delivered = 0;
  std::uint64_t lost_reported = 0;
  std::map<StreamErrorKind, int> errors;
  bool contiguous = true;  // every frame starts where the previous ended plus its loss
};

inline void take(Capture& c, const StreamFrame& f) {
  const StreamMetadata& m = f.metadata;
  ++c.errors[m.error];
  if (m.error == StreamErrorKind::kTimeout)
    return;
  if (m.first_sequence != c.next_sequence + m.lost_before)
    c.contiguous = false;
  c.lost_reported += m.lost_before;
  c.delivered += m.sample_count;
  c.next_sequence = m.first_sequence + m.sample_count;
  if (m.sample_count > 0)
    c.samples[m.first_sequence] = f.samples;
}

// Streams for `duration`, stops, drains; returns what was seen. Each recv() gets a deadline of
// its own rather than the end of the duration: a recv() cut off by its deadline abandons the
// read in flight, and that reply's samples count as lost (docs/streaming.md).
inline Capture stream_for(SampleStream& stream, std::chrono::milliseconds duration) {
  using namespace std::chrono_literals;
  using common::Deadline;
  Capture c;
  const auto end = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < end)
    take(c, stream.recv(Deadline::after(10s)));
  const auto deadline = Deadline::after(10s);
  stream.stop(deadline);
  for (;;) {
    const StreamFrame f = stream.recv(deadline);
    take(c, f);
    if (f.metadata.end_of_stream)
      break;
    if (f.metadata.error == StreamErrorKind::kTimeout) {
      ADD_FAILURE() << "the stream did not drain";
      break;
    }
  }
  return c;
}

// Sanitizer builds run the emulator slower than real time, so a healthy link can still overflow
// the board's ring (counted as such); kelvin.sh sets KELVIN_SANITIZER for those runs.
inline bool emulator_may_lag() {
  return std::getenv("KELVIN_SANITIZER") != nullptr;
}

}  // namespace kelvin::driver::testing
