#include "resonator_stream_check.hpp"

#include <algorithm>
#include <chrono>
#include <string>

#include <fmt/format.h>

#include "kelvin/driver/resonator/sample_stream.hpp"

namespace kelvin::runtime::selftest::detail {

constexpr std::uint32_t kStreamDecimation = 8;

void check_stream(driver::ResonatorBoard& board, const Options& options, Recorder& recorder) {
  if (!board.description().has_capability(driver::capability::kStreaming)) {
    recorder.skip("stream", "board", "the board cannot stream (no streaming capability)");
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  const common::Deadline deadline = common::Deadline::after(options.timeout);
  driver::StreamOptions stream_options;
  stream_options.request.reset_state = true;
  // Decimated by 8 (averaged), the ring holds 8x longer: a host descheduled for a while (a
  // loaded machine) does not overflow it, and an overflow says more about the board.
  if (board.description().has_capability(driver::capability::kDecimation)) {
    stream_options.request.decimation = std::min<std::uint32_t>(
        kStreamDecimation,
        board.description().resonator
            ? std::max<std::uint32_t>(1, board.description().resonator->max_decimation)
            : 1);
    stream_options.request.average = true;
  }
  driver::SampleStream stream(board, stream_options, deadline);
  const driver::StreamTicket ticket = stream.ticket();
  std::uint64_t expected_sequence = 0;
  std::uint64_t discontinuities = 0;
  std::string first_problem;
  const auto problem = [&](std::string what) {
    if (discontinuities++ == 0)
      first_problem = std::move(what);
  };
  bool ended = false;
  while (!ended) {
    if (!stream.stopped() && expected_sequence >= options.stream_samples)
      stream.stop(deadline);
    const driver::StreamFrame frame = stream.recv(deadline);
    const driver::StreamMetadata& m = frame.metadata;
    ended = m.end_of_stream;
    if (m.error == driver::StreamErrorKind::kTimeout) {
      if (deadline.expired())
        break;
      continue;
    }
    if (m.sample_count == 0)
      continue;
    if (m.first_sequence != expected_sequence || m.lost_before != 0) {
      problem(fmt::format("frame at sequence {} (expected {}), {} samples lost before it ({})",
                          m.first_sequence, expected_sequence, m.lost_before,
                          driver::to_string(m.error)));
    }
    const std::uint64_t tick =
        ticket.first_tick + m.first_sequence * ticket.ticks_per_output_sample;
    if (m.first_tick != tick)
      problem(fmt::format("frame at sequence {} has tick {}, expected {}", m.first_sequence,
                          m.first_tick, tick));
    expected_sequence = m.first_sequence + m.sample_count;
  }
  const driver::StreamCounters c = stream.counters();
  const bool accounted = c.produced == c.received + c.lost + c.buffered;
  const double time_s = seconds_since(start);
  if (!ended) {
    recorder.fail("stream", "board",
                  fmt::format("the stream did not end within {} ms ({} of {} samples received)",
                              options.timeout.count(), c.received, options.stream_samples),
                  time_s);
  } else if (discontinuities > 0 || c.lost > 0 || !accounted) {
    recorder.fail(
        "stream", "board",
        fmt::format("{} discontinuities ({}), {} samples lost, produced {} {} received "
                    "{} + lost {} + buffered {}",
                    discontinuities, first_problem.empty() ? "none" : first_problem, c.lost,
                    c.produced, accounted ? "==" : "!=", c.received, c.lost, c.buffered),
        time_s);
  } else {
    recorder.pass("stream", "board",
                  fmt::format("{} samples in {} frames, sequence numbers and ticks contiguous, "
                              "none lost, produced == received + lost + buffered",
                              c.received, c.frames),
                  time_s);
  }
}

}  // namespace kelvin::runtime::selftest::detail
