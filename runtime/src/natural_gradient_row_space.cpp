// The row-space path of NaturalGradientEstimator (natural_gradient.hpp has the derivation): N
// above the board's cells, F = J^T H J of rank r <= cells. The board relaxes the r x r system in
// F's row space; the complement, where F = 0, relaxes under damping alone in closed form.
#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/energy.hpp"
#include "kelvin/runtime/natural_gradient.hpp"
#include "row_space_basis.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

namespace {

// exp(-lambda tau) and (1 - exp(-lambda tau)) / lambda, the complement's two weights (the second
// tends to tau as lambda -> 0).
std::pair<double, double> complement_weights(double lambda, double tau) {
  const double left = std::exp(-lambda * tau);
  const double gain = lambda > 0.0 ? -std::expm1(-lambda * tau) / lambda : tau;
  return {left, gain};
}

}  // namespace

NaturalGradientResult NaturalGradientEstimator::estimate_row_space(const Eigen::VectorXd& g,
                                                                   const Eigen::MatrixXd& J,
                                                                   const Eigen::MatrixXd& H) {
  const auto wall_start = std::chrono::steady_clock::now();
  const Eigen::Index n = g.size();
  const double lambda = options_.damping;
  const detail::RowFactor factor = detail::factor_rows(H);
  const Eigen::Index r = factor.rows(J);
  if (r > static_cast<Eigen::Index>(board_.cells())) {
    throw Error(ErrorKind::kNotSupported,
                fmt::format("the curvature has {} parameters and rank {}, both above the board's "
                            "{} cells: take the curvature from fewer samples (rows of J), or use "
                            "block_solve(board, DampedGgn(J, H, lambda), g) for the natural "
                            "gradient itself",
                            n, r, board_.cells()));
  }
  if (!(lambda > 0.0) && r < n) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("damping 0 with {} parameters and a curvature of rank {}: F + lambda "
                            "I is singular; give a positive damping",
                            n, r));
  }
  // Start: set_start()'s, the previous estimate with warm start, or g.
  std::optional<Eigen::VectorXd> given_start = std::exchange(start_, std::nullopt);
  if (given_start && (given_start->size() != n || !given_start->allFinite())) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("the start set by set_start() has {} entries{} for a gradient of {}",
                    given_start->size(), given_start->allFinite() ? "" : " (some not finite)", n));
  }
  const bool warm = given_start.has_value() ||
                    (options_.warm_start && previous_estimate_ && previous_estimate_->size() == n);
  const Eigen::VectorXd x0 = given_start ? *given_start : warm ? *previous_estimate_ : g;

  // Q^T g and Q^T x0 in one pass over J (one vector when the start is g).
  const detail::RowSpaceBasis basis(J, factor);
  const bool start_is_g = !given_start && !warm;
  Eigen::MatrixXd starts(n, start_is_g ? 1 : 2);
  starts.col(0) = g;
  if (!start_is_g)
    starts.col(1) = x0;
  const Eigen::MatrixXd projected = basis.to_row(starts);
  const Eigen::VectorXd g_row = projected.col(0);
  const Eigen::VectorXd w0 = projected.col(start_is_g ? 0 : 1);

  // The board's part: the same options, started at Q^T x0; no warm start or delay of its own
  // (its basis changes with every J), its own rounding seed drawn from this estimator's, and
  // this estimator's calibration cache.
  NaturalGradientOptions row_options = options_;
  row_options.warm_start = false;
  row_options.upload_delay_us = 0.0;
  row_options.rounding_seed = rng_state_;
  rng_state_ = rng_state_ * 6364136223846793005ULL + 1442695040888963407ULL;
  NaturalGradientEstimator row(board_, row_options);
  row.calibrations_ = calibrations_;
  row.set_start(w0);
  NaturalGradientResult out = row.estimate(g_row, basis.f_row);
  NaturalGradientSummary& sum = out.summary;

  // The complement at the board's time in F's units (at least the tolerance's, when set).
  double tau = sum.coupling_scale * sum.time_us;
  if (options_.transient_tolerance && lambda > 0.0)
    tau = std::max(tau, std::log(1.0 / *options_.transient_tolerance) / lambda);
  const auto [left, gain] = complement_weights(lambda, tau);
  // Each repeat is Q w_k + x_perp with x_perp = left (x0 - Q w0) + gain (g - Q g_row), that is
  // Q (w_k - c) + left x0 + gain g with c = left w0 + gain g_row. The repeats and the
  // complement's distance from the natural gradient, (x0 - g / lambda) - Q (w0 - g_row /
  // lambda), go through Q in one product; the estimate is the mean of the mapped repeats.
  const auto repeats = static_cast<Eigen::Index>(out.repeat_estimates.size());
  const Eigen::VectorXd c = left * w0 + gain * g_row;
  Eigen::MatrixXd board_space(r, repeats + 1);
  for (Eigen::Index k = 0; k < repeats; ++k)
    board_space.col(k) = out.repeat_estimates[static_cast<std::size_t>(k)] - c;
  board_space.col(repeats) = lambda > 0.0 ? Eigen::VectorXd(w0 - g_row / lambda) : w0;
  const Eigen::MatrixXd mapped = basis.from_row(board_space);
  const Eigen::VectorXd mean = mapped.leftCols(repeats).rowwise().mean();
  Eigen::VectorXd var = Eigen::VectorXd::Zero(n);
  for (Eigen::Index k = 0; k < repeats; ++k)
    var += (mapped.col(k) - mean).cwiseAbs2() / static_cast<double>(repeats - 1);
  out.standard_error = (var / static_cast<double>(repeats)).cwiseSqrt();
  const Eigen::VectorXd base = left * x0 + gain * g;
  for (Eigen::Index k = 0; k < repeats; ++k)
    out.repeat_estimates[static_cast<std::size_t>(k)] = mapped.col(k) + base;
  out.estimate = mean + base;

  // The complement's distance from the natural gradient is exact: left * |x0_perp - g_perp/l|.
  const double perp_bound =
      lambda > 0.0 ? left * ((x0 - g / lambda) - mapped.col(repeats)).cwiseAbs().maxCoeff() : 0.0;
  // The board's bound per w component carries over through Q as at most sqrt(r) times it.
  sum.transient_bound =
      std::max(std::sqrt(static_cast<double>(r)) * sum.transient_bound, perp_bound);
  sum.unknowns = static_cast<std::size_t>(n);
  sum.board_unknowns = static_cast<std::size_t>(r);
  sum.method = "row space";
  sum.curvature_rank = static_cast<std::size_t>(r);
  sum.complement_remaining_transient = left;
  sum.warm_start_given = options_.warm_start;
  sum.warm_start = warm;
  sum.upload_delay_us_given = options_.upload_delay_us;
  if (options_.upload_delay_us > 0.0) {
    sum.warnings.push_back(
        "upload delay not run: in row space the board's basis changes with every J, so the "
        "previous step's codes mean nothing there");
  }
  if (perp_bound > out.standard_error.maxCoeff() && perp_bound > 0.0) {
    sum.warnings.push_back(fmt::format(
        "the complement of F's row space, which only the damping relaxes, is still {:.3g} from "
        "the natural gradient at this t (exp(-lambda tau) = {:.3g}); set transient_tolerance for "
        "the natural gradient itself",
        perp_bound, left));
  }
  // Host work besides the board job's: H's eigensystem, the basis (Gram matrix or QR), the two
  // mappings and the vector updates around them.
  const double md = static_cast<double>(J.rows()), nd = static_cast<double>(n);
  const double extra = (factor.from_eigensystem ? 9.0 * md * md * md : 0.0) + basis.flops() +
                       basis.mapping_flops(starts.cols()) + basis.mapping_flops(repeats + 1) +
                       nd * (6.0 * static_cast<double>(repeats) + 8.0);
  const EnergyModel model;
  sum.energy.host_flops += extra;
  sum.energy.host_j += extra * model.host_per_flop;
  sum.energy.gpu_flops += extra;
  sum.energy.gpu_j += extra * model.gpu_per_flop;
  sum.wall_time_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  previous_estimate_ = out.estimate;
  previous_codes_.reset();
  if (const auto log = common::logger("kelvin.runtime"); log->should_log(spdlog::level::debug))
    log->debug("natural gradient: {}", sum.brief_report());
  return out;
}

}  // namespace kelvin::runtime
