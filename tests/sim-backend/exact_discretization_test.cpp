#include "kelvin/sim_backend/exact_discretization.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <Eigen/Dense>
#include <unsupported/Eigen/MatrixFunctions>

namespace kelvin::sim_backend {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// A deterministic orthogonal matrix (Q of a fixed, well-conditioned matrix).
MatrixXd fixed_orthogonal(Eigen::Index n) {
  MatrixXd m(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < n; ++j) {
      m(i, j) = std::sin(static_cast<double>(7 * i + 3 * j + 1)) + (i == j ? 2.0 : 0.0);
    }
  }
  return Eigen::HouseholderQR<MatrixXd>(m).householderQ();
}

MatrixXd spd_with_spectrum(const std::vector<double>& eigenvalues) {
  const auto n = static_cast<Eigen::Index>(eigenvalues.size());
  const MatrixXd v = fixed_orthogonal(n);
  const VectorXd lambda = Eigen::Map<const VectorXd>(eigenvalues.data(), n);
  return v * lambda.asDiagonal() * v.transpose();
}

double max_abs(const MatrixXd& m) {
  return m.cwiseAbs().maxCoeff();
}

// Max-norm error of `got` relative to the max-norm of `want`.
double relative_error(const MatrixXd& got, const MatrixXd& want) {
  return max_abs(got - want) / max_abs(want);
}

// Closed forms for the symmetric OU process dx = -(A x - b) dt + sqrt(2 D) dW, evaluated in A's
// eigenbasis (independent of the block exponential under test):
//   Phi = expm(-A h),  Q = D A^-1 (I - expm(-2 A h)),  Gamma b = A^-1 (I - Phi) b.
void expect_matches_closed_forms(const std::vector<double>& spectrum, double h, double d,
                                 double tolerance) {
  const MatrixXd a = spd_with_spectrum(spectrum);
  const auto n = a.rows();
  const Eigen::SelfAdjointEigenSolver<MatrixXd> eig(a);
  const MatrixXd& v = eig.eigenvectors();
  const VectorXd& lambda = eig.eigenvalues();
  VectorXd phi_diag(n), q_diag(n), gamma_diag(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    phi_diag(i) = std::exp(-lambda(i) * h);
    q_diag(i) = d / lambda(i) * -std::expm1(-2.0 * lambda(i) * h);
    gamma_diag(i) = -std::expm1(-lambda(i) * h) / lambda(i);
  }
  const MatrixXd phi_want = v * phi_diag.asDiagonal() * v.transpose();
  const MatrixXd q_want = v * q_diag.asDiagonal() * v.transpose();
  VectorXd b(n);
  for (Eigen::Index i = 0; i < n; ++i)
    b(i) = 0.3 - 0.17 * static_cast<double>(i);
  const VectorXd gamma_b_want = v * gamma_diag.asDiagonal() * v.transpose() * b;

  const Discretization got = discretize_lti(-a, 2.0 * d * MatrixXd::Identity(n, n), h);
  EXPECT_LE(relative_error(got.phi, phi_want), tolerance);
  EXPECT_LE(relative_error(got.q, q_want), tolerance);
  EXPECT_LE(relative_error(got.gamma * b, gamma_b_want), tolerance);
  // Gamma b = A^-1 (I - Phi) b, the form the board spec states.
  const VectorXd gamma_b_formula = a.llt().solve((MatrixXd::Identity(n, n) - phi_want) * b);
  EXPECT_LE(relative_error(got.gamma * b, gamma_b_formula), tolerance);
}

TEST(ExactDiscretization, MatchesClosedFormsForASymmetricPositiveDefiniteDrift) {
  expect_matches_closed_forms({0.3, 0.7, 1.1, 2.0, 3.5}, 1.0, 0.7, 1e-12);
}

TEST(ExactDiscretization, StaysAccurateForAStiffDrift) {
  // ||A h|| = 400: a plain block exponential would cancel catastrophically here.
  expect_matches_closed_forms({0.05, 1.0, 30.0, 150.0, 400.0}, 1.0, 0.02, 1e-12);
}

TEST(ExactDiscretization, ZeroStepIsTheIdentity) {
  const MatrixXd a = spd_with_spectrum({0.5, 1.5});
  const Discretization got = discretize_lti(-a, MatrixXd::Identity(2, 2), 0.0);
  EXPECT_EQ(got.phi, MatrixXd::Identity(2, 2));
  EXPECT_EQ(got.gamma, MatrixXd::Zero(2, 2));
  EXPECT_EQ(got.q, MatrixXd::Zero(2, 2));
}

// Composite Simpson rule for int_0^h f(s) ds with `intervals` (even) panels.
template <typename F>
MatrixXd simpson(F f, double h, int intervals) {
  const double step = h / intervals;
  MatrixXd sum = f(0.0) + f(h);
  for (int k = 1; k < intervals; ++k)
    sum += (k % 2 == 1 ? 4.0 : 2.0) * f(k * step);
  return sum * (step / 3.0);
}

TEST(ExactDiscretization, MatchesQuadratureForNonNormalDriftWithNoiseOnOneState) {
  // An underdamped oscillator in position/velocity form: F is non-normal (F F^T != F^T F) and
  // the noise drives the velocity only, as in the RLC model of the next board generation.
  MatrixXd f(2, 2);
  f << 0.0, 1.0, -2.0, -0.5;
  ASSERT_GT(max_abs(f * f.transpose() - f.transpose() * f), 0.1);
  MatrixXd w = MatrixXd::Zero(2, 2);
  w(1, 1) = 0.8;
  const double h = 1.0;

  const Discretization got = discretize_lti(f, w, h);

  const auto e = [&](double s) -> MatrixXd { return MatrixXd(f * s).exp(); };
  const MatrixXd phi_want = e(h);
  const MatrixXd gamma_want = simpson(e, h, 2000);
  const MatrixXd q_want =
      simpson([&](double s) -> MatrixXd { return e(s) * w * e(s).transpose(); }, h, 2000);
  // Simpson's error with 2000 panels is ~1e-15 here; the bound leaves room for rounding.
  EXPECT_LE(relative_error(got.phi, phi_want), 1e-12);
  EXPECT_LE(relative_error(got.gamma, gamma_want), 1e-11);
  EXPECT_LE(relative_error(got.q, q_want), 1e-11);
  EXPECT_LE(max_abs(got.q - got.q.transpose()), 0.0);

  // Noise on one state still reaches both through the coupling: Q is positive definite.
  const CovarianceFactor factor = factor_covariance(got.q);
  EXPECT_EQ(factor.method, FactorMethod::kCholesky);
  EXPECT_LE(relative_error(factor.l * factor.l.transpose(), got.q), 1e-14);
}

TEST(ExactDiscretization, FactorsASingularCovarianceThroughTheEigenFallback) {
  // Decoupled states, noise on the second only: Q = diag(0, q) is singular.
  MatrixXd f = MatrixXd::Zero(2, 2);
  f(0, 0) = -1.0;
  f(1, 1) = -2.0;
  MatrixXd w = MatrixXd::Zero(2, 2);
  w(1, 1) = 1.0;
  const Discretization got = discretize_lti(f, w, 1.0);
  EXPECT_EQ(got.q(0, 0), 0.0);
  EXPECT_NEAR(got.q(1, 1), -std::expm1(-4.0) / 4.0, 1e-15);

  const CovarianceFactor factor = factor_covariance(got.q);
  EXPECT_EQ(factor.method, FactorMethod::kEigen);
  ASSERT_TRUE(factor.l.allFinite());
  EXPECT_LE(max_abs(factor.l * factor.l.transpose() - got.q), 1e-16);
}

TEST(ExactDiscretization, FactorsRankDeficientAndZeroCovariances) {
  VectorXd v(3);
  v << 1.0, -2.0, 0.5;
  const MatrixXd rank_one = v * v.transpose();
  const CovarianceFactor f1 = factor_covariance(rank_one);
  ASSERT_TRUE(f1.l.allFinite());
  EXPECT_LE(relative_error(f1.l * f1.l.transpose(), rank_one), 1e-14);

  const CovarianceFactor f0 = factor_covariance(MatrixXd::Zero(3, 3));
  EXPECT_EQ(f0.method, FactorMethod::kEigen);
  EXPECT_EQ(f0.l, MatrixXd::Zero(3, 3));
}

TEST(ExactDiscretization, RejectsMismatchedShapesAndBadSteps) {
  EXPECT_THROW(discretize_lti(MatrixXd::Zero(2, 2), MatrixXd::Zero(3, 3), 1.0),
               std::invalid_argument);
  EXPECT_THROW(discretize_lti(MatrixXd::Zero(2, 2), MatrixXd::Zero(2, 2), -1.0),
               std::invalid_argument);
  EXPECT_THROW(discretize_lti(MatrixXd::Zero(2, 2), MatrixXd::Zero(2, 2), NAN),
               std::invalid_argument);
  EXPECT_THROW(factor_covariance(MatrixXd::Zero(2, 3)), std::invalid_argument);
}

}  // namespace
}  // namespace kelvin::sim_backend
