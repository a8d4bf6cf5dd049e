// ResonatorModel's streams: free-running acquisition into the ring buffer, paced by the board
// clock (resonator_registers.hpp, "Streaming"). Output samples come from produce_output(), as
// runs' do (resonator_run.cpp).
#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "decimation.hpp"
#include "kelvin/sim_backend/resonator_model.hpp"
#include "kelvin/sim_backend/resonator_registers.hpp"

namespace kelvin::sim_backend {
namespace {

namespace reg = resonator;

}  // namespace

void ResonatorModel::check_start_tick(std::uint64_t start_tick) const {
  if (start_tick == 0)
    return;
  if (start_tick < tick_) {
    throw BoardError(BoardErrorCode::kLateCommand,
                     fmt::format("StartStream for tick {} arrived at tick {}: {} ticks late",
                                 start_tick, tick_, tick_ - start_tick));
  }
  if (start_tick % reg::kTicksPerSample != 0) {
    throw BoardError(BoardErrorCode::kInvalidArgument,
                     fmt::format("StartStream start_tick {} is not a multiple of {}", start_tick,
                                 reg::kTicksPerSample));
  }
  if (start_tick - tick_ > reg::kMaxStartAheadTicks) {
    throw BoardError(BoardErrorCode::kInvalidArgument,
                     fmt::format("StartStream start_tick {} lies {} ticks ahead; at most {}",
                                 start_tick, start_tick - tick_, reg::kMaxStartAheadTicks));
  }
}

StreamTicket ResonatorModel::begin_stream(const StreamRequest& request) {
  catch_up();
  if (stream_.running) {
    throw BoardError(
        BoardErrorCode::kBusy,
        fmt::format("stream {} is already running; send StopStream first", stream_.id));
  }
  const std::uint32_t decimation = detail::effective_decimation(request.decimation);
  check_mode(request.dynamics);
  if (!registers_.programmed) {
    throw BoardError(BoardErrorCode::kNotProgrammed,
                     "StartStream before ProgramCouplings: the couplings are not programmed");
  }
  check_start_tick(request.start_tick);
  steppers_.prepare(request.dynamics, registers_);
  const std::size_t n = config_.cells;
  if (request.reset_state)
    std::fill(z_.begin(), z_.end(), 0.0);
  if (request.dynamics == Dynamics::kOverdamped)
    std::fill(z_.begin() + static_cast<std::ptrdiff_t>(n), z_.end(), 0.0);

  stream_ = StreamState{};
  stream_.id = next_stream_id_++;
  stream_.request = request;
  stream_.request.decimation = decimation;
  stream_.running = true;
  // A timed start lies ahead of the board's clock by (start_tick - tick_) ticks of 10 ns.
  const std::uint64_t start_tick = request.start_tick != 0 ? request.start_tick : tick_;
  stream_.start_tick = start_tick;
  stream_.start_time =
      clock_() + std::chrono::nanoseconds(static_cast<std::int64_t>(start_tick - tick_) * 10);
  ring_.reset();

  StreamTicket ticket;
  ticket.stream_id = stream_.id;
  ticket.ticks_per_output_sample = std::uint64_t{reg::kTicksPerSample} * decimation;
  ticket.first_tick = start_tick + ticket.ticks_per_output_sample;
  ticket.ring_capacity_samples = ring_.capacity();
  log_->debug("stream {} started: decimation {}, ring of {} samples", stream_.id, decimation,
              ring_.capacity());
  return ticket;
}

void ResonatorModel::catch_up_stream() {
  if (!stream_.running || !powered())
    return;
  const std::uint32_t decimation = stream_.request.decimation;
  const std::chrono::nanoseconds period{std::int64_t{1000} * decimation};  // K us per output
  const std::chrono::nanoseconds now = clock_();
  const auto elapsed = now - stream_.start_time - stream_.slip;
  const std::uint64_t due = elapsed.count() <= 0 ? 0 : static_cast<std::uint64_t>(elapsed / period);
  const auto budget_end =
      now + std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::duration<double>(reg::kStreamCatchUpBudgetSeconds));
  const std::uint64_t ticks_per_output = std::uint64_t{reg::kTicksPerSample} * decimation;
  std::vector<std::int16_t> codes(config_.cells);
  std::uint64_t produced = ring_.produced();
  while (produced < due) {
    if (produced % 64 == 0 && clock_() > budget_end)
      break;
    if (!powered())
      return;
    const std::uint64_t first_adc =
        stream_.start_tick / reg::kTicksPerSample + produced * decimation + 1;
    const bool clipped = produce_output(stream_.request.dynamics, decimation,
                                        stream_.request.average, first_adc, codes);
    if (!powered())
      return;  // the last sample was cut short
    ring_.push(codes, clipped);
    ++produced;
    tick_ = stream_.start_tick + produced * ticks_per_output;
  }
  if (produced < due) {
    stream_.slip += period * static_cast<std::int64_t>(due - produced);
    log_->debug("stream {}: the emulator fell {} samples behind the wall clock", stream_.id,
                due - produced);
  }
}

StreamRead ResonatorModel::read_stream(std::uint64_t max_samples,
                                       std::optional<std::uint64_t> from_sequence) {
  catch_up();
  if (stream_.id == 0) {
    throw BoardError(BoardErrorCode::kNoStream, "ReadStream before any StartStream");
  }
  const std::uint64_t cap = reg::max_record_samples(config_.cells);
  const std::uint64_t limit = max_samples == 0 ? cap : std::min(max_samples, cap);
  StreamRead out;
  out.stream_id = stream_.id;
  if (from_sequence.has_value()) {
    try {
      out.chunk = ring_.read_from(*from_sequence, limit);
    } catch (const std::out_of_range& e) {
      throw BoardError(BoardErrorCode::kInvalidArgument,
                       fmt::format("ReadStream of stream {}: {}", stream_.id, e.what()));
    }
  } else {
    out.chunk = ring_.pop(limit);
  }
  const std::uint64_t ticks_per_output =
      std::uint64_t{reg::kTicksPerSample} * stream_.request.decimation;
  out.first_tick = stream_.start_tick + (out.chunk.first_sequence + 1) * ticks_per_output;
  out.produced = ring_.produced();
  out.lost = ring_.lost();
  out.overruns = ring_.overruns();
  // What follows this reply: with a resumable read that was lost before, samples after the
  // chunk may have been sent already, and the host's account needs the ones after its chunk.
  out.buffered = out.produced - (out.chunk.first_sequence + out.chunk.count);
  out.running = stream_.running;
  out.clock_slip_us = std::chrono::duration<double, std::micro>(stream_.slip).count();
  return out;
}

std::uint64_t ResonatorModel::inject_overflow() {
  catch_up();
  const std::uint64_t discarded = ring_.discard_unread();
  if (discarded > 0)
    log_->debug("stream {}: injected overflow discarded {} samples", stream_.id, discarded);
  return discarded;
}

void ResonatorModel::stop_stream() {
  catch_up();
  if (stream_.running)
    log_->debug("stream {} stopped after {} samples", stream_.id, ring_.produced());
  stream_.running = false;
}

}  // namespace kelvin::sim_backend
