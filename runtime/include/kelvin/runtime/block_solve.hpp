// Linear systems larger than the board: A x = b with N far above the cell count (8 to 256
// cells, N up to 10,000 and beyond), by flexible preconditioned conjugate gradients with a
// digital outer loop and a block-Jacobi preconditioner whose diagonal blocks (at most `cells`
// unknowns each) are solved on the board.
//
// Why this method: the outer loop keeps the exact residual r = b - A x in double precision, so
// the board's limited precision (16-bit DACs, statistical error of a few percent per solve)
// costs iterations, not accuracy; the flexible variant (Notay, SIAM J. Sci. Comput. 2000:
// beta_k = z_{k+1}^T (r_{k+1} - r_k) / z_k^T r_k) tolerates a preconditioner that changes from
// one application to the next, which a stochastic board is. Block Jacobi maps directly onto the
// board: each block is a small SPD system (a principal submatrix of an SPD A), programmed in
// turn. Blocks are the consecutive index ranges [k c, (k + 1) c).
//
// The same loop runs with the blocks solved digitally (Eigen Cholesky): the reference that
// checks the board path, and the fallback when no board is given.
//
// Dense or sparse A (Eigen::SparseMatrix<double>): a sparse A is what N = 10,000 needs; or the
// damped GGN curvature of a natural gradient as factors (damped_ggn.hpp), never formed.
//
// solve() (solve.hpp) comes here by itself when n exceeds the board's cells; block_solve() is
// the explicit entry point, with the digital backend and the GGN operator besides.
//
// Spread over several boards: block_solve(group, board, ...) runs the same loop on every rank of
// a Collective (collective.hpp: MPI ranks, or threads of one process), each rank with its own
// board, every rank passing the same A, b and options (checked at the start by comparing
// fingerprints of them, gathered from every rank; a mismatch is refused with kInvalidArgument on
// every rank, naming the rank). The diagonal blocks are dealt to the ranks as contiguous ranges
// of blocks (rank k of K gets blocks [B k / K, B (k + 1) / K) of B); a rank solves only its own
// blocks, on its own board (or by Cholesky for the digital backend), and computes only its own
// rows of A p and of the residual. The dot products are partial dots summed over the ranks
// (Collective::sum: bit-identical on every rank, so every rank takes the same branches), the
// preconditioned residual z is gathered whole from the ranks' segments, and x and p are
// replicated: x and error_estimate come out bit-identical on every rank. The block size
// defaults to the smallest board's cell count. Per outer iteration, five small collectives (the
// preconditioner's failure agreement, the gather of z, three sums) and nothing else cross
// ranks. The iterates equal the single-board run's up to the rounding of the summation order of
// the dot products (digital backend) and up to the boards' own statistical errors (board
// backend); error_estimate is formed the same way (|M^-1 r|, gathered from the ranks' blocks,
// no degrees of freedom). The single-board block_solve() is the one-rank case of the same code.
//
// Thread contract: block_solve() uses the board exclusively for its duration.
// block_solve(group, ...) is collective over `group`: every rank calls it at the same time with
// the same arguments (its own board), from the one thread that uses that rank's Collective; a
// failure on one rank's board (or a rank's bad input) becomes the same common::Error on every
// rank, naming the rank and its board (the group's label, set to "board SERIAL" if empty), and
// options.timeout bounds the whole job, board work and collectives.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/block_solve_summary.hpp"
#include "kelvin/runtime/collective.hpp"
#include "kelvin/runtime/damped_ggn.hpp"
#include "kelvin/runtime/solve.hpp"

namespace kelvin::runtime {

enum class BlockBackend {
  kBoard,    // diagonal blocks solved on the board
  kDigital,  // diagonal blocks solved with Eigen's Cholesky: the reference and fallback
};

// A block's acquisition where BlockSolveOptions::block leaves it unset: a short solve (4
// batches of 25 relaxation times, no auto-ranging), because the preconditioner needs a few
// percent, not more.
inline constexpr int kBlockBatches = 4;
inline constexpr double kBlockBatchRelaxationTimes = 25.0;
inline constexpr bool kBlockAutoRange = false;

struct BlockSolveOptions {
  // Stop when ||b - A x|| <= tolerance * ||b||. Default 1e-3; range (0, 1).
  double tolerance = 1e-3;
  // Outer iterations at most. Default 200.
  int max_iterations = 200;
  BlockBackend backend = BlockBackend::kBoard;
  // Block size; 0 (default) means the board's cell count (8 for the digital backend without a
  // board).
  std::uint32_t block_size = 0;
  // Options of each block solve on the board; batches, batch_relaxation_times and auto_range
  // left unset take the short defaults above. Its tolerance, max_iterations, block_size and
  // timeout are not used (this struct's are).
  SolveOptions block;
  // Total deadline. Default 600 s.
  std::chrono::milliseconds timeout = std::chrono::seconds(600);

  // Throws common::Error(kInvalidArgument) naming the first bad field.
  void validate() const;
};

struct BlockSolveResult {
  Eigen::VectorXd x;
  // Per component, an estimate of |x - A^-1 b|: |M^-1 r| for the final residual r = b - A x
  // (computed digitally) and M the block-Jacobi preconditioner with its blocks solved by
  // Cholesky. Not a spread over repeats (the outer loop is deterministic given the block
  // answers, and no degrees of freedom apply): the true error e = A^-1 r satisfies
  // ||e||_M / ||M^-1 r||_M in [1 / lambda_max, 1 / lambda_min] of M^-1 A, so it is close when
  // the blocks capture A (strong coupling between blocks widens that range).
  Eigen::VectorXd error_estimate;
  BlockSolveSummary summary;
};

// A symmetric positive definite, any size. `board` may be null only for the digital backend.
// Throws common::Error: kInvalidArgument for bad input (as solve()), kTimeout when the deadline
// passes; not converging within max_iterations is reported in the summary, not thrown.
BlockSolveResult block_solve(driver::ResonatorBoard* board, const Eigen::MatrixXd& A,
                             const Eigen::VectorXd& b, const BlockSolveOptions& options = {});
// The same for a sparse A (what N = 10,000 and beyond needs: a dense 10,000 x 10,000 matrix is
// 800 MB). Only the diagonal blocks are made dense, to be programmed; products with A stay
// sparse. Symmetry is checked on the stored entries; the energy ledger's GPU comparison is the
// same preconditioned CG done digitally (a sparse direct solve's cost depends on fill-in).
BlockSolveResult block_solve(driver::ResonatorBoard* board, const Eigen::SparseMatrix<double>& A,
                             const Eigen::VectorXd& b, const BlockSolveOptions& options = {});
// The natural gradient (F + lambda I)^-1 g for F = J^T H J never formed (damped_ggn.hpp): the
// blocks J_b^T H J_b + lambda I go to the board, products stay factored. GPU comparison: forming
// F and a Cholesky solve.
BlockSolveResult block_solve(driver::ResonatorBoard* board, const DampedGgn& A,
                             const Eigen::VectorXd& g, const BlockSolveOptions& options = {});

// The same three, spread over the ranks of `group` (see the file comment), each rank with its
// own board (null only for the digital backend). The result's x and error_estimate are the same
// on every rank; its summary's job block is this rank's board's, with the group's figures in
// summary.scale_out. Throws as above (the same error on every rank), and kInvalidArgument on
// every rank when one rank's A, b or options differ from rank 0's, naming that rank.
BlockSolveResult block_solve(Collective& group, driver::ResonatorBoard* board,
                             const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                             const BlockSolveOptions& options = {});
BlockSolveResult block_solve(Collective& group, driver::ResonatorBoard* board,
                             const Eigen::SparseMatrix<double>& A, const Eigen::VectorXd& b,
                             const BlockSolveOptions& options = {});
BlockSolveResult block_solve(Collective& group, driver::ResonatorBoard* board, const DampedGgn& A,
                             const Eigen::VectorXd& g, const BlockSolveOptions& options = {});

}  // namespace kelvin::runtime
