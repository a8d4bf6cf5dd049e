#include "kelvin/sim_backend/rlc_circuit.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

namespace kelvin::sim_backend {

void RlcComponents::validate() const {
  const Eigen::Index n = resistance.size();
  if (n == 0)
    throw std::invalid_argument("RLC model: no cells");
  if (inductance.size() != n || noise_intensity.size() != n || capacitance.rows() != n ||
      capacitance.cols() != n) {
    throw std::invalid_argument(fmt::format(
        "RLC model: sizes disagree (R {}, L {}, kappa0 {}, C {}x{})", n, inductance.size(),
        noise_intensity.size(), capacitance.rows(), capacitance.cols()));
  }
  for (Eigen::Index i = 0; i < n; ++i) {
    if (!(resistance(i) > 0.0) || !(inductance(i) > 0.0) || !(noise_intensity(i) >= 0.0) ||
        !std::isfinite(resistance(i)) || !std::isfinite(inductance(i)) ||
        !std::isfinite(noise_intensity(i))) {
      throw std::invalid_argument(fmt::format(
          "RLC model: cell {} has R = {}, L = {}, kappa0 = {} (need R, L > 0, kappa0 >= 0)", i,
          resistance(i), inductance(i), noise_intensity(i)));
    }
  }
  if (!capacitance.allFinite() || (capacitance - capacitance.transpose()).cwiseAbs().maxCoeff() >
                                      1e-12 * capacitance.cwiseAbs().maxCoeff()) {
    throw std::invalid_argument("RLC model: the capacitance matrix is not finite and symmetric");
  }
  if (Eigen::LLT<Eigen::MatrixXd>(capacitance).info() != Eigen::Success) {
    throw std::invalid_argument("RLC model: the capacitance matrix is not positive definite");
  }
}

Eigen::MatrixXd maxwell_capacitance(const Eigen::VectorXd& to_ground,
                                    const Eigen::MatrixXd& coupling) {
  const Eigen::Index n = to_ground.size();
  if (coupling.rows() != n || coupling.cols() != n) {
    throw std::invalid_argument(
        fmt::format("coupling matrix is {}x{} for {} cells", coupling.rows(), coupling.cols(), n));
  }
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    c(i, i) = to_ground(i);
    for (Eigen::Index j = 0; j < n; ++j) {
      if (i == j)
        continue;
      if (coupling(i, j) < 0.0) {
        throw std::invalid_argument(
            fmt::format("coupling capacitance ({}, {}) is {} F: a capacitor cannot be negative", i,
                        j, coupling(i, j)));
      }
      c(i, i) += coupling(i, j);
      c(i, j) = -coupling(i, j);
    }
  }
  return c;
}

LinearSde rlc_sde(const RlcComponents& components) {
  components.validate();
  const Eigen::Index n = components.cells();
  const Eigen::MatrixXd c_inv = components.capacitance.inverse();
  LinearSde sde;
  sde.drift = Eigen::MatrixXd::Zero(2 * n, 2 * n);
  // di/dt = L^-1 v
  sde.drift.topRightCorner(n, n) = components.inductance.cwiseInverse().asDiagonal();
  // dv/dt = -C^-1 i - C^-1 R^-1 v
  sde.drift.bottomLeftCorner(n, n) = -c_inv;
  sde.drift.bottomRightCorner(n, n) = -c_inv * components.resistance.cwiseInverse().asDiagonal();
  // Noise enters the voltage equations only: G = [0; C^-1 diag(sqrt(2 kappa0))].
  const Eigen::MatrixXd g = c_inv * (2.0 * components.noise_intensity).cwiseSqrt().asDiagonal();
  sde.diffusion = Eigen::MatrixXd::Zero(2 * n, 2 * n);
  sde.diffusion.bottomRightCorner(n, n) = g * g.transpose();
  return sde;
}

Eigen::MatrixXd stationary_covariance(const Discretization& step) {
  const Eigen::EigenSolver<Eigen::MatrixXd> eig(step.phi, /*computeEigenvectors=*/false);
  const double radius = eig.eigenvalues().cwiseAbs().maxCoeff();
  if (!(radius < 1.0)) {
    throw std::invalid_argument(
        fmt::format("no stationary law: the step's spectral radius is {}", radius));
  }
  Eigen::MatrixXd sigma = step.q;
  Eigen::MatrixXd a = step.phi;
  // After k rounds sigma sums Phi^m Q Phi^mT for m < 2^k; stop when the next term is negligible.
  for (int round = 0; round < 64; ++round) {
    const Eigen::MatrixXd term = a * sigma * a.transpose();
    sigma += term;
    a = a * a;
    if (term.cwiseAbs().maxCoeff() <= 1e-17 * sigma.cwiseAbs().maxCoeff())
      break;
  }
  return 0.5 * (sigma + sigma.transpose());
}

}  // namespace kelvin::sim_backend
