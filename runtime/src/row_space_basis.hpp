// The row-space basis of the natural gradient's row-space path (natural_gradient.hpp has the
// derivation): F = J^T H J = U^T U with U = P J (r x N), P (r x m) the kept part of H's factor,
// and an orthonormal basis Q (N x r) of U's rows, with the products the estimator needs, Q^T V
// and Q W, computed through J without ever forming U or Q when U's rows are independent.
//
// The host's cost is dominated by the Gram matrix J J^T (m^2 N multiply-adds, half of the
// product by symmetry) and one pass over J per batch of mapped vectors: every vector that goes
// through the same Q is mapped in one matrix product, so J is read twice per estimate, not once
// per vector.
//
// Thread contract: a RowSpaceBasis is immutable after construction and holds a reference to J,
// which must outlive it; it may be read from several threads.
#pragma once

#include <Eigen/Core>

namespace kelvin::runtime::detail {

// H's factor restricted to its kept eigenvalues: U = P J. Eigenvalues of H at most 1e-12 of the
// largest are dropped (they are rounding, and each kept one costs a board cell). Throws
// common::Error(kInvalidArgument) for an H with an eigenvalue below -1e-10 of the largest (not
// positive semidefinite). H = I (kelvin.torch passes J = U and no H) keeps every row: identity.
struct RowFactor {
  bool identity = false;          // P = I (m x m): U = J
  Eigen::MatrixXd p;              // P (r x m) otherwise
  bool from_eigensystem = false;  // H was not diagonal: P came from its eigensystem

  Eigen::Index rows(const Eigen::MatrixXd& J) const { return identity ? J.rows() : p.rows(); }
};
RowFactor factor_rows(const Eigen::MatrixXd& H);

class RowSpaceBasis {
 public:
  // With the Gram matrix K = U U^T of full rank (smallest eigenvalue above 1e-10 of the
  // largest), Q = U^T K^-1/2 (Loewdin's symmetric orthonormalization) and Q^T F Q = K; else the
  // thin Householder QR of U^T (U^T = Q R, Q^T F Q = R R^T), with Q formed explicitly.
  RowSpaceBasis(const Eigen::MatrixXd& J, const RowFactor& factor);

  // Q^T V (r x k) for the k columns of V (N x k), and Q W (N x k) for W (r x k).
  Eigen::MatrixXd to_row(const Eigen::MatrixXd& v) const;
  Eigen::MatrixXd from_row(const Eigen::MatrixXd& w) const;
  // FLOPs of the construction (the Gram or QR and the small factors).
  double flops() const noexcept { return flops_; }
  // FLOPs of to_row / from_row of k vectors.
  double mapping_flops(Eigen::Index k) const noexcept;

  Eigen::MatrixXd f_row;  // Q^T F Q (r x r)

 private:
  const Eigen::MatrixXd& j_;
  // Loewdin: Q = J^T C with C = P^T K^-1/2 (m x r).
  Eigen::MatrixXd c_;
  Eigen::MatrixXd q_;  // the QR basis (dependent rows)
  double flops_ = 0.0;
};

}  // namespace kelvin::runtime::detail
