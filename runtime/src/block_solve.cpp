#include "kelvin/runtime/block_solve.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "block_engine.hpp"
#include "block_jacobi.hpp"
#include "block_operator.hpp"
#include "board_job.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "option_checks.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;
using detail::BlockJacobi;
using detail::BoardJob;

void BlockSolveOptions::validate() const {
  const detail::OptionChecks check("BlockSolveOptions");
  detail::check_iteration(check, tolerance, max_iterations);
  check.timeout(timeout);
  block.validate();
}

namespace {

// This rank's share of the blocks: a contiguous range of them, as rows [begin, end).
struct RowRange {
  Eigen::Index begin = 0;
  Eigen::Index end = 0;
  Eigen::Index size() const noexcept { return end - begin; }
};

RowRange rows_of_rank(Eigen::Index n, Eigen::Index block_size, int rank, int ranks) {
  const Eigen::Index blocks = (n + block_size - 1) / block_size;
  const Eigen::Index first = blocks * rank / ranks;
  const Eigen::Index last = blocks * (rank + 1) / ranks;
  return {std::min(first * block_size, n), std::min(last * block_size, n)};
}

// Every rank must pass the same A, b and options (block_solve.hpp): compares fingerprints of
// them, gathered from every rank, with rank 0's. The same verdict on every rank.
template <typename Matrix>
void check_same_input(Collective& group, const Matrix& A, const Eigen::VectorXd& b,
                      const BlockSolveOptions& o, common::Deadline deadline) {
  if (group.size() == 1)
    return;
  const std::array<std::uint64_t, 3> mine = {
      detail::fingerprint(A), detail::fingerprint(b),
      detail::fingerprint(Eigen::VectorXd(Eigen::Vector4d(
          o.tolerance, o.max_iterations, o.block_size, o.backend == BlockBackend::kBoard)))};
  const auto all = group.gather_all(std::span<const std::uint64_t>(mine), deadline,
                                    "block solve: compare the inputs");
  static constexpr std::array<const char*, 3> kWhat = {"A", "b", "options"};
  for (int r = 1; r < group.size(); ++r) {
    for (std::size_t k = 0; k < mine.size(); ++k) {
      if (all[static_cast<std::size_t>(r) * mine.size() + k] != all[k]) {
        throw Error(ErrorKind::kInvalidArgument,
                    fmt::format("block solve: rank {} of {} passed a different {} from rank "
                                "0's; every rank must pass the same A, b and options",
                                r, group.size(), kWhat[k]));
      }
    }
  }
}

// The engine: flexible PCG (Notay 2000, truncation 1) with block-Jacobi blocks dealt to the
// ranks (block_solve.hpp). x and p are replicated; each rank owns the rows of its blocks in r,
// A p and z; dot products are partial dots summed over the ranks (bit-identical everywhere, so
// every rank takes the same branches); z is gathered whole after each preconditioner pass.
template <typename Matrix>
BlockSolveResult block_solve_any(Collective& group, driver::ResonatorBoard* board, const Matrix& A,
                                 const Eigen::VectorXd& b, const BlockSolveOptions& options,
                                 bool report_scale_out) {
  const auto wall_start = std::chrono::steady_clock::now();
  options.validate();
  const common::Deadline deadline = common::Deadline::after(options.timeout);
  if (group.label().empty() && board)
    group.set_label(fmt::format("board {}", board->description().serial));
  const bool on_board = options.backend == BlockBackend::kBoard;
  // The default block size is the smallest board's cell count, the same on every rank.
  std::int64_t block_size = options.block_size ? options.block_size : (board ? board->cells() : 8);
  group.min(std::span<std::int64_t>(&block_size, 1), deadline, "block solve: block size");
  std::optional<BoardJob> job;  // deadline and energy snapshot: a board is needed on the board
  group.checked("block solve: check the input", deadline, [&] {
    detail::check_system(A, b, options.block.symmetry_tolerance);
    if (on_board && board == nullptr)
      throw Error(ErrorKind::kInvalidArgument, "block_solve: the board backend needs a board");
    if (board && block_size > board->cells()) {
      throw Error(
          ErrorKind::kInvalidArgument,
          fmt::format("block_size {} exceeds the board's {} cells", block_size, board->cells()));
    }
    if (board) {
      job.emplace(*board, deadline);
      if (on_board)
        job->apply_calibration(options.block.calibration);
    }
  });
  check_same_input(group, A, b, options, deadline);
  const Eigen::Index n = A.rows();
  const RowRange own = rows_of_rank(n, block_size, group.rank(), group.size());

  BlockSolveResult out;
  BlockSolveSummary& sum = out.summary;
  sum.unknowns = static_cast<std::size_t>(n);
  sum.block_size = static_cast<std::uint32_t>(block_size);
  sum.blocks = static_cast<std::size_t>((n + block_size - 1) / block_size);
  sum.backend = on_board ? "board" : "digital";

  std::optional<BlockJacobi> m;
  group.checked("block solve: set up the blocks", deadline, [&] {
    m.emplace(
        [&A](Eigen::Index s, Eigen::Index size) { return detail::diagonal_block(A, s, size); },
        own.begin, own.end, block_size, options, board);
  });
  if (on_board) {
    sum.block_batches = m->acquisition().batches;
    sum.block_batch_relaxation_times = m->acquisition().batch_relaxation_times;
    sum.block_auto_range = m->acquisition().auto_range;
  }
  const detail::RowProduct a_rows(A, own.begin, own.size());
  const Eigen::VectorXd b_own = b.segment(own.begin, own.size());
  // z = M^-1 r: each rank its own blocks (on its board), then gathered whole on every rank.
  auto precondition = [&](const Eigen::VectorXd& r_own) {
    Eigen::VectorXd z_own;
    group.checked("block solve: preconditioner", deadline,
                  [&] { z_own = m->apply(r_own, deadline); });
    std::vector<double> z = group.gather_all(std::span<const double>(z_own.data(), z_own.size()),
                                             deadline, "block solve: gather z");
    return Eigen::VectorXd(Eigen::Map<const Eigen::VectorXd>(z.data(), n));
  };
  auto dot = [&](const Eigen::VectorXd& u_own, const Eigen::VectorXd& v_own) {
    return group.sum(u_own.dot(v_own), deadline, "block solve: dot product");
  };
  const double b_norm = b.norm();
  out.x = Eigen::VectorXd::Zero(n);
  sum.residual_history.push_back(1.0);
  if (b_norm == 0.0) {
    sum.converged = true;
    sum.relative_residual = 0.0;
  } else {
    Eigen::VectorXd r = b_own;
    Eigen::VectorXd p = precondition(r);
    double rz = dot(r, p.segment(own.begin, own.size()));
    for (int k = 0; k < options.max_iterations; ++k) {
      const Eigen::VectorXd ap = a_rows(p);
      const double pap = dot(p.segment(own.begin, own.size()), ap);
      if (!(pap > 0.0)) {
        throw Error(ErrorKind::kInvalidArgument,
                    fmt::format("A is not positive definite: p^T A p = {:.6g} in iteration {}", pap,
                                k + 1));
      }
      const double alpha = rz / pap;
      out.x += alpha * p;
      const Eigen::VectorXd r_new = b_own - a_rows(out.x);  // exact residual, not the recurrence
      sum.iterations = k + 1;
      sum.relative_residual = std::sqrt(dot(r_new, r_new)) / b_norm;
      sum.residual_history.push_back(sum.relative_residual);
      if (sum.relative_residual <= options.tolerance) {
        sum.converged = true;
        break;
      }
      const Eigen::VectorXd z_new = precondition(r_new);
      const auto z_own = z_new.segment(own.begin, own.size());
      std::array<double, 2> dots = {z_own.dot(r_new - r), z_own.dot(r_new)};
      group.sum(std::span<double>(dots), deadline, "block solve: dot products");
      const double beta = dots[0] / rz;
      r = r_new;
      rz = dots[1];
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
      p = z_new + beta * p;
    }
  }
  sum.block_solves = m->solves();
  // The error of x is A^-1 r for the exact final residual r; M^-1 r, with M the block-Jacobi
  // preconditioner solved digitally, estimates it at the cost of one preconditioner pass.
  const Eigen::VectorXd e_own = m->apply_exact(b_own - a_rows(out.x)).cwiseAbs();
  std::vector<double> e = group.gather_all(std::span<const double>(e_own.data(), e_own.size()),
                                           deadline, "block solve: gather the error estimate");
  out.error_estimate = Eigen::Map<const Eigen::VectorXd>(e.data(), n);
  if (!sum.converged) {
    sum.warnings.push_back(
        fmt::format("not converged: relative residual {:.3g} after {} "
                    "iterations (tolerance {:.3g})",
                    sum.relative_residual, sum.iterations, options.tolerance));
  }
  for (std::string& w : m->warnings())
    sum.warnings.push_back(std::move(w));
  if (job && on_board) {
    // Host: this rank's rows of two matrix-vector products per iteration, plus each block
    // solve's own host work (about 2 b^3). GPU: this rank's share of gpu_flops().
    const double bd = static_cast<double>(block_size);
    const double share = n ? static_cast<double>(own.size()) / static_cast<double>(n) : 1.0;
    const double host = 2.0 * detail::matvec_flops(A) * share * sum.iterations +
                        2.0 * bd * bd * bd * static_cast<double>(sum.block_solves);
    job->add_samples(m->samples());
    group.checked("block solve: finish", deadline, [&] {
      job->finish(sum, host, detail::gpu_flops(A, bd, sum.iterations) * share);
    });
  } else {
    if (board) {
      sum.serial = board->description().serial;
      sum.cells = board->cells();
    }
    sum.wall_time_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  }
  if (report_scale_out)
    sum.scale_out = gather_scale_out(group, sum, deadline);
  common::logger("kelvin.runtime")->info("block solve: {}", sum.brief_report());
  return out;
}

// The single-board job: the one-rank case of the same engine.
template <typename Matrix>
BlockSolveResult block_solve_alone(driver::ResonatorBoard* board, const Matrix& A,
                                   const Eigen::VectorXd& b, const BlockSolveOptions& options) {
  LocalCollective alone;
  return block_solve_any(alone, board, A, b, options, false);
}

}  // namespace

BlockSolveResult block_solve(driver::ResonatorBoard* board, const Eigen::MatrixXd& A,
                             const Eigen::VectorXd& b, const BlockSolveOptions& options) {
  return block_solve_alone(board, A, b, options);
}
BlockSolveResult block_solve(driver::ResonatorBoard* board, const Eigen::SparseMatrix<double>& A,
                             const Eigen::VectorXd& b, const BlockSolveOptions& options) {
  return block_solve_alone(board, A, b, options);
}
BlockSolveResult block_solve(driver::ResonatorBoard* board, const DampedGgn& A,
                             const Eigen::VectorXd& g, const BlockSolveOptions& options) {
  return block_solve_alone(board, A, g, options);
}

BlockSolveResult block_solve(Collective& group, driver::ResonatorBoard* board,
                             const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                             const BlockSolveOptions& options) {
  return block_solve_any(group, board, A, b, options, true);
}
BlockSolveResult block_solve(Collective& group, driver::ResonatorBoard* board,
                             const Eigen::SparseMatrix<double>& A, const Eigen::VectorXd& b,
                             const BlockSolveOptions& options) {
  return block_solve_any(group, board, A, b, options, true);
}
BlockSolveResult block_solve(Collective& group, driver::ResonatorBoard* board, const DampedGgn& A,
                             const Eigen::VectorXd& g, const BlockSolveOptions& options) {
  return block_solve_any(group, board, A, g, options, true);
}

namespace detail {

BlockSolveResult run_block_solve(driver::ResonatorBoard* board, const Eigen::MatrixXd& A,
                                 const Eigen::VectorXd& b, const BlockSolveOptions& options) {
  return block_solve_alone(board, A, b, options);
}
BlockSolveResult run_block_solve(driver::ResonatorBoard* board,
                                 const Eigen::SparseMatrix<double>& A, const Eigen::VectorXd& b,
                                 const BlockSolveOptions& options) {
  return block_solve_alone(board, A, b, options);
}
BlockSolveResult run_block_solve(driver::ResonatorBoard* board, const DampedGgn& A,
                                 const Eigen::VectorXd& b, const BlockSolveOptions& options) {
  return block_solve_alone(board, A, b, options);
}

}  // namespace detail

}  // namespace kelvin::runtime
