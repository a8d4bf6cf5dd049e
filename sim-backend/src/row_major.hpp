// Internal to kelvin_sim_backend: dense matrices copied into row-major arrays for the emulator's
// scalar hot loops, whose fixed summation order keeps the output bit-identical across builds.
//
// Thread contract: a pure function; safe from any thread.
#pragma once

#include <cstddef>
#include <vector>

#include <Eigen/Core>

namespace kelvin::sim_backend::detail {

inline std::vector<double> row_major(const Eigen::MatrixXd& m) {
  std::vector<double> out(static_cast<std::size_t>(m.size()));
  std::size_t k = 0;
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      out[k++] = m(i, j);
  }
  return out;
}

}  // namespace kelvin::sim_backend::detail
