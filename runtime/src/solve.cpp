#include "kelvin/runtime/solve.hpp"

#include <cmath>

#include <fmt/format.h>

#include "block_engine.hpp"
#include "board_job.hpp"
#include "direct_solve.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/block_solve.hpp"
#include "option_checks.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

void SolveOptions::validate() const {
  const detail::OptionChecks check("SolveOptions");
  if (batches)
    check.in_range("batches", *batches, 4, 100000);
  if (batch_relaxation_times)
    check.at_least("batch_relaxation_times", *batch_relaxation_times, 1.0);
  check.at_least("burn_in_relaxation_times", burn_in_relaxation_times, 0.0);
  check.at_least("pilot_relaxation_times", pilot_relaxation_times, 1.0);
  if (!(mean_fraction > 0.0 && mean_fraction < 1.0))
    check.fail(fmt::format("mean_fraction = {} (allowed (0, 1))", mean_fraction));
  check.positive("noise_sigmas", noise_sigmas);
  detail::check_symmetry_tolerance(check, symmetry_tolerance);
  check.in_range("auto_range_rounds", auto_range_rounds, 1, 10);
  check.in_range("max_range_retries", max_range_retries, 0, 100);
  detail::check_iteration(check, tolerance, max_iterations);
  check.timeout(timeout);
  calibration.validate();
}

namespace {

// The block path's options, from the solve's: the outer iteration's own, and every
// acquisition option for the blocks (unset ones take the blocks' short defaults).
BlockSolveOptions block_options(const SolveOptions& options) {
  BlockSolveOptions block;
  block.tolerance = options.tolerance;
  block.max_iterations = options.max_iterations;
  block.block_size = options.block_size;
  block.block = options;
  block.timeout = options.timeout;
  return block;
}

// The block solve's result as the solve's: its summary's job block and figures.
template <typename Matrix>
SolveResult solve_in_blocks(driver::ResonatorBoard& board, const Matrix& A,
                            const Eigen::VectorXd& b, const SolveOptions& options) {
  BlockSolveResult r = detail::run_block_solve(&board, A, b, block_options(options));
  SolveResult out;
  out.x = std::move(r.x);
  out.standard_error = std::move(r.error_estimate);
  SolveSummary& s = out.summary;
  static_cast<JobSummary&>(s) = r.summary;
  s.method = "block";
  s.stderr_method = kBlockErrorEstimate;
  s.unknowns = r.summary.unknowns;
  s.relative_residual = r.summary.relative_residual;
  s.batches = r.summary.block_batches;
  s.batch_relaxation_times = r.summary.block_batch_relaxation_times;
  s.auto_range = r.summary.block_auto_range;
  s.randomized_rounding = options.randomized_rounding;
  s.preconditioning_given = to_string(options.preconditioning);
  s.mean_fraction_given = options.mean_fraction;
  s.block = std::move(r.summary);
  return out;
}

}  // namespace

SolveResult solve(driver::ResonatorBoard& board, const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                  const SolveOptions& options) {
  options.validate();
  if (A.rows() > static_cast<Eigen::Index>(board.cells()))
    return solve_in_blocks(board, A, b, options);
  detail::BoardJob job(board, options.timeout);
  job.apply_calibration(options.calibration);
  ProblemOptions compile;
  compile.targets = {options.mean_fraction, options.noise_sigmas};
  compile.preconditioning = options.preconditioning;
  compile.symmetry_tolerance = options.symmetry_tolerance;
  CompiledProblem problem = compile_problem(A, b, board.description(), compile);
  const Eigen::Index n = problem.board_unknowns();
  const detail::Acquisition acquisition = detail::direct_acquisition(options);
  SolveResult out = detail::run_direct_solve(job, std::move(problem), options, acquisition);
  out.summary.relative_residual = detail::relative_residual(A, b, out.x);
  const double nd = static_cast<double>(n);
  job.finish(out.summary, flops::dense_job_host(nd, acquisition.batches),
             flops::cholesky_solve(nd));
  common::logger("kelvin.runtime")->info("solve: {}", out.summary.brief_report());
  return out;
}

SolveResult solve(driver::ResonatorBoard& board, const Eigen::SparseMatrix<double>& A,
                  const Eigen::VectorXd& b, const SolveOptions& options) {
  options.validate();
  if (A.rows() > static_cast<Eigen::Index>(board.cells()))
    return solve_in_blocks(board, A, b, options);
  return solve(board, Eigen::MatrixXd(A), b, options);
}

}  // namespace kelvin::runtime
