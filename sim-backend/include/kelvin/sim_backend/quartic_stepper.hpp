// Fixed-step integrator for overdamped Langevin cells with a quartic onsite term, for the emulated
// resonator board. Linear (Ornstein-Uhlenbeck) boards only ever sample Gaussians; generative use
// needs non-Gaussian wells, as in Whitelam, PRL 136, 037101 (2026): overdamped Langevin units in
// quartic potentials V = sum_i (J2_i x_i^2 + J4_i x_i^4 + b_i x_i) + sum_{i<j} J_ij x_i x_j.
//
// Dynamics (x in volts, t in microseconds):
//     dx = (F x + u - k o x^3) dt + sqrt(2D) G dW
// F: n x n drift matrix (general; -A on a board), u: constant input (V/us), k_i >= 0: per-cell
// cubic coefficients (1/(V^2 us); k = 4 J4 for a potential term J4 x^4), G: n x n noise shape
// (diffusion 2D G G^T), D >= 0 (V^2/us), "o" the element-wise product.
//
// Scheme (part of the board spec). One sample period h is split into m equal substeps
// tau = h / m (the board uses m = 16). Each substep s = 0..m-1 is a Strang splitting:
//  1. half cubic flow, exact per cell: x_i <- x_i / sqrt(1 + 2 k_i x_i^2 (tau/2)), the exact
//     solution of dx/dt = -k x^3 over tau/2 (unconditionally stable). Evaluated as
//     x_i / std::sqrt(1.0 + c_i * (x_i * x_i)) with c_i = k_i * tau (= 2 k_i (tau/2) exactly).
//  2. exact linear OU substep over tau: x <- Phi x + Gamma u + sqrt(2D) L xi, with Phi, Gamma and
//     Q_unit from discretize_lti(F, G G^T, tau), L from factor_covariance(Q_unit) (L L^T =
//     Q_unit), and xi = GaussianStream::fill(sample_index, s, .), the standard normals of all
//     cells for (sample index, substep). Row i is evaluated as
//         ((sum_j Phi_ij x_j) + (Gamma u)_i) + (sum_j (sqrt(2D) L)_ij xi_j),
//     each sum a scalar loop from column 0 upwards starting at 0.0; Gamma u and sqrt(2D) L are
//     precomputed with the same scalar loops (sqrt(2D) L element by element). When D == 0 the
//     noise term is skipped entirely (fill is not called).
//  3. half cubic flow again (as in 1).
//  4. clamp every component to [-rail, +rail].
// The library is compiled with -ffp-contract=off, so for given Phi, Gamma and L the output is
// bit-identical across builds. The noise of a period depends only on (seed, sample index), so a
// chain does not depend on how it is split into advance() calls.
//
// Thread contract: the constructor and setters must not run concurrently with other uses of the
// same object; const members (including advance()) are safe from any number of threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Dense>

#include "kelvin/sim_backend/gaussian_stream.hpp"

namespace kelvin::sim_backend {

class QuarticStepper {
 public:
  // drift F (n x n), noise_shape G (n x n), cubic k (n values, finite and >= 0), period h (us,
  // finite and > 0) and m substeps (>= 1). Input u and diffusion D start at 0. Throws
  // std::invalid_argument for n == 0, mismatched shapes, non-finite F or G, a negative or
  // non-finite k, period <= 0 or non-finite, or m == 0.
  QuarticStepper(const Eigen::MatrixXd& drift, const Eigen::MatrixXd& noise_shape,
                 const Eigen::VectorXd& cubic, double period_us, std::uint32_t substeps);

  // u (V/us, n finite values); default 0. Throws std::invalid_argument otherwise.
  void set_input(const Eigen::VectorXd& u);
  // D (V^2/us), finite and >= 0; default 0 (no noise). Throws std::invalid_argument otherwise.
  void set_diffusion(double d);

  std::size_t cells() const noexcept { return n_; }
  std::uint32_t substeps() const noexcept { return substeps_; }
  double period_us() const noexcept { return period_us_; }
  double diffusion() const noexcept { return diffusion_; }

  // Advances x (n values, volts) by one period h, with the noise of global sample
  // `sample_index`, clamping to [-rail, +rail] (rail >= 0; +infinity disables the clamp) after
  // every substep. Throws std::invalid_argument if x.size() != n or rail is negative or NaN.
  // x should be finite (a non-finite value is not caught and propagates). Allocates a scratch
  // buffer of 2 n doubles per call.
  void advance(std::span<double> x, std::uint64_t sample_index, const GaussianStream& noise,
               double rail) const;

 private:
  std::size_t n_;
  std::uint32_t substeps_;
  double period_us_;
  double diffusion_ = 0.0;
  std::vector<double> cubic_tau_;    // c_i = k_i tau
  std::vector<double> phi_;          // expm(F tau), row-major
  std::vector<double> gamma_;        // int_0^tau expm(F s) ds, row-major
  std::vector<double> unit_factor_;  // L, L L^T = Q_unit (2D = 1), row-major
  std::vector<double> offset_;       // Gamma u
  std::vector<double> factor_;       // sqrt(2D) L, row-major (empty when D == 0)
};

}  // namespace kelvin::sim_backend
