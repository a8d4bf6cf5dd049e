// F + lambda I for a generalized Gauss-Newton curvature F = J^T H J that is never formed: what a
// natural gradient with N parameters far above the board's cells needs (a dense 10,000 x 10,000
// F is 800 MB; J is m x N with m outputs, often far fewer). block_solve() takes it as a linear
// operator: products (F + lambda I) p = J^T (H (J p)) + lambda p, and diagonal blocks
// J_b^T H J_b + lambda I (J_b the block's columns), which are what the board is programmed with.
// The natural gradient (F + lambda I)^-1 g then comes from block_solve(board, ggn, g): the
// t -> infinity end of TNGD (natural_gradient.hpp), reached by preconditioned CG with the blocks
// on the board rather than by one analog relaxation, so the analog-time interpolation between
// SGD and NGD does not apply to it.
//
// Thread contract: immutable after construction; its const members may run concurrently.
#pragma once

#include <Eigen/Core>

#include "kelvin/runtime/problem_compiler.hpp"  // kDefaultSymmetryTolerance

namespace kelvin::runtime {

class DampedGgn {
 public:
  // J (m x N), H (m x m, symmetric positive semidefinite), damping >= 0 (finite). H passes when
  // max|H_ij - H_ji| <= symmetry_tolerance * max|H| (the jobs' option of that name, same default
  // and range [0, 1e-4]; system_checks.hpp), and is then kept as (H + H^T) / 2. Throws
  // common::Error(kInvalidArgument) for sizes that do not fit, non-finite entries, an asymmetric
  // H (naming the asymmetry and the tolerance), a bad damping or a bad tolerance, naming the
  // defect. Keeps copies of J and H.
  DampedGgn(Eigen::MatrixXd J, Eigen::MatrixXd H, double damping,
            double symmetry_tolerance = kDefaultSymmetryTolerance);

  Eigen::Index rows() const noexcept { return j_.cols(); }
  Eigen::Index cols() const noexcept { return j_.cols(); }
  Eigen::Index outputs() const noexcept { return j_.rows(); }  // m
  double damping() const noexcept { return damping_; }

  // (F + lambda I) p.
  Eigen::VectorXd operator*(const Eigen::VectorXd& p) const;
  // Rows and columns [start, start + size) of F + lambda I, formed (size x size).
  Eigen::MatrixXd diagonal_block(Eigen::Index start, Eigen::Index size) const;
  // Host FLOPs of one product: 2 m N twice, 2 m^2 for H, N for the damping.
  double product_flops() const noexcept;

 private:
  Eigen::MatrixXd j_;
  Eigen::MatrixXd h_;
  double damping_;
};

}  // namespace kelvin::runtime
