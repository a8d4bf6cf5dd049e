#include "kelvin/runtime/block_solve.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include <fmt/format.h>
#include <Eigen/Cholesky>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/system_checks.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

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
      : options_(options), board_(board) {
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

  Eigen::VectorXd apply(const Eigen::VectorXd& r, const std::chrono::steady_clock::time_point end) {
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
      SolveOptions o = options_.block;
      o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (o.timeout.count() <= 0)
        throw Error(ErrorKind::kTimeout, "block_solve: the deadline passed");
      o.rounding_seed = options_.block.rounding_seed + solves_;
      const SolveResult s = solve(*board_, b.matrix, rb, o);
      z.segment(b.start, b.size) = s.x;
      device_time_s_ += s.summary.device_time_s;
      ++solves_;
    }
    if (options_.backend == BlockBackend::kDigital)
      solves_ += blocks_.size();
    return z;
  }

  std::size_t blocks() const noexcept { return blocks_.size(); }
  std::uint64_t solves() const noexcept { return solves_; }
  double device_time_s() const noexcept { return device_time_s_; }

 private:
  const BlockSolveOptions& options_;
  driver::ResonatorBoard* board_;
  std::vector<Block> blocks_;
  std::uint64_t solves_ = 0;
  double device_time_s_ = 0.0;
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
  const double n = static_cast<double>(a.rows());
  return n * n * n / 3.0 + 2.0 * n * n;
}
// For GGN factors: forming F (2 m N^2 + 2 m^2 N) and a Cholesky solve, as a GPU trainer would.
double gpu_flops(const DampedGgn& a, double, int) {
  const double n = static_cast<double>(a.rows());
  const double m = static_cast<double>(a.outputs());
  return 2.0 * m * n * n + 2.0 * m * m * n + n * n * n / 3.0 + 2.0 * n * n;
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

SolveOptions BlockSolveOptions::short_block_options() {
  SolveOptions o;
  o.batches = 4;
  o.batch_relaxation_times = 25.0;
  o.auto_range = false;
  return o;
}

void BlockSolveOptions::validate() const {
  const auto fail = [](const std::string& what) {
    throw Error(ErrorKind::kInvalidArgument, "BlockSolveOptions: " + what);
  };
  if (!(tolerance > 0.0 && tolerance < 1.0))
    fail(fmt::format("tolerance = {} (allowed (0, 1))", tolerance));
  if (max_iterations < 1)
    fail(fmt::format("max_iterations = {} (>= 1)", max_iterations));
  if (timeout.count() <= 0)
    fail(fmt::format("timeout = {} ms (> 0)", timeout.count()));
  block.validate();
}

BlockSolveResult block_solve(driver::ResonatorBoard* board, const Eigen::MatrixXd& A,
                             const Eigen::VectorXd& b, const BlockSolveOptions& options) {
  return block_solve_any(board, A, b, options);
}

BlockSolveResult block_solve(driver::ResonatorBoard* board, const Eigen::SparseMatrix<double>& A,
                             const Eigen::VectorXd& b, const BlockSolveOptions& options) {
  return block_solve_any(board, A, b, options);
}

BlockSolveResult block_solve(driver::ResonatorBoard* board, const DampedGgn& A,
                             const Eigen::VectorXd& g, const BlockSolveOptions& options) {
  return block_solve_any(board, A, g, options);
}

namespace {

template <typename Matrix>
BlockSolveResult block_solve_any(driver::ResonatorBoard* board, const Matrix& A,
                                 const Eigen::VectorXd& b, const BlockSolveOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  const auto end = wall_start + options.timeout;
  std::optional<BoardSnapshot> energy_start;
  if (board)
    energy_start = BoardSnapshot::of(*board);
  options.validate();
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
  const double b_norm = b.norm();
  out.x = Eigen::VectorXd::Zero(n);
  sum.residual_history.push_back(1.0);
  if (b_norm == 0.0) {
    sum.converged = true;
    sum.relative_residual = 0.0;
  } else {
    // Flexible PCG (Notay 2000, truncation 1).
    Eigen::VectorXd r = b;
    Eigen::VectorXd z = m.apply(r, end);
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
      const Eigen::VectorXd z_new = m.apply(r_new, end);
      const double beta = z_new.dot(r_new - r) / rz;
      r = r_new;
      z = z_new;
      rz = r.dot(z);
      if (!(rz > 0.0)) {
        // A board solve that points away from the residual (possible only when a block's
        // statistical error exceeds 100%) leaves nothing to do but stop with what we have.
        common::logger("kelvin.runtime")
            ->warn(
                "block solve: the preconditioner returned no descent direction (r^T z = {:.3g}) "
                "in iteration {}; stopping",
                rz, k + 1);
        break;
      }
      p = z + beta * p;
    }
  }
  sum.block_solves = m.solves();
  if (board && options.backend == BlockBackend::kBoard) {
    // Host: two matrix-vector products per iteration, plus each block solve's own host work
    // (about 2 b^3). GPU: see gpu_flops().
    const double bd = static_cast<double>(block_size);
    const double host = 2.0 * matvec_flops(A) * sum.iterations +
                        2.0 * bd * bd * bd * static_cast<double>(sum.block_solves);
    sum.energy = ledger_since(*board, *energy_start, host, gpu_flops(A, bd, sum.iterations));
  }
  sum.device_time_s = m.device_time_s();
  sum.wall_time_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  common::logger("kelvin.runtime")->info("block solve: {}", sum.brief_report());
  return out;
}

}  // namespace

std::string BlockSolveSummary::brief_report() const {
  return fmt::format(
      "n={} in {} blocks of {} ({}): {} iterations, relative residual {:.3g}{}, {} block "
      "solves, {:.3g} ms device time",
      unknowns, blocks, block_size, backend, iterations, relative_residual,
      converged ? "" : " (NOT converged)", block_solves, device_time_s * 1e3);
}

std::string BlockSolveSummary::full_report() const {
  std::string r = "Block solve summary\n";
  auto line = [&r](const char* name, const std::string& value) {
    r += fmt::format("  {:<28} {}\n", name, value);
  };
  line("unknowns", fmt::format("{}", unknowns));
  line("blocks", fmt::format("{} of {} ({} backend)", blocks, block_size, backend));
  line("iterations", fmt::format("{} ({})", iterations, converged ? "converged" : "not converged"));
  line("relative residual", fmt::format("{:.6g}", relative_residual));
  std::string history;
  for (double h : residual_history)
    history += fmt::format("{:.2g} ", h);
  line("residual history", history);
  line("block solves", fmt::format("{}", block_solves));
  line("device time", fmt::format("{:.6g} ms", device_time_s * 1e3));
  line("wall time", fmt::format("{:.3g} s", wall_time_s));
  if (energy.total_j() > 0.0)
    line("energy (model)", energy.brief());
  return r;
}

}  // namespace kelvin::runtime
