// Exact discretization of a linear time-invariant SDE over one step, by Van Loan's block matrix
// exponential (C. F. Van Loan, "Computing integrals involving the matrix exponential", IEEE TAC
// 1978). For
//     dx = (F x + u) dt + G dW,     W = G G^T,     u constant over the step,
// the state after a step of length h is exactly
//     x(t + h) = Phi x(t) + Gamma u + w,    w ~ N(0, Q),
// whatever F is (not necessarily symmetric, normal or stable) and whatever the rank of W.
//
// Thread contract: pure functions of their arguments; safe from any thread.
#pragma once

#include <Eigen/Dense>

namespace kelvin::sim_backend {

struct Discretization {
  Eigen::MatrixXd phi;    // expm(F h)
  Eigen::MatrixXd gamma;  // int_0^h expm(F s) ds
  Eigen::MatrixXd q;      // int_0^h expm(F s) W expm(F^T s) ds (symmetric, positive semidefinite)
};

// Phi, Gamma and Q for drift F (n x n), diffusion W = G G^T (n x n, symmetric) and step h >= 0.
// The step is first scaled down by 2^s until the block matrix has a norm of at most 1/2, where
// the block exponential is accurate and free of cancellation; the results are then doubled back
// with Phi(2t) = Phi(t)^2, Gamma(2t) = Gamma(t) + Phi(t) Gamma(t) and
// Q(2t) = Q(t) + Phi(t) Q(t) Phi(t)^T, which stays accurate for stiff drifts (large ||F h||).
// Entries overflow to infinity only when expm(F h) itself overflows (a violently unstable F);
// callers that must stay finite check the result. Throws std::invalid_argument on mismatched
// shapes or a negative or non-finite h.
Discretization discretize_lti(const Eigen::MatrixXd& drift, const Eigen::MatrixXd& diffusion,
                              double h);

enum class FactorMethod {
  kCholesky,  // Q was numerically positive definite: L is its lower Cholesky factor
  kEigen,     // Q was singular: L = V sqrt(max(lambda, 0)), from Q = V diag(lambda) V^T
};

struct CovarianceFactor {
  Eigen::MatrixXd l;  // L L^T = Q (up to rounding; exactly PSD-projected in the eigen branch)
  FactorMethod method = FactorMethod::kCholesky;
};

// A factor L with L L^T = Q of a symmetric positive semidefinite Q: Cholesky (LLT) when it
// succeeds, else a symmetric eigen-decomposition with negative eigenvalues clamped to 0 (so noise
// acting on some states only, or no noise at all, is handled). Throws std::invalid_argument if
// Q is not square or has non-finite entries.
CovarianceFactor factor_covariance(const Eigen::MatrixXd& q);

}  // namespace kelvin::sim_backend
