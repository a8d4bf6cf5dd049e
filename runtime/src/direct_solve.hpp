// The direct solve's pipeline on a compiled problem (solve.hpp steps 2-4): burn-in, auto-range,
// batches with randomized rounding, range retries after clipping, and the map back to the
// caller's units. solve() runs it for a system that fits the board; the block solve runs it for
// every diagonal block. Neither calls the other's public entry point.
//
// Thread contract: uses the job's board exclusively while it runs.
#pragma once

#include "board_job.hpp"
#include "kelvin/runtime/problem_compiler.hpp"
#include "kelvin/runtime/solve.hpp"

namespace kelvin::runtime::detail {

// The acquisition a direct solve uses, with the path's defaults filled in.
struct Acquisition {
  int batches = 0;
  double batch_relaxation_times = 0.0;
  bool auto_range = false;
};

// The direct path's defaults: 20 batches of 100 relaxation times, auto-ranging on.
Acquisition direct_acquisition(const SolveOptions& options);

// Solves the compiled problem on job.board(). Fills x and standard_error in the caller's units
// and every SolveSummary field except the job block (BoardJob::finish) and relative_residual.
// Throws common::Error from the board (kTimeout at the job's deadline).
SolveResult run_direct_solve(BoardJob& job, CompiledProblem problem, const SolveOptions& options,
                             const Acquisition& acquisition);

// ||b - A x|| / ||b|| (||A x|| when b = 0).
double relative_residual(const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                         const Eigen::VectorXd& x);

}  // namespace kelvin::runtime::detail
