#include "kelvin/driver/resonator/resonator_board.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/firmware_protocol/wire_layout.hpp"
#include "resonator_protocol.hpp"
#include "run_protocol.hpp"

namespace kelvin::driver {

using common::Deadline;
using common::Error;
using common::ErrorKind;
namespace {

void check_codes(std::span<const std::int16_t> codes, const CodeScale& scale, const char* what) {
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (!scale.contains(codes[i])) {
      throw Error(ErrorKind::kOutOfRange,
                  fmt::format("{} code {} at index {} is outside the DAC range [{}, {}]", what,
                              codes[i], i, scale.min_code, scale.max_code));
    }
  }
}

// Dynamics, decimation and averaging: the parts runs and streams share.
void check_acquisition(const DeviceDescription& d, Dynamics dynamics, std::uint32_t decimation,
                       bool average) {
  if (dynamics != Dynamics::kOverdamped && !(d.resonator && d.resonator->supports(dynamics) &&
                                             d.has_capability(capability::kRlcDynamics))) {
    throw Error(ErrorKind::kNotSupported,
                fmt::format("this board cannot integrate {} dynamics", to_string(dynamics)));
  }
  const std::uint32_t max_decimation = d.resonator ? d.resonator->max_decimation : 1;
  if (decimation == 0 || decimation > max_decimation) {
    throw Error(ErrorKind::kOutOfRange,
                fmt::format("decimation must be in [1, {}], got {}", max_decimation, decimation));
  }
  if ((decimation > 1 || average) && !d.has_capability(capability::kDecimation)) {
    throw Error(ErrorKind::kNotSupported, "this board cannot decimate or average on board");
  }
}

}  // namespace

// ---- SymmetricCodes ----

SymmetricCodes::SymmetricCodes(std::uint32_t n)
    : n_(n), upper_(firmware_protocol::upper_triangle_size(n), 0) {}

std::size_t SymmetricCodes::index(std::uint32_t i, std::uint32_t j) const {
  if (i >= n_ || j >= n_) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("coupling ({}, {}) is outside a {}-cell matrix", i, j, n_));
  }
  return firmware_protocol::upper_triangle_index(n_, i, j);
}

std::int16_t SymmetricCodes::get(std::uint32_t i, std::uint32_t j) const {
  return upper_[index(i, j)];
}

void SymmetricCodes::set(std::uint32_t i, std::uint32_t j, std::int16_t code) {
  upper_[index(i, j)] = code;
}

// ---- RunResult ----

double RunResult::mean_code(std::uint32_t i) const {
  if (i >= sums.size()) {
    throw Error(ErrorKind::kInvalidArgument, fmt::format("cell {} of {}", i, sums.size()));
  }
  if (sample_count == 0)
    return 0.0;
  return static_cast<double>(sums[i]) / static_cast<double>(sample_count);
}

std::int64_t RunResult::product_sum(std::uint32_t i, std::uint32_t j) const {
  if (product_sums.empty()) {
    throw Error(ErrorKind::kInvalidArgument, "the run did not accumulate products");
  }
  if (i >= cells || j >= cells) {
    throw Error(ErrorKind::kInvalidArgument, fmt::format("cell pair ({}, {}) of {}", i, j, cells));
  }
  return product_sums[firmware_protocol::upper_triangle_index(cells, i, j)];
}

// ---- ResonatorBoard ----

struct ResonatorBoard::Counters {
  std::atomic<std::uint64_t> dac_codes{0};
  std::atomic<std::uint64_t> adc_conversions{0};
  std::atomic<std::uint64_t> cell_sample_periods{0};
  // The running stream: ADC periods per output sample, and lost samples already counted.
  std::atomic<std::uint64_t> stream_periods_per_sample{1};
  std::atomic<std::uint64_t> stream_lost_counted{0};
  // The latest run: its id and when the board will have integrated it (steady clock, ns), so
  // that ReadResults waits for the run before presuming its reply lost.
  std::atomic<std::uint64_t> last_run_id{0};
  std::atomic<std::int64_t> last_run_end_ns{0};
};

BoardActivity ResonatorBoard::activity() const noexcept {
  return {counters_->dac_codes.load(std::memory_order_relaxed),
          counters_->adc_conversions.load(std::memory_order_relaxed),
          counters_->cell_sample_periods.load(std::memory_order_relaxed)};
}

void ResonatorBoard::count(std::uint64_t dac_codes, std::uint64_t sample_periods) noexcept {
  counters_->dac_codes.fetch_add(dac_codes, std::memory_order_relaxed);
  const std::uint64_t cell_periods = sample_periods * cells();
  counters_->adc_conversions.fetch_add(cell_periods, std::memory_order_relaxed);
  counters_->cell_sample_periods.fetch_add(cell_periods, std::memory_order_relaxed);
}

ResonatorBoard::ResonatorBoard(std::shared_ptr<Device> device)
    : device_(std::move(device)), counters_(std::make_shared<Counters>()) {
  if (!device_)
    throw Error(ErrorKind::kInvalidArgument, "ResonatorBoard needs a device");
  if (device_->description().family != BoardFamily::kResonator) {
    throw Error(ErrorKind::kNotSupported, fmt::format("{} is a {} board, not a resonator board",
                                                      device_->address().to_string(),
                                                      to_string(device_->description().family)));
  }
}

void ResonatorBoard::program_couplings(const SymmetricCodes& codes, Deadline deadline) {
  if (codes.size() != cells()) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("coupling matrix is {0}x{0}, the board has {1} cells", codes.size(), cells()));
  }
  check_codes(codes.upper(), description().coupling, "coupling");
  if (description().resonator &&
      description().resonator->coupling_kind == CouplingKind::kCapacitive) {
    for (std::uint32_t i = 0; i < codes.size(); ++i) {
      for (std::uint32_t j = i + 1; j < codes.size(); ++j) {
        if (codes.get(i, j) > 0) {
          throw Error(ErrorKind::kOutOfRange,
                      fmt::format("coupling ({}, {}) has code {} > 0, but this board's couplings "
                                  "are capacitive: off-diagonal couplings must be <= 0 (a general "
                                  "matrix needs sign doubling first)",
                                  i, j, codes.get(i, j)));
        }
      }
    }
  }
  run_protocol::expect_ack(device_->request(resonator_protocol::program_couplings(codes), deadline),
                           "program_couplings");
  count(codes.upper().size(), 0);
}

void ResonatorBoard::program_biases(std::span<const std::int16_t> codes, Deadline deadline) {
  if (codes.size() != cells()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} bias codes for {} cells", codes.size(), cells()));
  }
  check_codes(codes, description().bias, "bias");
  run_protocol::expect_ack(device_->request(resonator_protocol::program_biases(codes), deadline),
                           "program_biases");
  count(codes.size(), 0);
}

void ResonatorBoard::set_noise(std::uint32_t code, Deadline deadline) {
  if (!description().noise.contains(code)) {
    throw Error(ErrorKind::kOutOfRange,
                fmt::format("noise code {} is outside the DAC range [{}, {}]", code,
                            description().noise.min_code, description().noise.max_code));
  }
  run_protocol::expect_ack(device_->request(resonator_protocol::set_noise(code), deadline),
                           "set_noise");
  count(1, 0);
}

void ResonatorBoard::set_quartic(std::span<const std::uint16_t> codes, Deadline deadline) {
  const auto& d = description();
  if (!d.resonator || !d.has_capability(capability::kQuartic)) {
    throw Error(ErrorKind::kNotSupported, "this board has no quartic term");
  }
  if (codes.size() != cells()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} quartic codes for {} cells", codes.size(), cells()));
  }
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (!d.resonator->quartic.contains(codes[i])) {
      throw Error(
          ErrorKind::kOutOfRange,
          fmt::format("quartic code {} at index {} is outside the DAC range [{}, {}]", codes[i], i,
                      d.resonator->quartic.min_code, d.resonator->quartic.max_code));
    }
  }
  run_protocol::expect_ack(device_->request(resonator_protocol::set_quartic(codes), deadline),
                           "set_quartic");
  count(codes.size(), 0);
}

RunTicket ResonatorBoard::start_run(const RunRequest& request, Deadline deadline) {
  const auto& d = description();
  check_acquisition(d, request.dynamics, request.decimation, request.average);
  if (request.samples == 0 || request.samples > d.max_samples_per_run) {
    throw Error(ErrorKind::kOutOfRange, fmt::format("a run takes 1 to {} samples, not {}",
                                                    d.max_samples_per_run, request.samples));
  }
  if (request.accumulate_products && !d.has_capability(capability::kSecondMoments)) {
    throw Error(ErrorKind::kNotSupported, "this board cannot accumulate second moments");
  }
  if (request.record_samples) {
    if (!d.has_capability(capability::kSampleRecord)) {
      throw Error(ErrorKind::kNotSupported, "this board cannot record samples");
    }
    if (request.samples > d.max_record_samples) {
      throw Error(ErrorKind::kOutOfRange,
                  fmt::format("cannot record {} samples in one run (at most {})", request.samples,
                              d.max_record_samples));
    }
  }
  if (request.reset_state && !d.has_capability(capability::kStateReset)) {
    throw Error(ErrorKind::kNotSupported, "this board cannot reset its state");
  }
  const std::uint64_t ticks = request.samples * d.ticks_per_sample * request.decimation;
  const auto started = run_protocol::parse_run_started(
      device_->request(resonator_protocol::start_run(ticks, request), deadline));
  count(0, request.samples * request.decimation);
  // A board integrates in real time: the run ends its duration after it was acknowledged.
  const auto duration =
      std::chrono::duration<double>(static_cast<double>(ticks) / std::max(d.tick_rate_hz, 1.0));
  const auto end =
      Deadline::Clock::now() + std::chrono::duration_cast<Deadline::Clock::duration>(duration);
  counters_->last_run_end_ns.store(end.time_since_epoch().count());
  counters_->last_run_id.store(started.run_id);
  return RunTicket{started.run_id, started.first_tick, started.sample_count};
}

RunResult ResonatorBoard::read_results(std::uint64_t run_id, Deadline deadline) {
  RequestOptions options;
  if (run_id == counters_->last_run_id.load()) {
    const Deadline::Clock::time_point end{
        Deadline::Clock::duration{counters_->last_run_end_ns.load()}};
    options.service_time = std::max(end - Deadline::Clock::now(), Deadline::Clock::duration{0});
  }
  return resonator_protocol::parse_run_results(
      device_->request(run_protocol::read_results(run_id), deadline, options), description(),
      run_id);
}

RunResult ResonatorBoard::run(const RunRequest& request, Deadline deadline) {
  const auto ticket = start_run(request, deadline);
  return read_results(ticket.run_id, deadline);
}

StreamTicket ResonatorBoard::start_stream(const StreamRequest& request, Deadline deadline,
                                          const RequestOptions& options) {
  const auto& d = description();
  if (!d.has_capability(capability::kStreaming))
    throw Error(ErrorKind::kNotSupported, "this board cannot stream");
  check_acquisition(d, request.dynamics, request.decimation, request.average);
  if (request.start_tick != 0 && !d.has_capability(capability::kTimedStart)) {
    throw Error(ErrorKind::kNotSupported,
                "this board cannot start a stream at a given tick (no timed_start capability)");
  }
  StreamTicket ticket;
  try {
    ticket = resonator_protocol::parse_stream_started(
        device_->request(resonator_protocol::start_stream(request), deadline, options));
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kDevice &&
        e.device_code() == static_cast<int>(firmware_protocol::wire::ERROR_CODE_LATE_COMMAND)) {
      throw Error(ErrorKind::kLateCommand, e.what(), e.device_code());
    }
    throw;
  }
  counters_->stream_periods_per_sample.store(ticket.ticks_per_output_sample / d.ticks_per_sample);
  counters_->stream_lost_counted.store(0);
  return ticket;
}

StreamChunk ResonatorBoard::read_stream(std::uint32_t max_samples, Deadline deadline,
                                        const RequestOptions& options) {
  if (!description().has_capability(capability::kStreaming))
    throw Error(ErrorKind::kNotSupported, "this board cannot stream");
  return counted(resonator_protocol::parse_stream_data(
      device_->request(resonator_protocol::read_stream(max_samples, std::nullopt), deadline,
                       options),
      description()));
}

StreamChunk ResonatorBoard::read_stream_from(std::uint64_t from_sequence, std::uint32_t max_samples,
                                             Deadline deadline, const RequestOptions& options) {
  if (!description().has_capability(capability::kResumableRead))
    throw Error(ErrorKind::kNotSupported, "this board cannot resume stream reads");
  StreamChunk chunk = resonator_protocol::parse_stream_data(
      device_->request(resonator_protocol::read_stream(max_samples, from_sequence), deadline,
                       options),
      description());
  if (chunk.first_sequence < from_sequence) {
    throw Error(ErrorKind::kProtocol, fmt::format("stream read from sequence {} answered from {}",
                                                  from_sequence, chunk.first_sequence));
  }
  return counted(std::move(chunk));
}

StreamChunk ResonatorBoard::counted(StreamChunk chunk) noexcept {
  // Streams are counted as their samples arrive (lost ones were converted too).
  const std::uint64_t newly_lost = chunk.lost - counters_->stream_lost_counted.exchange(chunk.lost);
  count(0, (chunk.sample_count + newly_lost) * counters_->stream_periods_per_sample.load());
  return chunk;
}

void ResonatorBoard::stop_stream(Deadline deadline, const RequestOptions& options) {
  if (!description().has_capability(capability::kStreaming))
    throw Error(ErrorKind::kNotSupported, "this board cannot stream");
  run_protocol::expect_ack(device_->request(resonator_protocol::stop_stream(), deadline, options),
                           "stop_stream");
}

}  // namespace kelvin::driver
