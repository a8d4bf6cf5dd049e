#include "kelvin/sim_backend/resonator_model.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "decimation.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/sim_backend/exact_discretization.hpp"
#include "kelvin/sim_backend/quartic_stepper.hpp"
#include "kelvin/sim_backend/resonator_registers.hpp"
#include "kelvin/sim_backend/rlc_circuit.hpp"
#include "row_major.hpp"

namespace kelvin::sim_backend {
namespace {

namespace reg = resonator;
using firmware_protocol::wire::ErrorCode;

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

// Rounded mean of `count` codes with sum `sum`, half-way cases away from zero.
std::int16_t rounded_mean(std::int64_t sum, std::uint32_t count) {
  const std::int64_t k = count;
  const std::int64_t q = sum >= 0 ? (sum + k / 2) / k : -((-sum + k / 2) / k);
  return static_cast<std::int16_t>(q);
}

// An [i; v]-ordered 2N x 2N matrix in [v; i] order.
Eigen::MatrixXd voltages_first(const Eigen::MatrixXd& m, Eigen::Index n) {
  Eigen::MatrixXd out(2 * n, 2 * n);
  out.topLeftCorner(n, n) = m.bottomRightCorner(n, n);
  out.topRightCorner(n, n) = m.bottomLeftCorner(n, n);
  out.bottomLeftCorner(n, n) = m.topRightCorner(n, n);
  out.bottomRightCorner(n, n) = m.topLeftCorner(n, n);
  return out;
}

const ResonatorConfig& validated(const ResonatorConfig& config) {
  config.validate();
  return config;
}

using detail::row_major;

}  // namespace

ResonatorModel::ResonatorModel(const ResonatorConfig& config)
    : config_(validated(config)),
      noise_(config.seed),
      log_(common::logger("kelvin.sim")),
      results_(reg::kResultSlots),
      ring_(config.cells, config.effective_ring_samples()),
      clock_(config.clock ? config.clock : steady_board_clock()) {
  const std::uint32_t n = config_.cells;
  const auto ni = static_cast<Eigen::Index>(n);
  flaws_ = draw_imperfections(config_.effective_serial(), n, config_.imperfections);
  inv_capacitance_scale_ = flaws_.capacitance_scale.cwiseInverse();
  bias_ = Eigen::VectorXd::Zero(ni);
  j4_ = Eigen::VectorXd::Zero(ni);
  z_.assign(2 * std::size_t{n}, 0.0);
  next_.assign(2 * std::size_t{n}, 0.0);
  xi_.assign(2 * std::size_t{n}, 0.0);
  block_sums_.assign(n, 0);
  adc_codes_.assign(n, 0);
  log_->debug("resonator board {} powered up: {} cells, seed {}, {} couplings, {} imperfections",
              config_.effective_serial(), n, config_.seed,
              config_.coupling_kind == CouplingKind::kCapacitive ? "capacitive" : "signed",
              config_.imperfections_name);
}

ResonatorModel::~ResonatorModel() = default;

void ResonatorModel::program_couplings(std::uint32_t cells,
                                       std::span<const std::uint8_t> upper_codes_le16) {
  const std::uint32_t n = config_.cells;
  check_cells("ProgramCouplings", cells, n);
  const std::size_t count = reg::upper_triangle_size(n);
  check_length("ProgramCouplings.upper_codes_le16", count, upper_codes_le16.size());

  const auto ni = static_cast<Eigen::Index>(n);
  const bool capacitive = config_.coupling_kind == CouplingKind::kCapacitive;
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
      if (capacitive && i != j && code > 0) {
        throw BoardError(
            ErrorCode::ERROR_CODE_OUT_OF_RANGE,
            fmt::format("coupling code {} at (row {}, column {}) is positive, but this "
                        "board's couplings are capacitive: off-diagonal codes must "
                        "be <= 0",
                        code, i, j));
      }
      a(i, j) = a(j, i) = code * reg::kCouplingLsb;
    }
  }

  // Unit-noise (2D = 1) discretization of dx = diag(1/c) (-g A x + b) dt + diag(n/c) dW over
  // h / m; the overflow guard doubles m while one substep of a runaway A would gain more than
  // kMaxStepGain. On an ideal board (c = n = g = 1) this is exactly dx = -(A x - b) dt + dW.
  const Eigen::MatrixXd drift =
      -(inv_capacitance_scale_.asDiagonal() * (flaws_.coupling_dac_gain * a));
  const Eigen::VectorXd noise_shape = flaws_.noise_scale.cwiseProduct(inv_capacitance_scale_);
  const Eigen::MatrixXd unit_diffusion = noise_shape.cwiseAbs2().asDiagonal();
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
  if (stream_.running && stream_.request.dynamics == Dynamics::kRlc) {
    // The stream would have to use this matrix as its capacitance matrix from the next sample.
    Eigen::MatrixXd c = flaws_.coupling_dac_gain * a;
    c.diagonal() = c.diagonal().cwiseProduct(flaws_.capacitance_scale);
    if (Eigen::LLT<Eigen::MatrixXd>(c).info() != Eigen::Success) {
      throw BoardError(ErrorCode::ERROR_CODE_INVALID_ARGUMENT,
                       "an RLC stream is running and this coupling matrix is not positive "
                       "definite, so it cannot be its capacitance matrix");
    }
  }

  // Commit.
  coupling_ = std::move(a);
  overdamped_.dim = n;
  overdamped_.substeps = m;
  overdamped_.phi = row_major(d.phi);
  overdamped_.gamma = std::move(d.gamma);
  overdamped_.input_map = inv_capacitance_scale_.asDiagonal();
  overdamped_.unit_factor = std::move(factor.l);
  overdamped_.ready = true;
  rlc_.ready = false;
  quartic_.reset();
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

void ResonatorModel::set_quartic(std::uint32_t cells, std::span<const std::uint8_t> codes_le16) {
  const std::uint32_t n = config_.cells;
  check_cells("SetQuartic", cells, n);
  check_length("SetQuartic.codes_le16", n, codes_le16.size());
  Eigen::VectorXd j4(static_cast<Eigen::Index>(n));
  for (std::size_t i = 0; i < n; ++i) {
    const auto code = static_cast<std::uint16_t>(read_le16(codes_le16, i));
    j4(static_cast<Eigen::Index>(i)) = code * reg::kQuarticLsb;
  }
  if (stream_.running && stream_.request.dynamics == Dynamics::kRlc && j4.any()) {
    throw BoardError(ErrorCode::ERROR_CODE_INVALID_ARGUMENT,
                     "an RLC stream is running: the quartic term applies to overdamped dynamics "
                     "only, so J4 must stay 0");
  }
  j4_ = std::move(j4);
  quartic_.reset();
}

bool ResonatorModel::quartic_active() const noexcept {
  return j4_.size() > 0 && (j4_.array() != 0.0).any();
}

void ResonatorModel::update_offset() {
  for (LinearStep* step : {&overdamped_, &rlc_}) {
    if (!step->ready)
      continue;
    const Eigen::VectorXd c = step->gamma * (step->input_map * bias_);
    step->offset.assign(c.data(), c.data() + c.size());
  }
  if (quartic_)
    quartic_->set_input(inv_capacitance_scale_.cwiseProduct(bias_));
}

void ResonatorModel::update_noise_factor() {
  const double d = noise_code_ * reg::kNoiseLsb;
  // The overdamped unit factor is for 2D = 1, the RLC one for D = 1 (kappa0 per unit of D).
  if (overdamped_.ready) {
    overdamped_.noisy = noise_code_ != 0;
    overdamped_.factor = row_major(std::sqrt(2.0 * d) * overdamped_.unit_factor);
  }
  if (rlc_.ready) {
    rlc_.noisy = noise_code_ != 0;
    rlc_.factor = row_major(std::sqrt(d) * rlc_.unit_factor);
  }
  if (quartic_)
    quartic_->set_diffusion(d);
}

void ResonatorModel::prepare_rlc() {
  const auto n = static_cast<Eigen::Index>(config_.cells);
  Eigen::MatrixXd c = (flaws_.coupling_dac_gain * coupling_) * reg::kRlcCapacitancePerUnit;
  c.diagonal() = c.diagonal().cwiseProduct(flaws_.capacitance_scale);
  if (Eigen::LLT<Eigen::MatrixXd>(c).info() != Eigen::Success) {
    throw BoardError(ErrorCode::ERROR_CODE_INVALID_ARGUMENT,
                     "DYNAMICS_RLC needs a positive definite coupling matrix: it programs the "
                     "cells' capacitance matrix, and this one is not positive definite");
  }
  RlcComponents components;
  components.resistance = reg::kRlcResistanceOhm * flaws_.resistance_scale;
  components.inductance = Eigen::VectorXd::Constant(n, reg::kRlcInductanceHenry);
  components.capacitance = c;
  components.noise_intensity = reg::kRlcNoiseIntensityPerUnit * flaws_.noise_scale.cwiseAbs2();
  const LinearSde sde = rlc_sde(components);
  Discretization d = discretize_lti(voltages_first(sde.drift, n), voltages_first(sde.diffusion, n),
                                    reg::kSamplePeriodSeconds);
  if (!d.phi.allFinite() || !d.gamma.allFinite() || !d.q.allFinite()) {
    throw BoardError(ErrorCode::ERROR_CODE_INTERNAL, "the RLC step is not finite");
  }
  CovarianceFactor factor = factor_covariance(d.q);
  rlc_.dim = 2 * static_cast<std::size_t>(n);
  rlc_.substeps = 1;
  rlc_.phi = row_major(d.phi);
  rlc_.gamma = std::move(d.gamma);
  rlc_.input_map = Eigen::MatrixXd::Zero(2 * n, n);
  rlc_.input_map.topRows(n) = c.inverse() * reg::kRlcBiasCurrentPerUnit;
  rlc_.unit_factor = std::move(factor.l);
  rlc_.ready = true;
  update_offset();
  update_noise_factor();
  log_->debug("RLC dynamics prepared for {} cells", n);
}

void ResonatorModel::prepare_quartic() {
  const Eigen::MatrixXd drift =
      -(inv_capacitance_scale_.asDiagonal() * (flaws_.coupling_dac_gain * coupling_));
  const Eigen::MatrixXd noise_shape =
      flaws_.noise_scale.cwiseProduct(inv_capacitance_scale_).asDiagonal();
  const Eigen::VectorXd cubic = 4.0 * j4_.cwiseProduct(inv_capacitance_scale_);
  quartic_ = std::make_unique<QuarticStepper>(drift, noise_shape, cubic, reg::kSamplePeriodUs,
                                              reg::kQuarticSubsteps);
  update_offset();
  update_noise_factor();
}

void ResonatorModel::prepare(Dynamics dynamics) {
  if (dynamics == Dynamics::kRlc) {
    if (quartic_active()) {
      throw BoardError(ErrorCode::ERROR_CODE_INVALID_ARGUMENT,
                       "DYNAMICS_RLC with J4 != 0: the quartic term applies to overdamped "
                       "dynamics only; set J4 to 0 first");
    }
    if (!rlc_.ready)
      prepare_rlc();
  } else if (quartic_active() && !quartic_) {
    prepare_quartic();
  }
}

void ResonatorModel::step(Dynamics dynamics, std::uint64_t adc_index) {
  const std::size_t n = config_.cells;
  if (dynamics == Dynamics::kOverdamped && quartic_) {
    quartic_->advance(std::span<double>(z_.data(), n), adc_index, noise_, reg::kRailVolts);
    return;
  }
  const LinearStep& st = dynamics == Dynamics::kRlc ? rlc_ : overdamped_;
  const std::size_t dim = st.dim;
  for (std::uint32_t s = 0; s < st.substeps; ++s) {
    if (st.noisy)
      noise_.fill(adc_index, s, std::span<double>(xi_.data(), dim));
    for (std::size_t i = 0; i < dim; ++i) {
      const double* phi_row = st.phi.data() + i * dim;
      double drift = 0.0;
      for (std::size_t j = 0; j < dim; ++j)
        drift += phi_row[j] * z_[j];
      double value = drift + st.offset[i];
      if (st.noisy) {
        const double* l_row = st.factor.data() + i * dim;
        double kick = 0.0;
        for (std::size_t j = 0; j < dim; ++j)
          kick += l_row[j] * xi_[j];
        value += kick;
      }
      // The rails bound the voltages (the first n components); currents are not clamped.
      next_[i] = i < n ? std::clamp(value, -reg::kRailVolts, reg::kRailVolts) : value;
    }
    std::copy(next_.begin(), next_.begin() + static_cast<std::ptrdiff_t>(dim), z_.begin());
  }
}

bool ResonatorModel::produce_output(Dynamics dynamics, std::uint32_t decimation, bool average,
                                    std::uint64_t first_adc_index, std::span<std::int16_t> codes) {
  const std::size_t n = config_.cells;
  constexpr double kInvAdcLsb = 1.0 / reg::kAdcLsb;  // a power of two: exact
  constexpr std::uint32_t kPowerCheckInterval = 4096;
  bool clipped = false;
  if (average)
    std::fill(block_sums_.begin(), block_sums_.end(), 0);
  for (std::uint32_t d = 0; d < decimation; ++d) {
    if (d % kPowerCheckInterval == kPowerCheckInterval - 1 && !powered())
      return clipped;
    step(dynamics, first_adc_index + d);
    for (std::size_t i = 0; i < n; ++i) {
      const auto e = static_cast<Eigen::Index>(i);
      // On an ideal board gain 1 and offset 0 leave x / lsb exact.
      long long code =
          std::llround(z_[i] * flaws_.adc_gain(e) * kInvAdcLsb + flaws_.adc_offset_codes(e));
      if (code > reg::kAdcMaxCode) {
        code = reg::kAdcMaxCode;
        clipped = true;
      } else if (code < reg::kAdcMinCode) {
        code = reg::kAdcMinCode;
        clipped = true;
      }
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

void ResonatorModel::check_mode(Dynamics dynamics) {
  if (dynamics != Dynamics::kOverdamped && dynamics != Dynamics::kRlc) {
    throw BoardError(ErrorCode::ERROR_CODE_INVALID_ARGUMENT, "unknown dynamics");
  }
}

RunTicket ResonatorModel::begin_run(const RunRequest& request) {
  finish_pending();  // runs happen one after another
  catch_up_stream();
  if (stream_.running) {
    throw BoardError(
        ErrorCode::ERROR_CODE_BUSY,
        fmt::format("StartRun while stream {} runs; send StopStream first", stream_.id));
  }
  const std::uint32_t decimation = detail::effective_decimation(request.decimation);
  const std::uint64_t duration = request.duration_ticks;
  const std::uint64_t ticks_per_output = std::uint64_t{reg::kTicksPerSample} * decimation;
  if (duration == 0 || duration % ticks_per_output != 0) {
    throw BoardError(ErrorCode::ERROR_CODE_INVALID_ARGUMENT,
                     fmt::format("StartRun.duration_ticks must be a positive multiple of "
                                 "ticks_per_sample * decimation ({}), got {}",
                                 ticks_per_output, duration));
  }
  const std::uint64_t samples = duration / ticks_per_output;
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
  check_mode(request.dynamics);
  if (!programmed_) {
    throw BoardError(ErrorCode::ERROR_CODE_NOT_PROGRAMMED,
                     "StartRun before ProgramCouplings: the couplings are not programmed");
  }
  prepare(request.dynamics);
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
    record.product_sums.assign(reg::upper_triangle_size(config_.cells), 0);
  if (request.record_samples)
    record.samples_le16.assign(2 * n * ticket.sample_count, '\0');

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
