// The block solve's engine (block_solve.hpp): flexible PCG with block-Jacobi blocks solved on
// the board by the direct pipeline (direct_solve.hpp) or digitally. block_solve() and solve()
// (for n above the board's cells) both run it.
//
// Thread contract: uses the board exclusively while it runs.
#pragma once

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include "kelvin/runtime/block_solve.hpp"

namespace kelvin::runtime::detail {

BlockSolveResult run_block_solve(driver::ResonatorBoard* board, const Eigen::MatrixXd& A,
                                 const Eigen::VectorXd& b, const BlockSolveOptions& options);
BlockSolveResult run_block_solve(driver::ResonatorBoard* board,
                                 const Eigen::SparseMatrix<double>& A, const Eigen::VectorXd& b,
                                 const BlockSolveOptions& options);
BlockSolveResult run_block_solve(driver::ResonatorBoard* board, const DampedGgn& A,
                                 const Eigen::VectorXd& b, const BlockSolveOptions& options);

}  // namespace kelvin::runtime::detail
