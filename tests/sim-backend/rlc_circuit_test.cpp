#include "kelvin/sim_backend/rlc_circuit.hpp"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "kelvin/sim_backend/board_imperfections.hpp"

namespace kelvin::sim_backend {
namespace {

constexpr double kStep = 1e-6;  // one ADC sample period [s]

// Three cells with unequal ground capacitances and two coupling capacitors.
RlcComponents three_cells(double kappa0) {
  RlcComponents c;
  c.resistance = Eigen::VectorXd::Constant(3, kNominalResistance);
  c.inductance = Eigen::Vector3d(1.0e-4, 0.8e-4, 1.3e-4);
  Eigen::MatrixXd coupling = Eigen::MatrixXd::Zero(3, 3);
  coupling(0, 1) = coupling(1, 0) = 0.3e-9;
  coupling(1, 2) = coupling(2, 1) = 0.15e-9;
  c.capacitance = maxwell_capacitance(Eigen::Vector3d(1.0e-9, 0.9e-9, 1.2e-9), coupling);
  c.noise_intensity = Eigen::VectorXd::Constant(3, kappa0);
  return c;
}

TEST(RlcCircuit, MaxwellMatrixHasRowSumsEqualToGroundCapacitance) {
  Eigen::MatrixXd coupling = Eigen::MatrixXd::Zero(2, 2);
  coupling(0, 1) = coupling(1, 0) = 0.5e-9;
  const auto c = maxwell_capacitance(Eigen::Vector2d(1e-9, 2e-9), coupling);
  EXPECT_DOUBLE_EQ(c(0, 0), 1.5e-9);
  EXPECT_DOUBLE_EQ(c(0, 1), -0.5e-9);
  EXPECT_NEAR(c.row(1).sum(), 2e-9, 1e-24);
  coupling(0, 1) = -1e-12;
  EXPECT_THROW(maxwell_capacitance(Eigen::Vector2d(1e-9, 2e-9), coupling), std::invalid_argument);
}

TEST(RlcCircuit, StationaryVoltageCovarianceIsKappaRTimesInverseCapacitance) {
  // Equal R and kappa0: v ~ N(0, kappa0 r C^-1) and i ~ N(0, kappa0 r L^-1), uncorrelated. The
  // discretization and the discrete Lyapunov sum are exact, so the agreement is to rounding.
  const double kappa0 = 4e-14;  // sigma_v ~ 0.2 V
  const auto comps = three_cells(kappa0);
  const auto sde = rlc_sde(comps);
  const auto sigma = stationary_covariance(discretize_lti(sde.drift, sde.diffusion, kStep));
  const Eigen::MatrixXd expected_v = kappa0 * kNominalResistance * comps.capacitance.inverse();
  const Eigen::MatrixXd expected_i =
      kappa0 * kNominalResistance * comps.inductance.cwiseInverse().asDiagonal().toDenseMatrix();
  EXPECT_LT((sigma.bottomRightCorner(3, 3) - expected_v).norm(), 1e-9 * expected_v.norm());
  EXPECT_LT((sigma.topLeftCorner(3, 3) - expected_i).norm(), 1e-9 * expected_i.norm());
  EXPECT_LT(sigma.topRightCorner(3, 3).norm(),
            1e-9 * std::sqrt(expected_i.norm() * expected_v.norm()));
}

TEST(RlcCircuit, ResistorMismatchBreaksTheBoltzmannForm) {
  // Per-cell kappa0_i r_i differ: the voltage covariance is no longer proportional to C^-1, by an
  // amount of the order of the mismatch (so calibration must measure each cell's temperature).
  const double kappa0 = 4e-14;
  auto comps = three_cells(kappa0);
  const auto flaws = draw_imperfections("SIM-RES-3-1", 3, ImperfectionModel{});
  comps.resistance = comps.resistance.cwiseProduct(flaws.resistance_scale);
  const auto sde = rlc_sde(comps);
  const Eigen::MatrixXd v = stationary_covariance(discretize_lti(sde.drift, sde.diffusion, kStep))
                                .bottomRightCorner(3, 3);
  const Eigen::MatrixXd c_inv = comps.capacitance.inverse();
  // Best single temperature: least-squares fit of v ~ t C^-1.
  const double t = (v.cwiseProduct(c_inv)).sum() / c_inv.squaredNorm();
  const double deviation = (v - t * c_inv).norm() / v.norm();
  EXPECT_GT(deviation, 1e-4);
  EXPECT_LT(deviation, 0.05);
}

TEST(RlcCircuit, ExactStepAgreesWithFineStepEulerMaruyama) {
  // From a fixed z0, M independent Euler-Maruyama paths with 1000 substeps over one sample
  // period. Their mean must match Phi z0 and their covariance Q, within 5 standard errors of the
  // estimators: SE(mean_i) = sqrt(Q_ii / M), SE(S_ij) = sqrt((Q_ii Q_jj + Q_ij^2) / M).
  // 4 means + 10 covariances are compared. Euler-Maruyama's own bias is O(||F|| dt) ~ 3e-6
  // relative here, far below these tolerances.
  constexpr int kPaths = 10000;
  constexpr int kSubsteps = 1000;
  RlcComponents comps;
  comps.resistance = Eigen::Vector2d(1.0e3, 1.1e3);
  comps.inductance = Eigen::Vector2d(1.0e-4, 0.7e-4);
  Eigen::MatrixXd coupling = Eigen::MatrixXd::Zero(2, 2);
  coupling(0, 1) = coupling(1, 0) = 0.4e-9;
  comps.capacitance = maxwell_capacitance(Eigen::Vector2d(1.0e-9, 0.8e-9), coupling);
  comps.noise_intensity = Eigen::Vector2d(4e-14, 6e-14);
  const auto sde = rlc_sde(comps);
  const auto exact = discretize_lti(sde.drift, sde.diffusion, kStep);
  Eigen::Vector4d z0(5e-4, -3e-4, 0.3, -0.2);

  const double dt = kStep / kSubsteps;
  const Eigen::Matrix4d step = Eigen::Matrix4d::Identity() + sde.drift * dt;
  const Eigen::Matrix2d w = sde.diffusion.bottomRightCorner(2, 2);
  Eigen::LLT<Eigen::Matrix2d> llt(w);
  const Eigen::Matrix2d g = llt.matrixL();
  std::mt19937_64 rng(12345);
  std::normal_distribution<double> normal;
  Eigen::Vector4d sum = Eigen::Vector4d::Zero();
  Eigen::Matrix4d sum_sq = Eigen::Matrix4d::Zero();
  for (int p = 0; p < kPaths; ++p) {
    Eigen::Vector4d z = z0;
    for (int k = 0; k < kSubsteps; ++k) {
      const Eigen::Vector2d xi(normal(rng), normal(rng));
      z = step * z;
      z.tail<2>() += std::sqrt(dt) * (g * xi);
    }
    sum += z;
    sum_sq += z * z.transpose();
  }
  const Eigen::Vector4d mean = sum / kPaths;
  const Eigen::Matrix4d cov = sum_sq / kPaths - mean * mean.transpose();
  const Eigen::Vector4d expected_mean = exact.phi * z0;
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(mean(i), expected_mean(i), 5.0 * std::sqrt(exact.q(i, i) / kPaths)) << "mean " << i;
    for (int j = i; j < 4; ++j) {
      const double se =
          std::sqrt((exact.q(i, i) * exact.q(j, j) + exact.q(i, j) * exact.q(i, j)) / kPaths);
      EXPECT_NEAR(cov(i, j), exact.q(i, j), 5.0 * se) << "covariance " << i << "," << j;
    }
  }
}

}  // namespace
}  // namespace kelvin::sim_backend
