#include "kelvin/sim_backend/exact_discretization.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include <unsupported/Eigen/MatrixFunctions>

namespace kelvin::sim_backend {
namespace {

// Largest absolute column sum (the matrix 1-norm).
double norm1(const Eigen::MatrixXd& m) {
  return m.size() == 0 ? 0.0 : m.cwiseAbs().colwise().sum().maxCoeff();
}

// Largest absolute row sum (the matrix infinity-norm).
double norm_inf(const Eigen::MatrixXd& m) {
  return m.size() == 0 ? 0.0 : m.cwiseAbs().rowwise().sum().maxCoeff();
}

void symmetrize(Eigen::MatrixXd& m) {
  const Eigen::MatrixXd t = m.transpose();
  m = 0.5 * (m + t);
}

}  // namespace

Discretization discretize_lti(const Eigen::MatrixXd& drift, const Eigen::MatrixXd& diffusion,
                              double h) {
  const Eigen::Index n = drift.rows();
  if (drift.cols() != n || diffusion.rows() != n || diffusion.cols() != n) {
    throw std::invalid_argument("discretize_lti: drift and diffusion must both be n x n, got " +
                                std::to_string(drift.rows()) + "x" + std::to_string(drift.cols()) +
                                " and " + std::to_string(diffusion.rows()) + "x" +
                                std::to_string(diffusion.cols()));
  }
  if (!drift.allFinite() || !diffusion.allFinite()) {
    throw std::invalid_argument("discretize_lti: drift and diffusion must be finite");
  }
  if (!std::isfinite(h) || h < 0.0) {
    throw std::invalid_argument("discretize_lti: step must be finite and >= 0, got " +
                                std::to_string(h));
  }

  // Q is linear in W: work with W / ||W|| so that only F sets the scaling.
  const double w_scale = norm1(diffusion);
  const Eigen::MatrixXd w_unit =
      w_scale > 0.0 ? Eigen::MatrixXd(diffusion / w_scale) : Eigen::MatrixXd(diffusion);

  // The block matrix below has 1-norm <= hs (||F||_1 + ||F||_inf + 1); keep it <= 1/2.
  const double growth = norm1(drift) + norm_inf(drift) + 1.0;
  int doublings = 0;
  double hs = h;
  while (hs * growth > 0.5) {
    hs *= 0.5;
    ++doublings;
  }

  //      [ -F   W    0 ]          [ *   Phi^-1 Q   *     ]
  // Z =  [  0   F^T  I ] hs,  e^Z = [ 0   Phi^T      Gamma^T ]
  //      [  0   0    0 ]          [ 0   0          I     ]
  Eigen::MatrixXd z = Eigen::MatrixXd::Zero(3 * n, 3 * n);
  z.block(0, 0, n, n) = -drift;
  z.block(0, n, n, n) = w_unit;
  z.block(n, n, n, n) = drift.transpose();
  z.block(n, 2 * n, n, n) = Eigen::MatrixXd::Identity(n, n);
  z *= hs;
  const Eigen::MatrixXd e = z.exp();

  Discretization out;
  out.phi = e.block(n, n, n, n).transpose();
  out.gamma = e.block(n, 2 * n, n, n).transpose();
  out.q = out.phi * e.block(0, n, n, n);
  symmetrize(out.q);

  for (int i = 0; i < doublings; ++i) {
    Eigen::MatrixXd q_next = out.phi * out.q * out.phi.transpose() + out.q;
    symmetrize(q_next);
    out.q = std::move(q_next);
    out.gamma = out.gamma + out.phi * out.gamma;
    out.phi = out.phi * out.phi;
  }
  out.q *= w_scale > 0.0 ? w_scale : 1.0;
  return out;
}

CovarianceFactor factor_covariance(const Eigen::MatrixXd& q) {
  if (q.rows() != q.cols()) {
    throw std::invalid_argument("factor_covariance: Q must be square, got " +
                                std::to_string(q.rows()) + "x" + std::to_string(q.cols()));
  }
  if (!q.allFinite()) {
    throw std::invalid_argument("factor_covariance: Q has non-finite entries");
  }
  Eigen::MatrixXd sym = q;
  symmetrize(sym);

  CovarianceFactor out;
  const Eigen::LLT<Eigen::MatrixXd> llt(sym);
  if (llt.info() == Eigen::Success) {
    out.l = llt.matrixL();
    if (out.l.allFinite()) {
      out.method = FactorMethod::kCholesky;
      return out;
    }
  }
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(sym);
  if (eig.info() != Eigen::Success) {
    throw std::invalid_argument("factor_covariance: eigen-decomposition of Q did not converge");
  }
  const Eigen::VectorXd root = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  out.l = eig.eigenvectors() * root.asDiagonal();
  out.method = FactorMethod::kEigen;
  return out;
}

}  // namespace kelvin::sim_backend
