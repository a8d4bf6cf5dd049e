// The block solve's preconditioner (block_solve.hpp): block Jacobi over a contiguous range of
// diagonal blocks of A (all of them on one board; one rank's share when the solve is spread over
// ranks), each block solved on the board by the direct pipeline (direct_solve.hpp) or digitally
// by Cholesky.
//
// Thread contract: uses its board exclusively while apply() runs; one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "direct_solve.hpp"
#include "kelvin/common/deadline.hpp"
#include "kelvin/runtime/block_solve.hpp"
#include "kelvin/runtime/calibration/calibration_file.hpp"

namespace kelvin::runtime::detail {

// z = M^-1 r for the rows [first_row, end_row) of A, block by block. Vectors passed in and out
// hold those rows only (index 0 is first_row).
class BlockJacobi {
 public:
  // The dense diagonal block of A at rows and columns [start, start + size).
  using BlockSource = std::function<Eigen::MatrixXd(Eigen::Index start, Eigen::Index size)>;

  // Blocks of `block_size` rows from first_row (a multiple of block_size) to end_row (the last
  // one may be shorter). Throws common::Error(kInvalidArgument) for a block that is not positive
  // definite (digital backend) or a calibration that does not fit the board.
  BlockJacobi(const BlockSource& block, Eigen::Index first_row, Eigen::Index end_row,
              Eigen::Index block_size, const BlockSolveOptions& options,
              driver::ResonatorBoard* board);

  Eigen::VectorXd apply(const Eigen::VectorXd& r, common::Deadline deadline);
  // z = M^-1 r with every block solved digitally (Cholesky), whatever the backend: the
  // error estimate of the final iterate (error_estimate in block_solve.hpp).
  Eigen::VectorXd apply_exact(const Eigen::VectorXd& r) const;

  std::size_t blocks() const noexcept { return blocks_.size(); }
  std::uint64_t solves() const noexcept { return solves_; }
  std::uint64_t samples() const noexcept { return samples_; }
  const Acquisition& acquisition() const noexcept { return acquisition_; }
  // One line per kind of warning the block solves gave, with how many gave it.
  std::vector<std::string> warnings() const;

 private:
  struct Block {
    Eigen::Index start = 0;   // row of A
    Eigen::Index offset = 0;  // row in this range's vectors
    Eigen::Index size = 0;
    Eigen::MatrixXd matrix;
    // Digital backend only. Optional, because a default-constructed LLT leaves its status
    // uninitialized, and copying that is undefined behaviour (UBSan caught it).
    std::optional<Eigen::LLT<Eigen::MatrixXd>> llt;
  };

  Eigen::VectorXd solve_block(const Block& block, const Eigen::VectorXd& rhs,
                              common::Deadline deadline);
  CompiledProblem compile_block(const Block& block, const Eigen::VectorXd& rhs,
                                const ProblemOptions& compile) const;

  const BlockSolveOptions& options_;
  driver::ResonatorBoard* board_;
  calibration::AppliedCalibration calibration_;  // resolved once, applied to every block
  Acquisition acquisition_;
  std::vector<Block> blocks_;
  std::uint64_t solves_ = 0;
  std::uint64_t samples_ = 0;
  std::vector<std::pair<std::string, std::uint64_t>> warnings_;
};

}  // namespace kelvin::runtime::detail
