#include "kelvin/runtime/solve.hpp"

#include <cmath>

#include <fmt/format.h>

#include "block_engine.hpp"
#include "board_job.hpp"
#include "direct_solve.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/block_solve.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

void SolveOptions::validate() const {
  auto fail = [](const std::string& what) {
    throw Error(ErrorKind::kInvalidArgument, "SolveOptions: " + what);
  };
  if (batches && (*batches < 4 || *batches > 100000))
    fail(fmt::format("batches = {} (allowed 4..100000)", *batches));
  if (batch_relaxation_times && !(*batch_relaxation_times >= 1.0))
    fail(fmt::format("batch_relaxation_times = {} (>= 1)", *batch_relaxation_times));
  if (!(burn_in_relaxation_times >= 0.0))
    fail(fmt::format("burn_in_relaxation_times = {} (>= 0)", burn_in_relaxation_times));
  if (!(pilot_relaxation_times >= 1.0))
    fail(fmt::format("pilot_relaxation_times = {} (>= 1)", pilot_relaxation_times));
  if (!(mean_fraction > 0.0 && mean_fraction < 1.0))
    fail(fmt::format("mean_fraction = {} (0..1)", mean_fraction));
  if (!(noise_sigmas > 0.0))
    fail(fmt::format("noise_sigmas = {} (> 0)", noise_sigmas));
  if (!(symmetry_tolerance >= 0.0))
    fail(fmt::format("symmetry_tolerance = {} (>= 0)", symmetry_tolerance));
  if (auto_range_rounds < 1 || auto_range_rounds > 10)
    fail(fmt::format("auto_range_rounds = {} (allowed 1..10)", auto_range_rounds));
  if (max_range_retries < 0)
    fail(fmt::format("max_range_retries = {} (>= 0)", max_range_retries));
  if (!(tolerance > 0.0 && tolerance < 1.0))
    fail(fmt::format("tolerance = {} (allowed (0, 1))", tolerance));
  if (max_iterations < 1)
    fail(fmt::format("max_iterations = {} (>= 1)", max_iterations));
  if (timeout.count() <= 0)
    fail(fmt::format("timeout = {} ms (> 0)", timeout.count()));
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
  SolveSummary& s = out.summary;
  static_cast<JobSummary&>(s) = r.summary;
  s.method = "block";
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
