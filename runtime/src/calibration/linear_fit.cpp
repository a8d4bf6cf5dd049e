#include "linear_fit.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

#include <Eigen/Eigenvalues>
#include <unsupported/Eigen/MatrixFunctions>

namespace kelvin::runtime::calibration::detail {
namespace {

// Above this size the delta method's N^2 logarithms (N^5 work) give way to a first-order bound.
constexpr Eigen::Index kMaxDeltaMethodCells = 24;

Eigen::MatrixXd real_log(const Eigen::MatrixXd& m) {
  const Eigen::EigenSolver<Eigen::MatrixXd> eig(m, false);
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    const auto e = eig.eigenvalues()(i);
    if (std::abs(e.imag()) < 1e-12 && e.real() <= 0.0)
      throw std::runtime_error("the fitted step has a non-positive eigenvalue: no real drift");
  }
  return m.log();
}

}  // namespace

LinearStepFit::LinearStepFit(Eigen::Index n)
    : n_(n),
      zz_(Eigen::MatrixXd::Zero(n + 1, n + 1)),
      zy_(Eigen::MatrixXd::Zero(n + 1, n)),
      yy_(Eigen::MatrixXd::Zero(n, n)),
      previous_(n) {}

void LinearStepFit::add(std::span<const double> x) {
  const Eigen::Map<const Eigen::VectorXd> y(x.data(), n_);
  if (has_previous_) {
    Eigen::VectorXd z(n_ + 1);
    z.head(n_) = previous_;
    z(n_) = 1.0;
    zz_.selfadjointView<Eigen::Lower>().rankUpdate(z);
    zy_.noalias() += z * y.transpose();
    yy_.selfadjointView<Eigen::Lower>().rankUpdate(y);
    ++pairs_;
  }
  previous_ = y;
  has_previous_ = true;
}

StepEstimate LinearStepFit::estimate() const {
  if (pairs_ < static_cast<std::uint64_t>(n_ + 2))
    throw std::runtime_error("too few samples for the step fit");
  const Eigen::MatrixXd zz = zz_.selfadjointView<Eigen::Lower>();
  const Eigen::MatrixXd yy = yy_.selfadjointView<Eigen::Lower>();
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(zz);
  const Eigen::MatrixXd b = ldlt.solve(zy_);  // (n + 1) x n: [M^T; c^T]
  const Eigen::MatrixXd zz_inv = ldlt.solve(Eigen::MatrixXd::Identity(n_ + 1, n_ + 1));
  StepEstimate out;
  out.m = b.topRows(n_).transpose();
  out.c = b.row(n_).transpose();
  out.pairs = pairs_;
  // Residual sum of squares: Y^T Y - B^T Z^T Z B.
  const double dof = static_cast<double>(pairs_) - static_cast<double>(n_ + 1);
  out.noise = (yy - b.transpose() * zz * b) / dof;
  out.regressor_inverse = zz_inv.topLeftCorner(n_, n_);
  out.m_stderr.resize(n_, n_);
  for (Eigen::Index i = 0; i < n_; ++i)
    for (Eigen::Index j = 0; j < n_; ++j)
      out.m_stderr(i, j) = std::sqrt(std::max(0.0, out.noise(i, i) * out.regressor_inverse(j, j)));
  return out;
}

DriftEstimate drift_of(const StepEstimate& step, double h) {
  const Eigen::MatrixXd& m = step.m;
  const Eigen::Index n = m.rows();
  DriftEstimate out;
  out.f = real_log(m) / h;
  out.f_stderr.resize(n, n);
  if (n > kMaxDeltaMethodCells) {
    // First order in the scalar case: d log(m) = dm / m.
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < n; ++j)
        out.f_stderr(i, j) = step.m_stderr(i, j) / (h * std::sqrt(std::abs(m(i, i) * m(j, j))));
    return out;
  }
  // Jacobian of vec(F) in vec(M) by central differences; then, with Cov(M_kl, M_k'l') =
  // Sigma_e(k, k') P(l, l'), Var(F_ij) = trace(Sigma_e G P G^T), G(k, l) = dF_ij / dM_kl.
  const double eps = 1e-6;
  std::vector<Eigen::MatrixXd> d(static_cast<std::size_t>(n * n));
  for (Eigen::Index k = 0; k < n; ++k) {
    for (Eigen::Index l = 0; l < n; ++l) {
      Eigen::MatrixXd up = m, down = m;
      up(k, l) += eps;
      down(k, l) -= eps;
      const Eigen::MatrixXd log_up = up.log();
      const Eigen::MatrixXd log_down = down.log();
      d[static_cast<std::size_t>(k * n + l)] = (log_up - log_down) / (2.0 * eps * h);
    }
  }
  const Eigen::MatrixXd& p = step.regressor_inverse;
  Eigen::MatrixXd g(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < n; ++j) {
      for (Eigen::Index k = 0; k < n; ++k)
        for (Eigen::Index l = 0; l < n; ++l)
          g(k, l) = d[static_cast<std::size_t>(k * n + l)](i, j);
      const double var = (step.noise * g * p * g.transpose()).trace();
      out.f_stderr(i, j) = std::sqrt(std::max(0.0, var));
    }
  }
  return out;
}

}  // namespace kelvin::runtime::calibration::detail
