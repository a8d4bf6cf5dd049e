#include "kelvin/sim_backend/resonator_steppers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include <spdlog/logger.h>

#include "kelvin/common/logging.hpp"
#include "kelvin/sim_backend/board_error.hpp"
#include "kelvin/sim_backend/quartic_stepper.hpp"
#include "kelvin/sim_backend/resonator_registers.hpp"
#include "kelvin/sim_backend/rlc_circuit.hpp"

namespace kelvin::sim_backend {
namespace {

namespace reg = resonator;

// Largest absolute row sum: bounds how much one step can amplify max_i |x_i|.
double row_gain(const Eigen::MatrixXd& m) {
  return m.cwiseAbs().rowwise().sum().maxCoeff();
}

// An [i; v]-ordered 2N x 2N matrix in [v; i] order: the board's state puts the voltages first,
// so that the overdamped step is the top-left corner of the same state vector.
Eigen::MatrixXd voltages_first(const Eigen::MatrixXd& m, Eigen::Index n) {
  Eigen::MatrixXd out(2 * n, 2 * n);
  out.topLeftCorner(n, n) = m.bottomRightCorner(n, n);
  out.topRightCorner(n, n) = m.bottomLeftCorner(n, n);
  out.bottomLeftCorner(n, n) = m.topRightCorner(n, n);
  out.bottomRightCorner(n, n) = m.topLeftCorner(n, n);
  return out;
}

// The rails of each row: the first `clamped` rows (the voltages) are bound by them, the others
// (the currents, and the padding) are not.
void set_rails(LinearStep& step, std::size_t clamped) {
  const std::size_t rows = step.phi.padded_rows();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  step.lo.assign(rows, -kInf);
  step.hi.assign(rows, kInf);
  std::fill(step.lo.begin(), step.lo.begin() + static_cast<std::ptrdiff_t>(clamped),
            -reg::kRailVolts);
  std::fill(step.hi.begin(), step.hi.begin() + static_cast<std::ptrdiff_t>(clamped),
            reg::kRailVolts);
}

std::size_t padded(std::size_t rows) {
  return (rows + kPanelGroupRows - 1) / kPanelGroupRows * kPanelGroupRows;
}

}  // namespace

ResonatorSteppers::ResonatorSteppers(std::uint32_t cells, const BoardImperfections& flaws)
    : cells_(cells),
      flaws_(flaws),
      log_(common::logger("kelvin.sim")),
      inv_capacitance_scale_(flaws.capacitance_scale.cwiseInverse()),
      next_(padded(2 * std::size_t{cells}), 0.0),
      xi_(2 * std::size_t{cells}, 0.0) {}

ResonatorSteppers::~ResonatorSteppers() = default;

const ResonatorSteppers::CachedCoupling* ResonatorSteppers::cached(
    const Eigen::MatrixXd& coupling) const noexcept {
  for (const CachedCoupling& c : cache_) {
    if (c.coupling.rows() == coupling.rows() && c.coupling.cols() == coupling.cols() &&
        c.coupling == coupling)
      return &c;
  }
  return nullptr;
}

LinearStep ResonatorSteppers::discretize_overdamped(const Eigen::MatrixXd& coupling) const {
  if (const CachedCoupling* c = cached(coupling))
    return c->overdamped;
  // Unit-noise (2D = 1) discretization of dx = diag(1/c) (-g A x + b) dt + diag(n/c) dW over
  // h / m; the overflow guard doubles m while one substep of a runaway A would gain more than
  // kMaxStepGain. On an ideal board (c = n = g = 1) this is exactly dx = -(A x - b) dt + dW.
  const Eigen::MatrixXd drift =
      -(inv_capacitance_scale_.asDiagonal() * (flaws_.coupling_dac_gain * coupling));
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
  LinearStep step;
  step.dim = cells_;
  step.substeps = m;
  step.phi = to_panels(d.phi, /*trim_zero_columns=*/false);
  step.gamma = std::move(d.gamma);
  step.input_map = inv_capacitance_scale_.asDiagonal();
  step.unit_factor = std::move(factor.l);
  step.factor_method = factor.method;
  step.ready = true;
  return step;
}

bool ResonatorSteppers::realizable_as_capacitance(const Eigen::MatrixXd& coupling) const {
  Eigen::MatrixXd c = flaws_.coupling_dac_gain * coupling;
  c.diagonal() = c.diagonal().cwiseProduct(flaws_.capacitance_scale);
  return Eigen::LLT<Eigen::MatrixXd>(c).info() == Eigen::Success;
}

void ResonatorSteppers::install_overdamped(LinearStep step, const ResonatorRegisters& registers) {
  // Remember the unit step (most recent last; a hit moves to the back with its quartic stepper).
  CachedCoupling entry{registers.coupling, step, {}, nullptr};
  for (auto it = cache_.begin(); it != cache_.end(); ++it) {
    if (it->coupling == registers.coupling) {
      entry.j4 = std::move(it->j4);
      entry.quartic = std::move(it->quartic);
      cache_.erase(it);
      break;
    }
  }
  cache_.push_back(std::move(entry));
  if (cache_.size() > kCachedCouplings)
    cache_.erase(cache_.begin());
  overdamped_ = std::move(step);
  set_rails(overdamped_, cells_);
  rlc_.ready = false;
  quartic_.reset();
  update_input(registers);
  update_noise(registers);
}

void ResonatorSteppers::update_input(const ResonatorRegisters& registers) {
  for (LinearStep* step : {&overdamped_, &rlc_}) {
    if (!step->ready)
      continue;
    const Eigen::VectorXd c = step->gamma * (step->input_map * registers.bias);
    step->offset.assign(c.data(), c.data() + c.size());
    step->offset.resize(step->phi.padded_rows(), 0.0);
  }
  if (quartic_)
    quartic_->set_input(inv_capacitance_scale_.cwiseProduct(registers.bias));
}

void ResonatorSteppers::update_noise(const ResonatorRegisters& registers) {
  const double d = registers.diffusion();
  // The overdamped unit factor is for 2D = 1, the RLC one for D = 1 (kappa0 per unit of D).
  if (overdamped_.ready) {
    overdamped_.noisy = registers.noise_code != 0;
    overdamped_.factor = to_panels(std::sqrt(2.0 * d) * overdamped_.unit_factor, true);
  }
  if (rlc_.ready) {
    rlc_.noisy = registers.noise_code != 0;
    rlc_.factor = to_panels(std::sqrt(d) * rlc_.unit_factor, true);
  }
  if (quartic_)
    quartic_->set_diffusion(d);
}

void ResonatorSteppers::drop_quartic() noexcept {
  quartic_.reset();
}

void ResonatorSteppers::prepare(Dynamics dynamics, const ResonatorRegisters& registers) {
  if (dynamics == Dynamics::kRlc) {
    if (registers.quartic_active()) {
      throw BoardError(BoardErrorCode::kInvalidArgument,
                       "DYNAMICS_RLC with J4 != 0: the quartic term applies to overdamped "
                       "dynamics only; set J4 to 0 first");
    }
    if (!rlc_.ready)
      prepare_rlc(registers);
  } else if (registers.quartic_active() && !quartic_) {
    prepare_quartic(registers);
  }
}

void ResonatorSteppers::prepare_rlc(const ResonatorRegisters& registers) {
  const auto n = static_cast<Eigen::Index>(cells_);
  Eigen::MatrixXd c = (flaws_.coupling_dac_gain * registers.coupling) * reg::kRlcCapacitancePerUnit;
  c.diagonal() = c.diagonal().cwiseProduct(flaws_.capacitance_scale);
  if (Eigen::LLT<Eigen::MatrixXd>(c).info() != Eigen::Success) {
    throw BoardError(BoardErrorCode::kInvalidArgument,
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
    throw BoardError(BoardErrorCode::kInternal, "the RLC step is not finite");
  }
  CovarianceFactor factor = factor_covariance(d.q);
  rlc_.dim = 2 * static_cast<std::size_t>(n);
  rlc_.substeps = 1;
  rlc_.phi = to_panels(d.phi, /*trim_zero_columns=*/false);
  set_rails(rlc_, cells_);
  rlc_.gamma = std::move(d.gamma);
  rlc_.input_map = Eigen::MatrixXd::Zero(2 * n, n);
  rlc_.input_map.topRows(n) = c.inverse() * reg::kRlcBiasCurrentPerUnit;
  rlc_.unit_factor = std::move(factor.l);
  rlc_.factor_method = factor.method;
  rlc_.ready = true;
  update_input(registers);
  update_noise(registers);
  log_->debug("RLC dynamics prepared for {} cells", n);
}

void ResonatorSteppers::prepare_quartic(const ResonatorRegisters& registers) {
  CachedCoupling* entry =
      cache_.empty() || cache_.back().coupling != registers.coupling ? nullptr : &cache_.back();
  if (entry && entry->quartic && entry->j4.size() == registers.j4.size() &&
      entry->j4 == registers.j4) {
    quartic_ = std::make_unique<QuarticStepper>(*entry->quartic);  // input and D 0, as built
    update_input(registers);
    update_noise(registers);
    return;
  }
  const Eigen::MatrixXd drift =
      -(inv_capacitance_scale_.asDiagonal() * (flaws_.coupling_dac_gain * registers.coupling));
  const Eigen::MatrixXd noise_shape =
      flaws_.noise_scale.cwiseProduct(inv_capacitance_scale_).asDiagonal();
  const Eigen::VectorXd cubic = 4.0 * registers.j4.cwiseProduct(inv_capacitance_scale_);
  quartic_ = std::make_unique<QuarticStepper>(drift, noise_shape, cubic, reg::kSamplePeriodUs,
                                              reg::kQuarticSubsteps);
  if (entry) {
    entry->j4 = registers.j4;
    entry->quartic = std::make_shared<const QuarticStepper>(*quartic_);
  }
  update_input(registers);
  update_noise(registers);
}

void ResonatorSteppers::step(Dynamics dynamics, std::span<double> z, std::uint64_t adc_index,
                             const GaussianStream& noise) {
  if (dynamics == Dynamics::kOverdamped && quartic_) {
    quartic_->advance(z.first(cells_), adc_index, noise, reg::kRailVolts);
    return;
  }
  advance_linear(dynamics == Dynamics::kRlc ? rlc_ : overdamped_, z, adc_index, noise);
}

void ResonatorSteppers::advance_linear(const LinearStep& st, std::span<double> z,
                                       std::uint64_t adc_index, const GaussianStream& noise) {
  const std::size_t dim = st.dim;
  LinearKernelArgs args;
  args.phi = &st.phi;
  args.factor = st.noisy ? &st.factor : nullptr;
  args.offset = st.offset.data();
  args.lo = st.lo.data();
  args.hi = st.hi.data();
  args.z = z.data();
  args.xi = xi_.data();
  args.next = next_.data();
  for (std::uint32_t s = 0; s < st.substeps; ++s) {
    if (st.noisy)
      noise.fill(adc_index, s, std::span<double>(xi_.data(), dim));
    apply_linear(args);
    std::copy(next_.begin(), next_.begin() + static_cast<std::ptrdiff_t>(dim), z.begin());
  }
}

}  // namespace kelvin::sim_backend
