#include "kelvin/runtime/problem_scaling.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

#include "kelvin/common/error.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

namespace {

// Half-range of the ADC that is usable on both sides of zero [V].
double adc_half_range(const driver::DeviceDescription& board) {
  return std::min(std::abs(board.adc.min_value()), std::abs(board.adc.max_value()));
}

// Largest magnitude a code scale reaches on both sides of zero.
double symmetric_limit(const driver::CodeScale& scale) {
  return std::min(std::abs(scale.min_value()), std::abs(scale.max_value()));
}

// splitmix64: a small, well-known generator; enough for rounding decisions and reproducible.
double next_uniform(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

// A rounding rule maps a value in code units to an integer code.
template <typename Round>
std::int16_t to_code(const driver::CodeScale& scale, double value, Round round) {
  const double exact = (value - scale.offset) / scale.lsb;
  const double code = std::clamp(round(exact), static_cast<double>(scale.min_code),
                                 static_cast<double>(scale.max_code));
  return static_cast<std::int16_t>(code);
}

double round_nearest(double v) {
  return std::round(v);
}

template <typename Round>
ProgrammedSystem quantize(const CompiledSystem& sys, Eigen::Index n,
                          const driver::DeviceDescription& board, Round round) {
  const auto cells = static_cast<Eigen::Index>(board.cells);
  ProgrammedSystem p;
  p.couplings = driver::SymmetricCodes(board.cells);
  p.bias_codes.assign(board.cells, 0);
  p.matrix = Eigen::MatrixXd::Zero(n, n);
  p.rhs = Eigen::VectorXd::Zero(n);
  for (Eigen::Index i = 0; i < cells; ++i) {
    for (Eigen::Index j = i; j < cells; ++j) {
      if (sys.device_matrix(i, j) == 0.0)
        continue;  // spare-cell couplings stay exactly 0
      const auto code = to_code(board.coupling, sys.device_matrix(i, j), round);
      p.couplings.set(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j), code);
      if (i < n && j < n) {
        p.matrix(i, j) = p.matrix(j, i) =
            board.coupling.to_physical(std::int64_t{code}) / sys.coupling_scale;
      }
    }
    if (i < n) {
      const auto code = to_code(board.bias, sys.device_rhs(i), round);
      p.bias_codes[static_cast<std::size_t>(i)] = code;
      p.rhs(i) = board.bias.to_physical(std::int64_t{code}) * sys.state_scale / sys.coupling_scale;
    }
  }
  return p;
}

Eigen::MatrixXd realized_device_matrix(const ProgrammedSystem& p, const driver::CodeScale& scale) {
  const auto cells = static_cast<Eigen::Index>(p.couplings.size());
  Eigen::MatrixXd m(cells, cells);
  for (Eigen::Index i = 0; i < cells; ++i) {
    for (Eigen::Index j = i; j < cells; ++j) {
      m(i, j) = m(j, i) = scale.to_physical(std::int64_t{
          p.couplings.get(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j))});
    }
  }
  return m;
}

// Smallest state scale the bias DAC allows: |a b_i / s| <= bias limit.
double min_state_scale(double coupling_scale, const Eigen::VectorXd& b,
                       const driver::DeviceDescription& board) {
  return coupling_scale * b.cwiseAbs().maxCoeff() / symmetric_limit(board.bias);
}

void set_rhs(CompiledSystem& sys, const Eigen::VectorXd& b,
             const driver::DeviceDescription& board) {
  sys.device_rhs = Eigen::VectorXd::Zero(board.cells);
  sys.device_rhs.head(b.size()) = sys.coupling_scale * b / sys.state_scale;
  sys.nearest = quantize(sys, b.size(), board, round_nearest);
  const double norm = b.norm();
  sys.bias_quantization_error = norm > 0.0 ? (b - sys.nearest.rhs).norm() / norm : 0.0;
}

}  // namespace

CompiledSystem compile_system(const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                              const driver::DeviceDescription& board,
                              const ScalingTargets& targets) {
  const auto n = A.rows();
  const auto cells = static_cast<Eigen::Index>(board.cells);
  if (n > cells) {
    throw Error(ErrorKind::kNotSupported,
                fmt::format("the system has {} unknowns but the board has {} cells", n, cells));
  }
  if (!(targets.mean_fraction > 0.0 && targets.mean_fraction < 1.0) ||
      !(targets.noise_sigmas > 0.0)) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("scaling targets out of range: mean_fraction {} (0..1), noise_sigmas {}",
                    targets.mean_fraction, targets.noise_sigmas));
  }

  CompiledSystem sys;
  // Couplings: the largest |A_ij| lands on the DAC's end code.
  sys.coupling_scale = symmetric_limit(board.coupling) / A.cwiseAbs().maxCoeff();
  sys.device_matrix = Eigen::MatrixXd::Zero(cells, cells);
  sys.device_matrix.topLeftCorner(n, n) = sys.coupling_scale * A;
  // Spare cells: decoupled, as fast as the fastest used cell, so they never set the time scale.
  const double fastest = sys.device_matrix.diagonal().head(n).maxCoeff();
  for (Eigen::Index i = n; i < cells; ++i)
    sys.device_matrix(i, i) = fastest;

  // The board relaxes only if the realized matrix is positive definite.
  sys.state_scale = 1.0;  // provisional, for the first quantization
  sys.device_rhs = Eigen::VectorXd::Zero(cells);
  sys.nearest = quantize(sys, n, board, round_nearest);
  sys.matrix_quantization_error = (A - sys.nearest.matrix).norm() / A.norm();
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(
      realized_device_matrix(sys.nearest, board.coupling), Eigen::EigenvaluesOnly);
  sys.device_lambda_min = eig.eigenvalues()(0);
  sys.device_lambda_max = eig.eigenvalues()(cells - 1);
  if (!(sys.device_lambda_min > 0.0)) {
    throw Error(ErrorKind::kNotSupported,
                fmt::format("after rounding to {}-bit coupling codes the matrix is no longer "
                            "positive definite (smallest eigenvalue {:.3g} of {:.3g}): it is too "
                            "ill-conditioned for this board",
                            board.coupling.bits, sys.device_lambda_min / sys.coupling_scale,
                            sys.device_lambda_max / sys.coupling_scale));
  }

  // State scale: ||x||_inf <= ||x||_2 <= ||b||_2 / lambda_min(A) must use mean_fraction of the
  // ADC half-range (lambda_min of the realized matrix, in user units).
  const double half_range = adc_half_range(board);
  const double mean_bound = targets.mean_fraction * half_range;  // [V]
  const double lambda_min_user = sys.device_lambda_min / sys.coupling_scale;
  const double b_norm = b.norm();
  if (b_norm > 0.0) {
    sys.state_scale = std::max(b_norm / (lambda_min_user * mean_bound),
                               min_state_scale(sys.coupling_scale, b, board));
  }
  set_rhs(sys, b, board);

  // Noise: the widest cell has variance D / lambda_min(A_dev); noise_sigmas of it must fit
  // between the mean's bound and the rail. Round down so the bound holds after quantization,
  // but keep at least one code of noise.
  const double sigma_max = (half_range - mean_bound) / targets.noise_sigmas;
  const double diffusion = sys.device_lambda_min * sigma_max * sigma_max;
  const double code = std::floor((diffusion - board.noise.offset) / board.noise.lsb);
  sys.noise_code = static_cast<std::uint32_t>(
      std::clamp<double>(code, 1.0, static_cast<double>(board.noise.max_code)));
  sys.diffusion = board.noise.to_physical(std::int64_t{sys.noise_code});
  return sys;
}

void rescale_rhs(CompiledSystem& system, const Eigen::VectorXd& b,
                 const driver::DeviceDescription& board, double new_state_scale) {
  if (!(new_state_scale > 0.0) || !std::isfinite(new_state_scale)) {
    throw Error(ErrorKind::kInvalidArgument, fmt::format("bad state scale {}", new_state_scale));
  }
  if (b.norm() == 0.0)
    return;
  system.state_scale = std::max(new_state_scale, min_state_scale(system.coupling_scale, b, board));
  set_rhs(system, b, board);
}

ProgrammedSystem round_randomly(const CompiledSystem& system, Eigen::Index unknowns,
                                const driver::DeviceDescription& board, std::uint64_t& rng_state) {
  auto stochastic = [&rng_state](double v) {
    const double lower = std::floor(v);
    return lower + (next_uniform(rng_state) < v - lower ? 1.0 : 0.0);
  };
  auto draw = quantize(system, unknowns, board, stochastic);
  const Eigen::LLT<Eigen::MatrixXd> llt(realized_device_matrix(draw, board.coupling));
  if (llt.info() != Eigen::Success)
    return system.nearest;
  return draw;
}

}  // namespace kelvin::runtime
