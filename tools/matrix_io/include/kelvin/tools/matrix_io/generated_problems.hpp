// Built-in linear systems for scaling runs and tests, generated instead of read from files:
// a sparse SPD 2-D Laplacian plus a shift and a fixed right-hand side.
//
// Thread contract: free functions without shared state; concurrent calls are safe.
#pragma once

#include <Eigen/Core>
#include <Eigen/SparseCore>

namespace kelvin::tools::matrix_io {

// The 5-point Laplacian of n unknowns on a grid w = ceil(sqrt(n)) wide, filled row by row (the
// last row may be short), plus `shift` on the diagonal: 4 + shift on the diagonal, -1 between
// grid neighbours (left-right within a grid row, up-down between rows). Symmetric, strictly
// diagonally dominant for shift > 0, so SPD, with a condition number below (8 + shift) / shift.
// Consecutive unknowns lie along a grid row, so a block of w unknowns is one grid row.
// Throws std::invalid_argument for n < 1 or a shift that is not finite and > 0.
Eigen::SparseMatrix<double> laplacian_2d(Eigen::Index n, double shift);
// The fixed right-hand side that goes with it: b_i = 1 + sin(i) / 2.
Eigen::VectorXd laplacian_rhs(Eigen::Index n);

}  // namespace kelvin::tools::matrix_io
