#include "kelvin/sim/resonator_model.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "kelvin/common/logging.hpp"
#include "kelvin/sim/exact_discretization.hpp"
#include "kelvin/sim/resonator_registers.hpp"

namespace kelvin::sim {
namespace {

namespace reg = resonator;
using wire::v1::ErrorCode;

std::int16_t read_le16(std::span<const std::uint8_t> bytes, std::size_t index) {
  const auto lo = static_cast<std::uint16_t>(bytes[2 * index]);
  const auto hi = static_cast<std::uint16_t>(bytes[2 * index + 1]);
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(lo | (hi << 8)));
}

void write_le16(std::string& out, std::size_t index, std::int16_t code) {
  const auto u = static_cast<std::uint16_t>(code);
  out[2 * index] = static_cast<char>(u & 0xFF);
  out[2 * index + 1] = static_cast<char>(u >> 8);
}

void check_cells(const char* what, std::uint32_t got, std::uint32_t cells) {
  if (got != cells) {
    throw BoardError(
        ErrorCode::ERROR_CODE_INVALID_ARGUMENT,
        fmt::format("{}.cells must equal the board's {} cells, got {}", what, cells, got));
  }
}

void check_length(const char* what, std::size_t codes, std::size_t got_bytes) {
  if (got_bytes != 2 * codes) {
    throw BoardError(ErrorCode::ERROR_CODE_INVALID_ARGUMENT,
                     fmt::format("{} must hold {} int16 codes: expected {} bytes, got {}", what,
                                 codes, 2 * codes, got_bytes));
  }
}

// Upper bound of the encoded size of a RunResults envelope (varints at their longest).
std::size_t worst_case_results_bytes(std::uint32_t cells, std::uint64_t samples, bool products,
                                     bool record) {
  constexpr std::size_t kFixed = 256;  // envelope header, scalar fields, tags and lengths
  constexpr std::size_t kVarint = 10;  // longest sint64 varint
  std::size_t bytes = kFixed + kVarint * cells;
  if (products)
    bytes += kVarint * reg::upper_triangle_size(cells);
  if (record)
    bytes += 2 * std::size_t{cells} * samples;
  return bytes;
}

// Largest absolute row sum: bounds how much one step can amplify max_i |x_i|.
double row_gain(const Eigen::MatrixXd& m) {
  return m.cwiseAbs().rowwise().sum().maxCoeff();
}

std::vector<double> row_major(const Eigen::MatrixXd& m) {
  std::vector<double> out(static_cast<std::size_t>(m.size()));
  std::size_t k = 0;
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      out[k++] = m(i, j);
  }
  return out;
}

}  // namespace

ResonatorModel::ResonatorModel(const ResonatorConfig& config)
    : config_(config),
      noise_(config.seed),
      log_(common::logger("kelvin.sim")),
      results_(reg::kResultSlots) {
  config_.validate();
  const auto n = static_cast<Eigen::Index>(config_.cells);
  bias_ = Eigen::VectorXd::Zero(n);
  x_.assign(config_.cells, 0.0);
  offset_.assign(config_.cells, 0.0);
  log_->debug("resonator board {} powered up: {} cells, seed {}", config_.effective_serial(),
              config_.cells, config_.seed);
}

ResonatorModel::~ResonatorModel() = default;

void ResonatorModel::program_couplings(std::uint32_t cells,
                                       std::span<const std::uint8_t> upper_codes_le16) {
  const std::uint32_t n = config_.cells;
  check_cells("ProgramCouplings", cells, n);
  const std::size_t count = reg::upper_triangle_size(n);
  check_length("ProgramCouplings.upper_codes_le16", count, upper_codes_le16.size());

  const auto ni = static_cast<Eigen::Index>(n);
  Eigen::MatrixXd a(ni, ni);
  std::size_t k = 0;
  for (Eigen::Index i = 0; i < ni; ++i) {
    for (Eigen::Index j = i; j < ni; ++j, ++k) {
      const std::int16_t code = read_le16(upper_codes_le16, k);
      if (code == reg::kReservedDacCode) {
        throw BoardError(ErrorCode::ERROR_CODE_OUT_OF_RANGE,
                         fmt::format("coupling code {} at upper-triangle index {} (row {}, column "
                                     "{}) is reserved; valid codes are [{}, {}]",
                                     code, k, i, j, reg::kCouplingMinCode, reg::kCouplingMaxCode));
      }
      a(i, j) = a(j, i) = code * reg::kCouplingLsb;
    }
  }

  // Unit-noise (2D = 1) discretization of dx = -A x dt + dW over h / m; the overflow guard
  // doubles m while one substep of a runaway A would gain more than kMaxStepGain.
  const Eigen::MatrixXd drift = -a;
  const Eigen::MatrixXd unit_diffusion = Eigen::MatrixXd::Identity(ni, ni);
  std::uint32_t m = 1;
  Discretization d;
  for (;;) {
    d = discretize_lti(drift, unit_diffusion, reg::kSamplePeriodUs / m);
    const bool tame = d.phi.allFinite() && d.gamma.allFinite() && d.q.allFinite() &&
                      row_gain(d.phi) <= reg::kMaxStepGain;
    if (tame)
      break;
    if (m >= (1u << 20)) {
      throw std::runtime_error("coupling matrix too unstable to integrate");
    }
    m *= 2;
  }
  CovarianceFactor factor = factor_covariance(d.q);

  // Commit.
  substeps_ = m;
  phi_ = row_major(d.phi);
  gamma_ = std::move(d.gamma);
  unit_factor_ = std::move(factor.l);
  programmed_ = true;
  update_offset();
  update_noise_factor();
  log_->debug("couplings programmed: {} substep(s) per sample, noise factor by {}", m,
              factor.method == FactorMethod::kCholesky ? "Cholesky" : "eigen-decomposition");
}

void ResonatorModel::program_biases(std::uint32_t cells, std::span<const std::uint8_t> codes_le16) {
  const std::uint32_t n = config_.cells;
  check_cells("ProgramBiases", cells, n);
  check_length("ProgramBiases.codes_le16", n, codes_le16.size());
  Eigen::VectorXd b(static_cast<Eigen::Index>(n));
  for (std::size_t i = 0; i < n; ++i) {
    const std::int16_t code = read_le16(codes_le16, i);
    if (code == reg::kReservedDacCode) {
      throw BoardError(ErrorCode::ERROR_CODE_OUT_OF_RANGE,
                       fmt::format("bias code {} at index {} is reserved; valid codes are [{}, {}]",
                                   code, i, reg::kBiasMinCode, reg::kBiasMaxCode));
    }
    b(static_cast<Eigen::Index>(i)) = code * reg::kBiasLsb;
  }
  bias_ = std::move(b);
  update_offset();
}

void ResonatorModel::set_noise(std::uint32_t code) {
  if (code > reg::kNoiseMaxCode) {
    throw BoardError(ErrorCode::ERROR_CODE_OUT_OF_RANGE,
                     fmt::format("noise code {} is outside [{}, {}]", code, reg::kNoiseMinCode,
                                 reg::kNoiseMaxCode));
  }
  noise_code_ = code;
  update_noise_factor();
}

void ResonatorModel::update_offset() {
  if (!programmed_)
    return;
  const Eigen::VectorXd c = gamma_ * bias_;
  offset_.assign(c.data(), c.data() + c.size());
}

void ResonatorModel::update_noise_factor() {
  noisy_ = noise_code_ != 0;
  if (!programmed_)
    return;
  const double two_d = 2.0 * (noise_code_ * reg::kNoiseLsb);
  factor_ = row_major(std::sqrt(two_d) * unit_factor_);
}

void ResonatorModel::finish_pending() {
  if (pending_)
    execute(pending_->first);
}

RunTicket ResonatorModel::begin_run(const RunRequest& request) {
  finish_pending();  // runs happen one after another
  const std::uint64_t duration = request.duration_ticks;
  if (duration == 0 || duration % reg::kTicksPerSample != 0) {
    throw BoardError(ErrorCode::ERROR_CODE_INVALID_ARGUMENT,
                     fmt::format("StartRun.duration_ticks must be a positive multiple of "
                                 "ticks_per_sample ({}), got {}",
                                 reg::kTicksPerSample, duration));
  }
  const std::uint64_t samples = duration / reg::kTicksPerSample;
  if (samples > reg::kMaxSamplesPerRun) {
    throw BoardError(ErrorCode::ERROR_CODE_INVALID_ARGUMENT,
                     fmt::format("StartRun asks for {} samples; max_samples_per_run is {}", samples,
                                 reg::kMaxSamplesPerRun));
  }
  const std::uint32_t max_record = reg::max_record_samples(config_.cells);
  if (request.record_samples && samples > max_record) {
    throw BoardError(ErrorCode::ERROR_CODE_RESOURCE_EXHAUSTED,
                     fmt::format("StartRun asks to record {} samples; max_record_samples is {}",
                                 samples, max_record));
  }
  const std::size_t reply_bound = worst_case_results_bytes(
      config_.cells, samples, request.accumulate_products, request.record_samples);
  if (reply_bound > reg::kMaxFramePayload) {
    throw BoardError(ErrorCode::ERROR_CODE_RESOURCE_EXHAUSTED,
                     fmt::format("the results of this run could take {} bytes, more than the "
                                 "frame limit of {} bytes; record fewer samples or drop "
                                 "accumulate_products",
                                 reply_bound, reg::kMaxFramePayload));
  }
  if (!programmed_) {
    throw BoardError(ErrorCode::ERROR_CODE_NOT_PROGRAMMED,
                     "StartRun before ProgramCouplings: the couplings are not programmed");
  }
  if (pending_) {
    throw std::logic_error("begin_run while an earlier run is still pending");
  }
  RunTicket ticket;
  ticket.run_id = next_run_id_++;
  ticket.first_tick = tick_ + reg::kTicksPerSample;
  ticket.sample_count = samples;
  tick_ += duration;
  pending_.emplace(ticket, request);
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
    record.product_sums.assign(reg::upper_triangle_size(config_.cells), 0);
  if (request.record_samples)
    record.samples_le16.assign(2 * n * ticket.sample_count, '\0');

  if (request.reset_state)
    std::fill(x_.begin(), x_.end(), 0.0);
  std::vector<double> next(n);
  std::vector<double> xi(n, 0.0);
  std::vector<std::int16_t> codes(n);
  const std::uint64_t first_index = ticket.first_tick / reg::kTicksPerSample;
  constexpr double kInvAdcLsb = 1.0 / reg::kAdcLsb;  // a power of two: exact

  constexpr std::uint64_t kPowerCheckInterval = 4096;
  for (std::uint64_t k = 0; k < ticket.sample_count; ++k) {
    if (k % kPowerCheckInterval == 0 && !powered()) {
      log_->debug("power off during run {}: stopped after {} samples", ticket.run_id, k);
      return;
    }
    const std::uint64_t sample_index = first_index + k;
    for (std::uint32_t s = 0; s < substeps_; ++s) {
      if (noisy_)
        noise_.fill(sample_index, s, xi);
      for (std::size_t i = 0; i < n; ++i) {
        const double* phi_row = phi_.data() + i * n;
        double drift = 0.0;
        for (std::size_t j = 0; j < n; ++j)
          drift += phi_row[j] * x_[j];
        double value = drift + offset_[i];
        if (noisy_) {
          const double* l_row = factor_.data() + i * n;
          double kick = 0.0;
          for (std::size_t j = 0; j < n; ++j)
            kick += l_row[j] * xi[j];
          value += kick;
        }
        next[i] = std::clamp(value, -reg::kRailVolts, reg::kRailVolts);
      }
      x_.swap(next);
    }

    bool clipped = false;
    for (std::size_t i = 0; i < n; ++i) {
      long long code = std::llround(x_[i] * kInvAdcLsb);
      if (code > reg::kAdcMaxCode) {
        code = reg::kAdcMaxCode;
        clipped = true;
      } else if (code < reg::kAdcMinCode) {
        code = reg::kAdcMinCode;
        clipped = true;
      }
      codes[i] = static_cast<std::int16_t>(code);
      record.sums[i] += code;
    }
    if (clipped)
      ++record.clipped_samples;
    if (request.accumulate_products) {
      std::size_t p = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t ci = codes[i];
        for (std::size_t j = i; j < n; ++j)
          record.product_sums[p++] += ci * codes[j];
      }
    }
    if (request.record_samples) {
      const std::size_t base = static_cast<std::size_t>(k) * n;
      for (std::size_t i = 0; i < n; ++i)
        write_le16(record.samples_le16, base + i, codes[i]);
    }
  }

  if (const auto dropped = results_.push(std::move(record)))
    log_->debug("result buffer full: dropped unread run {}", *dropped);
}

const RunRecord& ResonatorModel::results(std::uint64_t run_id) const {
  return results_.find(run_id, next_run_id_);
}

void ResonatorModel::release(std::uint64_t run_id) noexcept {
  results_.release(run_id);
}

}  // namespace kelvin::sim
