#include "row_space_basis.hpp"

#include <cmath>
#include <vector>

#include <fmt/format.h>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include "kelvin/common/error.hpp"

namespace kelvin::runtime::detail {

using common::Error;
using common::ErrorKind;

namespace {

constexpr double kRankTolerance = 1e-12;

// P = diag(sqrt(w_k)) B_k^T over the kept weights w_k (> 1e-12 of the largest), B's columns
// the directions (the unit vectors for a diagonal H, the eigenvectors otherwise).
Eigen::MatrixXd kept_rows(const Eigen::VectorXd& w, const Eigen::MatrixXd* directions) {
  if (w.size() == 0)
    return {};
  const double largest = w.cwiseAbs().maxCoeff();
  std::vector<Eigen::Index> kept;
  for (Eigen::Index i = 0; i < w.size(); ++i) {
    if (w(i) > kRankTolerance * largest)
      kept.push_back(i);
  }
  Eigen::MatrixXd p = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(kept.size()), w.size());
  for (std::size_t k = 0; k < kept.size(); ++k) {
    const auto row = static_cast<Eigen::Index>(k);
    if (directions)
      p.row(row) = std::sqrt(w(kept[k])) * directions->col(kept[k]).transpose();
    else
      p(row, kept[k]) = std::sqrt(w(kept[k]));
  }
  return p;
}

}  // namespace

RowFactor factor_rows(const Eigen::MatrixXd& H) {
  RowFactor f;
  // A diagonal H needs no eigensystem and mixes no rows; the identity needs no P at all.
  if (H.isDiagonal(0.0)) {
    const Eigen::VectorXd h = H.diagonal();
    if (h.size() > 0 && (h.array() == 1.0).all()) {
      f.identity = true;
      return f;
    }
    if (h.size() == 0 || h.minCoeff() >= -1e-10 * h.cwiseAbs().maxCoeff()) {
      f.p = kept_rows(h, nullptr);
      return f;
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
  f.p = kept_rows(e, &eig.eigenvectors());
  f.from_eigensystem = true;
  return f;
}

RowSpaceBasis::RowSpaceBasis(const Eigen::MatrixXd& J, const RowFactor& factor) : j_(J) {
  const double m = static_cast<double>(J.rows()), n = static_cast<double>(J.cols());
  const double r = static_cast<double>(factor.rows(J));
  // K = P (J J^T) P^T: the Gram matrix of J's rows once (lower triangle, m (m + 1) N FLOPs),
  // then the small product with P.
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(J.rows(), J.rows());
  gram.selfadjointView<Eigen::Lower>().rankUpdate(J);
  gram.triangularView<Eigen::StrictlyUpper>() = gram.transpose();
  flops_ = m * (m + 1.0) * n;
  if (!factor.identity) {
    const Eigen::MatrixXd k = factor.p * gram * factor.p.transpose();
    gram = 0.5 * (k + k.transpose());
    flops_ += 2.0 * r * m * m + 2.0 * r * r * m;
  }
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(gram);
  const Eigen::VectorXd& e = eig.eigenvalues();
  flops_ += 9.0 * r * r * r;
  if (e.size() > 0 && e.minCoeff() > 1e-10 * e.maxCoeff()) {
    const Eigen::MatrixXd& v = eig.eigenvectors();
    const Eigen::MatrixXd inverse_sqrt =
        v * e.cwiseSqrt().cwiseInverse().asDiagonal() * v.transpose();
    c_ = factor.identity ? inverse_sqrt : Eigen::MatrixXd(factor.p.transpose() * inverse_sqrt);
    f_row = std::move(gram);
    return;
  }
  // Dependent rows: U formed, and its thin QR.
  const Eigen::MatrixXd u = factor.identity ? J : Eigen::MatrixXd(factor.p * J);
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(u.transpose());
  q_ = qr.householderQ() * Eigen::MatrixXd::Identity(u.cols(), u.rows());
  const Eigen::MatrixXd rr = qr.matrixQR().topRows(u.rows()).triangularView<Eigen::Upper>();
  f_row = rr * rr.transpose();
  flops_ += 2.0 * r * m * n + 4.0 * n * r * r;
}

Eigen::MatrixXd RowSpaceBasis::to_row(const Eigen::MatrixXd& v) const {
  if (f_row.size() == 0)
    return Eigen::MatrixXd::Zero(0, v.cols());  // a zero curvature: no row space
  if (q_.size() > 0)
    return q_.transpose() * v;
  const Eigen::MatrixXd jv = j_ * v;
  return c_.transpose() * jv;
}

Eigen::MatrixXd RowSpaceBasis::from_row(const Eigen::MatrixXd& w) const {
  if (f_row.size() == 0)
    return Eigen::MatrixXd::Zero(j_.cols(), w.cols());
  if (q_.size() > 0)
    return q_ * w;
  // (C W)^T J: the small factor on the left, so J is read once in its own (column) order and
  // never repacked as the transposed operand; the k x N result is transposed back (k N copies).
  const Eigen::MatrixXd cw_t = (c_ * w).transpose();
  Eigen::MatrixXd mapped_t(w.cols(), j_.cols());
  mapped_t.noalias() = cw_t * j_;
  return mapped_t.transpose();
}

double RowSpaceBasis::mapping_flops(Eigen::Index k) const noexcept {
  const double kd = static_cast<double>(k);
  if (q_.size() > 0)
    return 2.0 * static_cast<double>(q_.size()) * kd;
  return 2.0 * static_cast<double>(j_.size()) * kd + 2.0 * static_cast<double>(c_.size()) * kd;
}

}  // namespace kelvin::runtime::detail
