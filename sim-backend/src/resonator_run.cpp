// ResonatorModel's run engine: StartRun's checks and reservation, the integration of a run with
// its ADC and on-board accumulation, and the result buffer (resonator_registers.hpp, "Runs",
// "Accumulation", "Decimation", "Result buffer"). produce_output() is shared with streams
// (resonator_stream.cpp).
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "decimation.hpp"
#include "kelvin/firmware_protocol/wire_layout.hpp"
#include "kelvin/sim_backend/resonator_model.hpp"
#include "kelvin/sim_backend/resonator_registers.hpp"

namespace kelvin::sim_backend {
namespace {

namespace reg = resonator;

// Upper bound of the encoded size of a RunResults envelope (varints at their longest): a run
// whose results might not fit one frame is refused at StartRun, not after it has run.
std::size_t worst_case_results_bytes(std::uint32_t cells, std::uint64_t samples, bool products,
                                     bool record) {
  constexpr std::size_t kFixed = 256;  // envelope header, scalar fields, tags and lengths
  constexpr std::size_t kVarint = 10;  // longest sint64 varint
  std::size_t bytes = kFixed + kVarint * cells;
  if (products)
    bytes += kVarint * firmware_protocol::upper_triangle_size(cells);
  if (record)
    bytes += firmware_protocol::kLe16Bytes * std::size_t{cells} * samples;
  return bytes;
}

// Rounded mean of `count` codes with sum `sum`, half-way cases away from zero.
std::int16_t rounded_mean(std::int64_t sum, std::uint32_t count) {
  const std::int64_t k = count;
  const std::int64_t q = sum >= 0 ? (sum + k / 2) / k : -((-sum + k / 2) / k);
  return static_cast<std::int16_t>(q);
}

// std::llround(v) without the library call where it is plain: half-way cases away from zero.
// Below 2^52 the truncation t and v - t are exact, so the result is llround's; beyond (and for
// infinities and NaN) the library answers.
long long round_half_away(double v) {
  if (!(std::fabs(v) < 0x1p52))
    return std::llround(v);
  const auto t = static_cast<long long>(v);
  const double f = v - static_cast<double>(t);
  // Branch-free: f is as likely above one half as below.
  return t + static_cast<long long>(f >= 0.5) - static_cast<long long>(f <= -0.5);
}

}  // namespace

void ResonatorModel::check_mode(Dynamics dynamics) {
  if (dynamics != Dynamics::kOverdamped && dynamics != Dynamics::kRlc) {
    throw BoardError(BoardErrorCode::kInvalidArgument, "unknown dynamics");
  }
}

bool ResonatorModel::produce_output(Dynamics dynamics, std::uint32_t decimation, bool average,
                                    std::uint64_t first_adc_index, std::span<std::int16_t> codes) {
  const std::size_t n = config_.cells;
  constexpr double kInvAdcLsb = 1.0 / reg::kAdcLsb;  // a power of two: exact
  // An output sample can span up to kMaxDecimation ADC samples: checking for power-off every
  // 4096 of them lets power_off() cut a long one short.
  constexpr std::uint32_t kPowerCheckInterval = 4096;
  bool clipped = false;
  if (average)
    std::fill(block_sums_.begin(), block_sums_.end(), 0);
  for (std::uint32_t d = 0; d < decimation; ++d) {
    if (d % kPowerCheckInterval == kPowerCheckInterval - 1 && !powered())
      return clipped;
    steppers_.step(dynamics, z_, first_adc_index + d, noise_);
    for (std::size_t i = 0; i < n; ++i) {
      const auto e = static_cast<Eigen::Index>(i);
      // On an ideal board gain 1 and offset 0 leave x / lsb exact.
      long long code =
          round_half_away(z_[i] * flaws_.adc_gain(e) * kInvAdcLsb + flaws_.adc_offset_codes(e));
      clipped |= code > reg::kAdcMaxCode || code < reg::kAdcMinCode;
      code = std::clamp<long long>(code, reg::kAdcMinCode, reg::kAdcMaxCode);
      if (!stuck_.empty() && stuck_[i])
        code = kStuckAdcCode;  // defect stuck:C
      adc_codes_[i] = static_cast<std::int16_t>(code);
      if (average)
        block_sums_[i] += code;
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    codes[i] = average ? rounded_mean(block_sums_[i], decimation) : adc_codes_[i];
  return clipped;
}

void ResonatorModel::finish_pending() {
  if (pending_)
    execute(pending_->first);
}

void ResonatorModel::catch_up() {
  finish_pending();
  catch_up_stream();
}

RunTicket ResonatorModel::begin_run(const RunRequest& request) {
  finish_pending();  // runs happen one after another
  catch_up_stream();
  if (stream_.running) {
    throw BoardError(
        BoardErrorCode::kBusy,
        fmt::format("StartRun while stream {} runs; send StopStream first", stream_.id));
  }
  const std::uint32_t decimation = detail::effective_decimation(request.decimation);
  const std::uint64_t duration = request.duration_ticks;
  const std::uint64_t ticks_per_output = std::uint64_t{reg::kTicksPerSample} * decimation;
  if (duration == 0 || duration % ticks_per_output != 0) {
    throw BoardError(BoardErrorCode::kInvalidArgument,
                     fmt::format("StartRun.duration_ticks must be a positive multiple of "
                                 "ticks_per_sample * decimation ({}), got {}",
                                 ticks_per_output, duration));
  }
  const std::uint64_t samples = duration / ticks_per_output;
  if (samples > reg::kMaxSamplesPerRun) {
    throw BoardError(BoardErrorCode::kInvalidArgument,
                     fmt::format("StartRun asks for {} samples; max_samples_per_run is {}", samples,
                                 reg::kMaxSamplesPerRun));
  }
  const std::uint32_t max_record = reg::max_record_samples(config_.cells);
  if (request.record_samples && samples > max_record) {
    throw BoardError(BoardErrorCode::kResourceExhausted,
                     fmt::format("StartRun asks to record {} samples; max_record_samples is {}",
                                 samples, max_record));
  }
  const std::size_t reply_bound = worst_case_results_bytes(
      config_.cells, samples, request.accumulate_products, request.record_samples);
  if (reply_bound > reg::kMaxFramePayload) {
    throw BoardError(BoardErrorCode::kResourceExhausted,
                     fmt::format("the results of this run could take {} bytes, more than the "
                                 "frame limit of {} bytes; record fewer samples or drop "
                                 "accumulate_products",
                                 reply_bound, reg::kMaxFramePayload));
  }
  check_mode(request.dynamics);
  if (!registers_.programmed) {
    throw BoardError(BoardErrorCode::kNotProgrammed,
                     "StartRun before ProgramCouplings: the couplings are not programmed");
  }
  steppers_.prepare(request.dynamics, registers_);
  if (pending_) {
    throw std::logic_error("begin_run while an earlier run is still pending");
  }
  RunTicket ticket;
  ticket.run_id = next_run_id_++;
  ticket.first_tick = tick_ + ticks_per_output;
  ticket.sample_count = samples;
  tick_ += duration;
  RunRequest stored = request;
  stored.decimation = decimation;
  pending_.emplace(ticket, stored);
  return ticket;
}

void ResonatorModel::execute(const RunTicket& ticket) {
  if (!pending_ || pending_->first.run_id != ticket.run_id) {
    throw std::logic_error(fmt::format("run {} is not the pending run", ticket.run_id));
  }
  const RunRequest request = pending_->second;
  pending_.reset();

  const std::size_t n = config_.cells;
  RunRecord record;
  record.ticket = ticket;
  record.sums.assign(n, 0);
  if (request.accumulate_products)
    record.product_sums.assign(firmware_protocol::upper_triangle_size(n), 0);
  if (request.record_samples)
    record.samples_le16.assign(firmware_protocol::kLe16Bytes * n * ticket.sample_count, '\0');

  if (request.reset_state)
    std::fill(z_.begin(), z_.end(), 0.0);
  if (request.dynamics == Dynamics::kOverdamped)
    std::fill(z_.begin() + static_cast<std::ptrdiff_t>(n), z_.end(), 0.0);  // inductors out
  std::vector<std::int16_t> codes(n);
  const std::uint32_t decimation = request.decimation;
  // The ADC samples of output k have global indices first_adc + k K, ..., first_adc + k K + K-1.
  const std::uint64_t first_adc = ticket.first_tick / reg::kTicksPerSample - decimation + 1;

  for (std::uint64_t k = 0; k < ticket.sample_count; ++k) {
    if (!powered()) {
      log_->debug("power off during run {}: stopped after {} samples", ticket.run_id, k);
      return;
    }
    const bool clipped = produce_output(request.dynamics, decimation, request.average,
                                        first_adc + k * decimation, codes);
    for (std::size_t i = 0; i < n; ++i)
      record.sums[i] += codes[i];
    if (clipped)
      ++record.clipped_samples;
    if (request.accumulate_products) {
      firmware_protocol::for_each_upper_triangle(
          n, [&](std::size_t i, std::size_t j, std::size_t p) {
            record.product_sums[p] += std::int64_t{codes[i]} * codes[j];
          });
    }
    if (request.record_samples) {
      const std::size_t base = static_cast<std::size_t>(k) * n;
      for (std::size_t i = 0; i < n; ++i)
        firmware_protocol::write_le16(record.samples_le16, base + i, codes[i]);
    }
  }
  if (!powered())
    return;

  if (const auto dropped = results_.push(std::move(record)))
    log_->debug("result buffer full: dropped unread run {}", *dropped);
}

const RunRecord& ResonatorModel::results(std::uint64_t run_id) const {
  return results_.find(run_id, next_run_id_);
}

void ResonatorModel::release(std::uint64_t run_id) noexcept {
  results_.release(run_id);
}

}  // namespace kelvin::sim_backend
