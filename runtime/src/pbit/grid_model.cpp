// grid_model() and strip_owner() (partitioned_sampling.hpp).
#include <fmt/format.h>

#include "boltzmann_detail.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/runtime/pbit/partitioned_sampling.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

IsingModel grid_model(std::uint32_t rows, std::uint32_t cols, int coupling, int bias,
                      std::uint64_t seed) {
  if (rows == 0 || cols == 0 || rows > 4096 || cols > 4096 || coupling < 1 || bias < 0) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("grid model: rows = {}, cols = {} (1..4096), coupling = {} (>= 1), "
                            "bias = {} (>= 0)",
                            rows, cols, coupling, bias));
  }
  std::uint64_t state = seed;
  const auto draw = [&](std::uint64_t n) { return (state = detail::splitmix64(state)) % n; };
  IsingModel m;
  m.nodes = rows * cols;
  for (std::uint32_t r = 0; r < rows; ++r) {
    for (std::uint32_t c = 0; c < cols; ++c) {
      const std::uint32_t i = r * cols + c;
      for (const std::uint32_t j : {c + 1 < cols ? i + 1 : i, r + 1 < rows ? i + cols : i}) {
        if (j == i)
          continue;
        const auto magnitude = static_cast<int>(draw(static_cast<std::uint64_t>(coupling))) + 1;
        m.edges.emplace_back(i, j, draw(2) ? magnitude : -magnitude);
      }
    }
  }
  for (std::uint32_t i = 0; i < m.nodes; ++i)
    m.bias.push_back(static_cast<int>(draw(static_cast<std::uint64_t>(2 * bias + 1))) - bias);
  return m;
}

std::vector<int> strip_owner(std::uint32_t rows, std::uint32_t cols, int ranks) {
  if (ranks < 1 || static_cast<std::uint32_t>(ranks) > rows) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("strips: {} ranks for {} rows (1..rows)", ranks, rows));
  }
  std::vector<int> owner(std::size_t{rows} * cols);
  for (std::uint32_t r = 0; r < rows; ++r) {
    for (std::uint32_t c = 0; c < cols; ++c)
      owner[std::size_t{r} * cols + c] = static_cast<int>(std::uint64_t{r} * ranks / rows);
  }
  return owner;
}

}  // namespace kelvin::runtime
