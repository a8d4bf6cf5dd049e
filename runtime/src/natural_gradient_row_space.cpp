// The row-space path of NaturalGradientEstimator (natural_gradient.hpp has the derivation): N
// above the board's cells, F = J^T H J of rank r <= cells. The board relaxes the r x r system in
// F's row space; the complement, where F = 0, relaxes under damping alone in closed form.
#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/energy.hpp"
#include "kelvin/runtime/natural_gradient.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

namespace {

// Eigenvalues of H at most this fraction of the largest are dropped from its factor: they are
// rounding, and each kept one costs a board cell.
constexpr double kRankTolerance = 1e-12;

// U = L^T J with H = L L^T, L = V_k diag(sqrt(e_k)) over the eigenvalues e_k kept. An H with an
// eigenvalue below -1e-10 of the largest is not positive semidefinite: refused.
Eigen::MatrixXd factor_rows(const Eigen::MatrixXd& J, const Eigen::MatrixXd& H) {
  // A diagonal H (the identity, when the caller already folded H's square root into J) needs no
  // eigensystem: U = diag(sqrt(h)) J over the rows with h > 0, without mixing the rows.
  if (H.isDiagonal(0.0)) {
    const Eigen::VectorXd h = H.diagonal();
    const double largest = h.cwiseAbs().maxCoeff();
    if (h.minCoeff() >= -1e-10 * largest) {
      std::vector<Eigen::Index> kept;
      for (Eigen::Index i = 0; i < h.size(); ++i) {
        if (h(i) > kRankTolerance * largest)
          kept.push_back(i);
      }
      Eigen::MatrixXd u(static_cast<Eigen::Index>(kept.size()), J.cols());
      for (std::size_t k = 0; k < kept.size(); ++k)
        u.row(static_cast<Eigen::Index>(k)) = std::sqrt(h(kept[k])) * J.row(kept[k]);
      return u;
    }
  }
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(0.5 * (H + H.transpose()));
  const Eigen::VectorXd& e = eig.eigenvalues();
  const double largest = e.cwiseAbs().maxCoeff();
  if (e.size() > 0 && e.minCoeff() < -1e-10 * largest) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("H is not positive semidefinite: its smallest eigenvalue is {:.3g} "
                            "(largest {:.3g}); a GGN's loss Hessian must be",
                            e.minCoeff(), largest));
  }
  std::vector<Eigen::Index> kept;
  for (Eigen::Index i = 0; i < e.size(); ++i) {
    if (e(i) > kRankTolerance * largest)
      kept.push_back(i);
  }
  Eigen::MatrixXd u(static_cast<Eigen::Index>(kept.size()), J.cols());
  for (std::size_t k = 0; k < kept.size(); ++k) {
    const Eigen::Index i = kept[k];
    u.row(static_cast<Eigen::Index>(k)) =
        std::sqrt(e(i)) * (eig.eigenvectors().col(i).transpose() * J);
  }
  return u;
}

// An orthonormal basis Q (N x r) of F's row space, the span of U's rows, and F there,
// Q^T F Q. With the Gram matrix K = U U^T of full rank, Q = U^T K^-1/2 (Loewdin's symmetric
// orthonormalization: Q^T Q = K^-1/2 K K^-1/2 = I) and Q^T F Q = K^-1/2 K K K^-1/2 = K itself,
// all from products with U (2 r^2 N FLOPs for K, matrix-vector products after), never forming Q.
// Rows of U that are dependent (K singular within 1e-10 of its largest eigenvalue) take the
// thin Householder QR of U^T instead (U^T = Q R, Q^T F Q = R R^T; about 4 N r^2 FLOPs).
class RowBasis {
 public:
  explicit RowBasis(const Eigen::MatrixXd& u) : u_(u) {
    const Eigen::MatrixXd gram = u * u.transpose();
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(gram);
    const Eigen::VectorXd& e = eig.eigenvalues();
    if (e.size() > 0 && e.minCoeff() > 1e-10 * e.maxCoeff()) {
      const Eigen::MatrixXd& v = eig.eigenvectors();
      inverse_sqrt_ = v * e.cwiseSqrt().cwiseInverse().asDiagonal() * v.transpose();
      f_row = 0.5 * (gram + gram.transpose());
      flops_ = 2.0 * static_cast<double>(u.rows() * u.rows() * u.cols());
      return;
    }
    const Eigen::HouseholderQR<Eigen::MatrixXd> qr(u.transpose());
    q_ = qr.householderQ() * Eigen::MatrixXd::Identity(u.cols(), u.rows());
    const Eigen::MatrixXd r = qr.matrixQR().topRows(u.rows()).triangularView<Eigen::Upper>();
    f_row = r * r.transpose();
    flops_ = 4.0 * static_cast<double>(u.cols() * u.rows() * u.rows());
  }
  // Q^T v and Q w.
  Eigen::VectorXd to_row(const Eigen::VectorXd& v) const {
    return q_.size() > 0 ? Eigen::VectorXd(q_.transpose() * v)
                         : Eigen::VectorXd(inverse_sqrt_ * (u_ * v));
  }
  Eigen::VectorXd from_row(const Eigen::VectorXd& w) const {
    return q_.size() > 0 ? Eigen::VectorXd(q_ * w)
                         : Eigen::VectorXd(u_.transpose() * (inverse_sqrt_ * w));
  }
  double flops() const noexcept { return flops_; }

  Eigen::MatrixXd f_row;  // Q^T F Q

 private:
  const Eigen::MatrixXd& u_;
  Eigen::MatrixXd inverse_sqrt_;  // K^-1/2 (Loewdin basis)
  Eigen::MatrixXd q_;             // explicit Q (QR basis)
  double flops_ = 0.0;
};

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
  const Eigen::MatrixXd u = factor_rows(J, H);
  const Eigen::Index r = u.rows();
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

  const RowBasis basis(u);
  const Eigen::VectorXd g_row = basis.to_row(g);
  const Eigen::VectorXd w0 = basis.to_row(x0);
  const Eigen::VectorXd g_perp = g - basis.from_row(g_row);
  const Eigen::VectorXd x0_perp = x0 - basis.from_row(w0);

  // The board's part: the same options, started at Q^T x0; no warm start or delay of its own
  // (its basis changes with every J), its own rounding seed drawn from this estimator's.
  NaturalGradientOptions row_options = options_;
  row_options.warm_start = false;
  row_options.upload_delay_us = 0.0;
  row_options.rounding_seed = rng_state_;
  rng_state_ = rng_state_ * 6364136223846793005ULL + 1442695040888963407ULL;
  NaturalGradientEstimator row(board_, row_options);
  row.set_start(w0);
  NaturalGradientResult out = row.estimate(g_row, basis.f_row);
  NaturalGradientSummary& sum = out.summary;

  // The complement at the board's time in F's units (at least the tolerance's, when set).
  double tau = sum.coupling_scale * sum.time_us;
  if (options_.transient_tolerance && lambda > 0.0)
    tau = std::max(tau, std::log(1.0 / *options_.transient_tolerance) / lambda);
  const auto [left, gain] = complement_weights(lambda, tau);
  const Eigen::VectorXd perp = left * x0_perp + gain * g_perp;

  for (auto& w : out.repeat_estimates)
    w = basis.from_row(w) + perp;
  out.estimate = basis.from_row(out.estimate) + perp;
  Eigen::VectorXd var = Eigen::VectorXd::Zero(n);
  for (const auto& x : out.repeat_estimates)
    var += (x - out.estimate).cwiseAbs2() / static_cast<double>(out.repeat_estimates.size() - 1);
  out.standard_error = (var / static_cast<double>(out.repeat_estimates.size())).cwiseSqrt();

  // The complement's distance from the natural gradient is exact: left * |x0_perp - g_perp/l|.
  const double perp_bound =
      lambda > 0.0 ? left * (x0_perp - g_perp / lambda).cwiseAbs().maxCoeff() : 0.0;
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
  // Host work besides the board job's: H's eigensystem, U, the QR and Q, and the mappings.
  const double nd = static_cast<double>(n), rd = static_cast<double>(r);
  const double md = static_cast<double>(J.rows());
  const double extra =
      9.0 * md * md * md + 2.0 * rd * md * nd + basis.flops() + 4.0 * nd * rd * (3.0 + sum.repeats);
  const EnergyModel model;
  sum.energy.host_flops += extra;
  sum.energy.host_j += extra * model.host_per_flop;
  sum.energy.gpu_flops += extra;
  sum.energy.gpu_j += extra * model.gpu_per_flop;
  sum.wall_time_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  previous_estimate_ = out.estimate;
  previous_codes_.reset();
  common::logger("kelvin.runtime")->debug("natural gradient: {}", sum.brief_report());
  return out;
}

}  // namespace kelvin::runtime
