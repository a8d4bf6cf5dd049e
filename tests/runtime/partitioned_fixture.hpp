// Shared by the partitioned-sampling tests (tests/runtime with thread groups, tests/mpi under
// mpirun): the small grid model whose exact law is known, and the comparison of a result with
// it in units of the result's own between-chain standard errors.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <tuple>

#include <fmt/format.h>

#include "kelvin/runtime/pbit/partitioned_sampling.hpp"
#include "pbit_exact_law.hpp"

namespace kelvin::runtime::testing {

// A 4 x 5 grid (20 nodes, 31 edges; J in {-2, -1, 1, 2}, b in [-1, 1]) cut into two strips of
// two rows: each strip (10 nodes) fits its lattice as written on a 32 x 5 board, 16 times side
// by side. beta = 0.375 (code 96, exact) keeps the correlations well inside (-1, 1).
inline constexpr std::uint32_t kGridRows = 4;
inline constexpr std::uint32_t kGridCols = 5;
inline constexpr double kGridBeta = 0.375;
inline IsingModel small_grid() {
  return grid_model(kGridRows, kGridCols, 2, 1, 7);
}
inline std::string small_board_uri(int rank) {
  return fmt::format("sim:pbit?rows=32&cols=5&degree=8&seed={}", rank + 1);
}

// How far an estimate is from the exact law: the largest |estimate - exact| / stderr over every
// mean and edge correlation (a Student-t variable with chains - 1 dof when the estimate is
// unbiased), which quantity it is, and the RMS of the errors themselves.
struct Agreement {
  double max_t = 0.0;
  std::string worst;
  double rms_error = 0.0;
  double max_t_means = 0.0;  // over the means only
  double rms_error_means = 0.0;
};

inline Agreement agreement(const PartitionedSamplingResult& r, const ExactMoments& exact) {
  Agreement a;
  double squares = 0.0;
  std::size_t count = 0;
  const auto visit = [&](double estimate, double se, double truth, const std::string& name) {
    const double t = std::abs(estimate - truth) / se;
    if (!(t <= a.max_t)) {
      a.max_t = t;
      a.worst = name;
    }
    squares += (estimate - truth) * (estimate - truth);
    ++count;
  };
  for (std::size_t i = 0; i < r.mean.size(); ++i)
    visit(r.mean[i], r.mean_stderr[i], exact.mean[i], fmt::format("mean {}", i));
  a.max_t_means = a.max_t;
  a.rms_error_means = std::sqrt(squares / static_cast<double>(count));
  for (std::size_t e = 0; e < r.edge_correlations.size(); ++e) {
    const auto& [i, j, c] = r.edge_correlations[e];
    visit(c, r.edge_correlation_stderr[e], exact.correlation[e],
          fmt::format("correlation ({}, {})", i, j));
  }
  a.rms_error = std::sqrt(squares / static_cast<double>(count));
  return a;
}

}  // namespace kelvin::runtime::testing
