#include "kelvin/runtime/block_solve.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include <fmt/format.h>
#include <Eigen/Cholesky>

#include "block_engine.hpp"
#include "board_job.hpp"
#include "direct_solve.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/calibration/calibration_file.hpp"
#include "kelvin/runtime/sign_doubling.hpp"
#include "kelvin/runtime/system_checks.hpp"
#include "option_checks.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;
using detail::Acquisition;
using detail::BoardJob;
using detail::run_direct_solve;

namespace {

struct Block {
  Eigen::Index start = 0;
  Eigen::Index size = 0;
  Eigen::MatrixXd matrix;
  // Digital backend only. Optional, because a default-constructed LLT leaves its status
  // uninitialized, and copying that is undefined behaviour (UBSan caught it).
  std::optional<Eigen::LLT<Eigen::MatrixXd>> llt;
};

// The diagonal block [start, start + size) of A, dense: what a board (or Cholesky) solves.
Eigen::MatrixXd diagonal_block(const Eigen::MatrixXd& a, Eigen::Index start, Eigen::Index size) {
  return a.block(start, start, size, size);
}
Eigen::MatrixXd diagonal_block(const Eigen::SparseMatrix<double>& a, Eigen::Index start,
                               Eigen::Index size) {
  return Eigen::MatrixXd(a.block(start, start, size, size));
}
Eigen::MatrixXd diagonal_block(const DampedGgn& a, Eigen::Index start, Eigen::Index size) {
  return a.diagonal_block(start, size);
}

// Input checks. The operator checked its factors when it was built; only b is left.
void check_system(const Eigen::MatrixXd& a, const Eigen::VectorXd& b, double tolerance) {
  check_symmetric_system(a, b, tolerance);
}
void check_system(const Eigen::SparseMatrix<double>& a, const Eigen::VectorXd& b,
                  double tolerance) {
  check_symmetric_system(a, b, tolerance);
}
void check_system(const DampedGgn& a, const Eigen::VectorXd& b, double) {
  if (b.size() != a.rows()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("the gradient has {} entries but the curvature has {} parameters",
                            b.size(), a.rows()));
  }
  if (!b.allFinite())
    throw Error(ErrorKind::kInvalidArgument, "the gradient has a non-finite entry");
}

// z = M^-1 r, block by block.
class BlockJacobi {
 public:
  template <typename Matrix>
  BlockJacobi(const Matrix& a, Eigen::Index block_size, const BlockSolveOptions& options,
              driver::ResonatorBoard* board)
      : options_(options),
        board_(board),
        acquisition_{options.block.batches.value_or(kBlockBatches),
                     options.block.batch_relaxation_times.value_or(kBlockBatchRelaxationTimes),
                     options.block.auto_range.value_or(kBlockAutoRange)} {
    if (board_ && options.backend == BlockBackend::kBoard)
      calibration_ =
          calibration::resolve_calibration(options.block.calibration, board_->description());
    for (Eigen::Index s = 0; s < a.rows(); s += block_size) {
      Block b;
      b.start = s;
      b.size = std::min(block_size, a.rows() - s);
      b.matrix = diagonal_block(a, s, b.size);
      if (options.backend == BlockBackend::kDigital) {
        b.llt.emplace(b.matrix);
        if (b.llt->info() != Eigen::Success) {
          throw Error(ErrorKind::kInvalidArgument,
                      fmt::format("A is not positive definite: its diagonal block at rows [{}, "
                                  "{}) is not",
                                  s, s + b.size));
        }
      }
      blocks_.push_back(std::move(b));
    }
  }

  Eigen::VectorXd apply(const Eigen::VectorXd& r, common::Deadline deadline) {
    Eigen::VectorXd z(r.size());
    for (const Block& b : blocks_) {
      const Eigen::VectorXd rb = r.segment(b.start, b.size);
      if (options_.backend == BlockBackend::kDigital) {
        z.segment(b.start, b.size) = b.llt->solve(rb);
        continue;
      }
      if (rb.squaredNorm() == 0.0) {
        z.segment(b.start, b.size).setZero();
        continue;
      }
      if (deadline.expired())
        throw Error(ErrorKind::kTimeout, "block_solve: the deadline passed");
      z.segment(b.start, b.size) = solve_block(b, rb, deadline);
      ++solves_;
    }
    if (options_.backend == BlockBackend::kDigital)
      solves_ += blocks_.size();
    return z;
  }

  // z = M^-1 r with every block solved digitally (Cholesky), whatever the backend: the
  // error estimate of the final iterate (error_estimate in block_solve.hpp).
  Eigen::VectorXd apply_exact(const Eigen::VectorXd& r) const {
    Eigen::VectorXd z(r.size());
    for (const Block& b : blocks_) {
      const Eigen::VectorXd rb = r.segment(b.start, b.size);
      z.segment(b.start, b.size) = b.llt ? b.llt->solve(rb) : b.matrix.llt().solve(rb);
    }
    return z;
  }

  std::size_t blocks() const noexcept { return blocks_.size(); }
  std::uint64_t solves() const noexcept { return solves_; }
  std::uint64_t samples() const noexcept { return samples_; }
  const Acquisition& acquisition() const noexcept { return acquisition_; }
  // One line per kind of warning the block solves gave, with how many gave it.
  std::vector<std::string> warnings() const {
    std::vector<std::string> out;
    for (const auto& [text, count] : warnings_)
      out.push_back(fmt::format("{} of {} block solves: {}", count, solves_, text));
    return out;
  }

 private:
  // One block on the board: the direct pipeline on the compiled block, under the block solve's
  // deadline, with its own rounding seed.
  Eigen::VectorXd solve_block(const Block& block, const Eigen::VectorXd& rhs,
                              common::Deadline deadline) {
    SolveOptions o = options_.block;
    o.rounding_seed = options_.block.rounding_seed + solves_;
    ProblemOptions compile;
    compile.targets = {o.mean_fraction, o.noise_sigmas};
    compile.preconditioning = o.preconditioning;
    compile.symmetry_tolerance = o.symmetry_tolerance;
    BoardJob job(*board_, deadline);
    job.apply_calibration(calibration_);
    const SolveResult s =
        run_direct_solve(job, compile_block(block, rhs, compile), o, acquisition_);
    samples_ += job.samples();
    for (const std::string& w : s.summary.warnings) {
      auto it = std::find_if(warnings_.begin(), warnings_.end(),
                             [&w](const auto& entry) { return entry.first == w; });
      if (it == warnings_.end())
        warnings_.emplace_back(w, 1);
      else
        ++it->second;
    }
    return s.x;
  }

  // The block compiled for the board. A refusal after sign doubling on a capacitive board
  // (sign_doubling.hpp) names the block and the block size that would fit the doubled block.
  CompiledProblem compile_block(const Block& block, const Eigen::VectorXd& rhs,
                                const ProblemOptions& compile) const {
    const driver::DeviceDescription& desc = board_->description();
    try {
      return compile_problem(block.matrix, rhs, desc, compile);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kNotSupported || !has_positive_off_diagonal(block.matrix) ||
          !desc.resonator || desc.resonator->coupling_kind != driver::CouplingKind::kCapacitive)
        throw;
      const bool too_big = 2 * static_cast<std::uint64_t>(block.size) > desc.cells;
      throw Error(
          e.kind(),
          fmt::format("block solve, the diagonal block of A at rows [{}, {}) (its indices below "
                      "count from the block): {}{}",
                      block.start, block.start + block.size, e.what(),
                      too_big ? fmt::format("; or use blocks of at most {} unknowns (block_size), "
                                            "whose doubled systems fit the board's {} cells",
                                            desc.cells / 2, desc.cells)
                              : std::string()));
    }
  }

  const BlockSolveOptions& options_;
  driver::ResonatorBoard* board_;
  calibration::AppliedCalibration calibration_;  // resolved once, applied to every block
  Acquisition acquisition_;
  std::vector<Block> blocks_;
  std::uint64_t solves_ = 0;
  std::uint64_t samples_ = 0;
  std::vector<std::pair<std::string, std::uint64_t>> warnings_;
};

// Host FLOPs of one product A p: 2 N^2 dense, 2 nnz sparse.
double matvec_flops(const Eigen::MatrixXd& a) {
  return 2.0 * static_cast<double>(a.rows()) * static_cast<double>(a.cols());
}
double matvec_flops(const Eigen::SparseMatrix<double>& a) {
  return 2.0 * static_cast<double>(a.nonZeros());
}
double matvec_flops(const DampedGgn& a) {
  return a.product_flops();
}

// What a GPU doing the same job digitally would spend: a dense Cholesky solve (N^3/3 + 2 N^2)
// for a dense A; for a sparse A, the same preconditioned CG digitally (its iterations, two
// sparse products and a block-Jacobi application each, 2 N b FLOPs with the blocks factored once
// for N b^2 / 3), because a sparse direct factorization's fill-in depends on the pattern.
double gpu_flops(const Eigen::MatrixXd& a, double, int) {
  return flops::cholesky_solve(static_cast<double>(a.rows()));
}
// For GGN factors: forming F (2 m N^2 + 2 m^2 N) and a Cholesky solve, as a GPU trainer would.
double gpu_flops(const DampedGgn& a, double, int) {
  const double n = static_cast<double>(a.rows());
  const double m = static_cast<double>(a.outputs());
  return 2.0 * m * n * n + 2.0 * m * m * n + flops::cholesky_solve(n);
}
double gpu_flops(const Eigen::SparseMatrix<double>& a, double block, int iterations) {
  const double n = static_cast<double>(a.rows());
  return n * block * block / 3.0 +
         iterations * (2.0 * matvec_flops(a) + 2.0 * n * block + 10.0 * n);
}

template <typename Matrix>
BlockSolveResult block_solve_any(driver::ResonatorBoard* board, const Matrix& A,
                                 const Eigen::VectorXd& b, const BlockSolveOptions& options);

}  // namespace

void BlockSolveOptions::validate() const {
  const detail::OptionChecks check("BlockSolveOptions");
  detail::check_iteration(check, tolerance, max_iterations);
  check.timeout(timeout);
  block.validate();
}

BlockSolveResult block_solve(driver::ResonatorBoard* board, const Eigen::MatrixXd& A,
                             const Eigen::VectorXd& b, const BlockSolveOptions& options) {
  return detail::run_block_solve(board, A, b, options);
}

BlockSolveResult block_solve(driver::ResonatorBoard* board, const Eigen::SparseMatrix<double>& A,
                             const Eigen::VectorXd& b, const BlockSolveOptions& options) {
  return detail::run_block_solve(board, A, b, options);
}

BlockSolveResult block_solve(driver::ResonatorBoard* board, const DampedGgn& A,
                             const Eigen::VectorXd& g, const BlockSolveOptions& options) {
  return detail::run_block_solve(board, A, g, options);
}

namespace {

template <typename Matrix>
BlockSolveResult block_solve_any(driver::ResonatorBoard* board, const Matrix& A,
                                 const Eigen::VectorXd& b, const BlockSolveOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  options.validate();
  // The job: its deadline and energy snapshot (a board is needed only by the board backend).
  std::optional<BoardJob> job;
  if (board) {
    job.emplace(*board, options.timeout);
    if (options.backend == BlockBackend::kBoard)
      job->apply_calibration(options.block.calibration);
  }
  const common::Deadline deadline =
      job ? job->deadline() : common::Deadline::after(options.timeout);
  check_system(A, b, options.block.symmetry_tolerance);
  if (options.backend == BlockBackend::kBoard && board == nullptr)
    throw Error(ErrorKind::kInvalidArgument, "block_solve: the board backend needs a board");
  const Eigen::Index n = A.rows();
  std::uint32_t block_size = options.block_size;
  if (block_size == 0)
    block_size = board ? board->cells() : 8;
  if (board && block_size > board->cells()) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("block_size {} exceeds the board's {} cells", block_size, board->cells()));
  }

  BlockSolveResult out;
  BlockSolveSummary& sum = out.summary;
  sum.unknowns = static_cast<std::size_t>(n);
  sum.block_size = block_size;
  sum.backend = options.backend == BlockBackend::kBoard ? "board" : "digital";

  BlockJacobi m(A, block_size, options, board);
  sum.blocks = m.blocks();
  if (options.backend == BlockBackend::kBoard) {
    sum.block_batches = m.acquisition().batches;
    sum.block_batch_relaxation_times = m.acquisition().batch_relaxation_times;
    sum.block_auto_range = m.acquisition().auto_range;
  }
  const double b_norm = b.norm();
  out.x = Eigen::VectorXd::Zero(n);
  sum.residual_history.push_back(1.0);
  if (b_norm == 0.0) {
    sum.converged = true;
    sum.relative_residual = 0.0;
  } else {
    // Flexible PCG (Notay 2000, truncation 1).
    Eigen::VectorXd r = b;
    Eigen::VectorXd z = m.apply(r, deadline);
    Eigen::VectorXd p = z;
    double rz = r.dot(z);
    for (int k = 0; k < options.max_iterations; ++k) {
      const Eigen::VectorXd ap = A * p;
      const double pap = p.dot(ap);
      if (!(pap > 0.0)) {
        throw Error(ErrorKind::kInvalidArgument,
                    fmt::format("A is not positive definite: p^T A p = {:.6g} in iteration {}", pap,
                                k + 1));
      }
      const double alpha = rz / pap;
      out.x += alpha * p;
      const Eigen::VectorXd r_new = b - A * out.x;  // exact residual, not the recurrence
      sum.iterations = k + 1;
      sum.relative_residual = r_new.norm() / b_norm;
      sum.residual_history.push_back(sum.relative_residual);
      if (sum.relative_residual <= options.tolerance) {
        sum.converged = true;
        break;
      }
      const Eigen::VectorXd z_new = m.apply(r_new, deadline);
      const double beta = z_new.dot(r_new - r) / rz;
      r = r_new;
      z = z_new;
      rz = r.dot(z);
      if (!(rz > 0.0)) {
        // A board solve that points away from the residual (possible only when a block's
        // statistical error exceeds 100%) leaves nothing to do but stop with what we have.
        sum.warnings.push_back(fmt::format(
            "the preconditioner returned no descent direction (r^T z = {:.3g}) in iteration {}; "
            "stopped early",
            rz, k + 1));
        common::logger("kelvin.runtime")->warn("block solve: {}", sum.warnings.back());
        break;
      }
      p = z + beta * p;
    }
  }
  sum.block_solves = m.solves();
  // The error of x is A^-1 r for the exact final residual r; M^-1 r, with M the block-Jacobi
  // preconditioner solved digitally, estimates it at the cost of one preconditioner pass.
  out.error_estimate = m.apply_exact(b - A * out.x).cwiseAbs();
  if (!sum.converged) {
    sum.warnings.push_back(
        fmt::format("not converged: relative residual {:.3g} after {} "
                    "iterations (tolerance {:.3g})",
                    sum.relative_residual, sum.iterations, options.tolerance));
  }
  for (std::string& w : m.warnings())
    sum.warnings.push_back(std::move(w));
  if (job && options.backend == BlockBackend::kBoard) {
    // Host: two matrix-vector products per iteration, plus each block solve's own host work
    // (about 2 b^3). GPU: see gpu_flops().
    const double bd = static_cast<double>(block_size);
    const double host = 2.0 * matvec_flops(A) * sum.iterations +
                        2.0 * bd * bd * bd * static_cast<double>(sum.block_solves);
    job->add_samples(m.samples());
    job->finish(sum, host, gpu_flops(A, bd, sum.iterations));
  } else {
    if (board) {
      sum.serial = board->description().serial;
      sum.cells = board->cells();
    }
    sum.wall_time_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  }
  common::logger("kelvin.runtime")->info("block solve: {}", sum.brief_report());
  return out;
}

}  // namespace

namespace detail {

BlockSolveResult run_block_solve(driver::ResonatorBoard* board, const Eigen::MatrixXd& A,
                                 const Eigen::VectorXd& b, const BlockSolveOptions& options) {
  return block_solve_any(board, A, b, options);
}

BlockSolveResult run_block_solve(driver::ResonatorBoard* board,
                                 const Eigen::SparseMatrix<double>& A, const Eigen::VectorXd& b,
                                 const BlockSolveOptions& options) {
  return block_solve_any(board, A, b, options);
}

BlockSolveResult run_block_solve(driver::ResonatorBoard* board, const DampedGgn& A,
                                 const Eigen::VectorXd& b, const BlockSolveOptions& options) {
  return block_solve_any(board, A, b, options);
}

}  // namespace detail

}  // namespace kelvin::runtime
