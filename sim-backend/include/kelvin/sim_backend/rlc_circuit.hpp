// The physical model of a resonator board's cells (Melanson et al., arXiv 2312.04836): N parallel
// RLC cells to ground, coupled through capacitors, each driven by an injected current-noise
// source. State z = [i; v] (inductor currents [A], capacitor voltages [V]), 2N dimensions, time
// in seconds:
//     di = L^-1 v dt
//     dv = -C^-1 R^-1 v dt - C^-1 i dt + C^-1 diag(sqrt(2 kappa0_i)) dW
// with C the Maxwell capacitance matrix (C_ii = C_ground,i + sum_j C_c,ij, C_ij = -C_c,ij).
// The drift is not normal and the noise reaches the voltages only, so only an exact
// discretization that handles both (discretize_lti, Van Loan) simulates it exactly.
// For equal R = r and kappa0 the stationary law is v ~ N(0, kappa0 r C^-1), i ~ N(0, kappa0 r
// L^-1): the coupling capacitances are what the board "computes with".
//
// Thread contract: pure functions of their arguments; safe from any thread.
#pragma once

#include <Eigen/Dense>

#include "kelvin/sim_backend/exact_discretization.hpp"

namespace kelvin::sim_backend {

// Nominal components: RC = 1 us, as assumed in the TNGD paper (Donatella et al.,
// arXiv 2405.13817), and an inductance that makes each uncoupled cell underdamped (quality
// factor R sqrt(C/L) = 3.16, resonance 1/sqrt(LC) = 3.16e6 rad/s).
inline constexpr double kNominalResistance = 1.0e3;    // ohm
inline constexpr double kNominalCapacitance = 1.0e-9;  // F, cell to ground
inline constexpr double kNominalInductance = 1.0e-4;   // H

struct RlcComponents {
  Eigen::VectorXd resistance;       // R_i [ohm], > 0
  Eigen::VectorXd inductance;       // L_i [H], > 0
  Eigen::MatrixXd capacitance;      // Maxwell matrix [F], symmetric positive definite
  Eigen::VectorXd noise_intensity;  // kappa0_i [A^2 s], >= 0

  Eigen::Index cells() const noexcept { return resistance.size(); }
  // Throws std::invalid_argument naming the first inconsistency.
  void validate() const;
};

// dz = drift z dt + G dW, with diffusion = G G^T.
struct LinearSde {
  Eigen::MatrixXd drift;
  Eigen::MatrixXd diffusion;
};

// Maxwell capacitance matrix from capacitances to ground (N) and a symmetric matrix of coupling
// capacitances (off-diagonal entries used, each >= 0; the diagonal is ignored). Throws
// std::invalid_argument for a negative coupling or a shape mismatch.
Eigen::MatrixXd maxwell_capacitance(const Eigen::VectorXd& to_ground,
                                    const Eigen::MatrixXd& coupling);

LinearSde rlc_sde(const RlcComponents& components);

// The stationary covariance of the discretized process, Sigma = Phi Sigma Phi^T + Q, by the
// doubling iteration (Sigma <- Sigma + A Sigma A^T, A <- A^2), which converges quadratically
// when the spectral radius of Phi is below 1. Throws std::invalid_argument if it is not.
Eigen::MatrixXd stationary_covariance(const Discretization& step);

}  // namespace kelvin::sim_backend
