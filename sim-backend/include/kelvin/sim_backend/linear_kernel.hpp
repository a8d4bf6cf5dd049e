// The hot loop of the resonator board's linear steps: next = clamp(Phi z + c + L xi), with its
// matrices in a panel layout that lets several rows be summed side by side in vector registers
// while each row keeps the board spec's summation order (resonator_steppers.hpp): its products
// added one column after the other, column 0 first, starting at 0.0, Phi z + c first, L xi
// added after, then the rails. Every lane of a vector does exactly the scalar sum of its row, in
// the same order and with separately rounded products and sums (no FMA: the library is built with
// -ffp-contract=off), so the output is bit-identical to a row-by-row scalar loop on every
// instruction set (SSE2, AVX2, AVX-512; picked once at start-up) and at every optimization level.
//
// Structure of L is used exactly: columns that are 0 in every row of a 32-row group (the upper
// triangle of a Cholesky factor, the off-diagonals of a diagonal one) are skipped. A skipped term
// is l * xi = +-0 with finite xi, and a sum that starts at +0.0 is never -0.0, so adding it would
// change nothing. Phi is always summed over every column (the RLC currents are not bounded).
//
// Thread contract: PanelMatrix is a value; apply_linear() only reads its inputs and writes `next`,
// so calls on distinct outputs are safe from any thread.
#pragma once

#include <cstddef>
#include <vector>

#include <Eigen/Core>

namespace kelvin::sim_backend {

// Rows summed side by side: 4 vectors of 8 doubles.
inline constexpr std::size_t kPanelGroupRows = 32;

// A rows x cols matrix in groups of kPanelGroupRows rows; within a group, column by column, the
// group's rows of that column (rows past the matrix's last are 0). Columns outside
// [col_begin[g], col_end[g]) are 0 in every row of group g.
struct PanelMatrix {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<double> data;  // groups * cols * kPanelGroupRows
  std::vector<std::size_t> col_begin, col_end;

  std::size_t groups() const noexcept { return col_begin.size(); }
  // Rows rounded up to whole groups: the size of the padded vectors below.
  std::size_t padded_rows() const noexcept { return groups() * kPanelGroupRows; }
};

// `m` in the panel layout; with trim_zero_columns, each group's column range is narrowed to the
// columns holding a nonzero value (only for matrices whose vector is always finite).
PanelMatrix to_panels(const Eigen::MatrixXd& m, bool trim_zero_columns);

// One step. phi: dim x dim; factor: dim x dim or null (no noise); offset, lo, hi and next:
// padded_rows() values (lo/hi are the rails of each row, -inf/+inf for none); z and xi: dim
// values. next[i] = clamp((sum_j phi_ij z_j + offset_i) + sum_j l_ij xi_j, lo_i, hi_i), each sum
// from column 0 up, starting at 0.0, as std::clamp does it (a NaN passes through).
struct LinearKernelArgs {
  const PanelMatrix* phi = nullptr;
  const PanelMatrix* factor = nullptr;
  const double* offset = nullptr;
  const double* lo = nullptr;
  const double* hi = nullptr;
  const double* z = nullptr;
  const double* xi = nullptr;
  double* next = nullptr;
};
void apply_linear(const LinearKernelArgs& args);

// The instruction set apply_linear() runs with on this machine ("avx512f", "avx2" or "sse2").
const char* linear_kernel_isa() noexcept;

}  // namespace kelvin::sim_backend
