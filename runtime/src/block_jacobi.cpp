#include "block_jacobi.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "board_job.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/runtime/sign_doubling.hpp"

namespace kelvin::runtime::detail {

using common::Error;
using common::ErrorKind;

BlockJacobi::BlockJacobi(const BlockSource& block, Eigen::Index first_row, Eigen::Index end_row,
                         Eigen::Index block_size, const BlockSolveOptions& options,
                         driver::ResonatorBoard* board)
    : options_(options),
      board_(board),
      acquisition_{options.block.batches.value_or(kBlockBatches),
                   options.block.batch_relaxation_times.value_or(kBlockBatchRelaxationTimes),
                   options.block.auto_range.value_or(kBlockAutoRange)} {
  if (board_ && options.backend == BlockBackend::kBoard)
    calibration_ =
        calibration::resolve_calibration(options.block.calibration, board_->description());
  for (Eigen::Index s = first_row; s < end_row; s += block_size) {
    Block b;
    b.start = s;
    b.offset = s - first_row;
    b.size = std::min(block_size, end_row - s);
    b.matrix = block(s, b.size);
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

Eigen::VectorXd BlockJacobi::apply(const Eigen::VectorXd& r, common::Deadline deadline) {
  Eigen::VectorXd z(r.size());
  for (const Block& b : blocks_) {
    const Eigen::VectorXd rb = r.segment(b.offset, b.size);
    if (options_.backend == BlockBackend::kDigital) {
      z.segment(b.offset, b.size) = b.llt->solve(rb);
      continue;
    }
    if (rb.squaredNorm() == 0.0) {
      z.segment(b.offset, b.size).setZero();
      continue;
    }
    if (deadline.expired())
      throw Error(ErrorKind::kTimeout, "block_solve: the deadline passed");
    z.segment(b.offset, b.size) = solve_block(b, rb, deadline);
    ++solves_;
  }
  if (options_.backend == BlockBackend::kDigital)
    solves_ += blocks_.size();
  return z;
}

Eigen::VectorXd BlockJacobi::apply_exact(const Eigen::VectorXd& r) const {
  Eigen::VectorXd z(r.size());
  for (const Block& b : blocks_) {
    const Eigen::VectorXd rb = r.segment(b.offset, b.size);
    z.segment(b.offset, b.size) = b.llt ? b.llt->solve(rb) : b.matrix.llt().solve(rb);
  }
  return z;
}

std::vector<std::string> BlockJacobi::warnings() const {
  std::vector<std::string> out;
  for (const auto& [text, count] : warnings_)
    out.push_back(fmt::format("{} of {} block solves: {}", count, solves_, text));
  return out;
}

// One block on the board: the direct pipeline on the compiled block, under the block solve's
// deadline, with its own rounding seed.
Eigen::VectorXd BlockJacobi::solve_block(const Block& block, const Eigen::VectorXd& rhs,
                                         common::Deadline deadline) {
  SolveOptions o = options_.block;
  o.rounding_seed = options_.block.rounding_seed + solves_;
  ProblemOptions compile;
  compile.targets = {o.mean_fraction, o.noise_sigmas};
  compile.preconditioning = o.preconditioning;
  compile.symmetry_tolerance = o.symmetry_tolerance;
  BoardJob job(*board_, deadline);
  job.apply_calibration(calibration_);
  const SolveResult s = run_direct_solve(job, compile_block(block, rhs, compile), o, acquisition_);
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
CompiledProblem BlockJacobi::compile_block(const Block& block, const Eigen::VectorXd& rhs,
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

}  // namespace kelvin::runtime::detail
