#include "kelvin/firmware_protocol/pbit_lattice.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace kelvin::firmware_protocol {

std::vector<PbitJump> PbitLattice::forward_jumps(std::uint32_t degree) {
  static constexpr PbitJump kGenerators[] = {{0, 1}, {4, 1}, {10, 9}, {11, 14}};
  std::size_t generators = 0;
  switch (degree) {
    case 8:
      generators = 2;
      break;
    case 12:
      generators = 3;
      break;
    case 16:
      generators = 4;
      break;
    default:
      return {};
  }
  std::vector<PbitJump> jumps;
  for (std::size_t g = 0; g < generators; ++g) {
    PbitJump j = kGenerators[g];
    for (int rotation = 0; rotation < 4; ++rotation) {
      if (j.dy > 0 || (j.dy == 0 && j.dx > 0))
        jumps.push_back(j);
      j = PbitJump{-j.dy, j.dx};
    }
  }
  return jumps;
}

std::optional<std::uint32_t> PbitLattice::edge_index(std::uint32_t u,
                                                     std::uint32_t v) const noexcept {
  if (u >= nodes() || v >= nodes())
    return std::nullopt;
  for (const PbitNeighbour& n : neighbours(u)) {
    if (n.node == v)
      return n.edge;
  }
  return std::nullopt;
}

PbitLattice make_pbit_lattice(std::uint32_t rows, std::uint32_t cols, std::uint32_t degree) {
  if (rows < kPbitMinSide || rows > kPbitMaxSide || cols < kPbitMinSide || cols > kPbitMaxSide) {
    throw std::invalid_argument(
        fmt::format("p-bit lattice must be 1..256 x 1..256 nodes, got {}x{}", rows, cols));
  }
  const std::vector<PbitJump> jumps = PbitLattice::forward_jumps(degree);
  if (jumps.empty()) {
    throw std::invalid_argument(
        fmt::format("p-bit lattice degree must be 8, 12 or 16, got {}", degree));
  }
  PbitLattice lattice;
  lattice.rows_ = rows;
  lattice.cols_ = cols;
  lattice.degree_ = degree;
  const auto r = static_cast<int>(rows);
  const auto c = static_cast<int>(cols);
  std::vector<std::uint32_t> count(std::size_t{rows} * cols, 0);
  for (int row = 0; row < r; ++row) {
    for (int col = 0; col < c; ++col) {
      for (const PbitJump& j : jumps) {
        const int row2 = row + j.dy;
        const int col2 = col + j.dx;
        if (row2 < 0 || row2 >= r || col2 < 0 || col2 >= c)
          continue;
        const auto u = static_cast<std::uint32_t>(row * c + col);
        const auto v = static_cast<std::uint32_t>(row2 * c + col2);
        lattice.edges_.emplace_back(u, v);  // v > u: forward jumps go down or right
        ++count[u];
        ++count[v];
      }
    }
  }
  lattice.offsets_.assign(count.size() + 1, 0);
  for (std::size_t i = 0; i < count.size(); ++i)
    lattice.offsets_[i + 1] = lattice.offsets_[i] + count[i];
  lattice.neighbours_.resize(lattice.offsets_.back());
  std::vector<std::uint32_t> fill(lattice.offsets_.begin(), lattice.offsets_.end() - 1);
  for (std::uint32_t e = 0; e < lattice.edges_.size(); ++e) {
    const auto [u, v] = lattice.edges_[e];
    lattice.neighbours_[fill[u]++] = PbitNeighbour{v, e};
    lattice.neighbours_[fill[v]++] = PbitNeighbour{u, e};
  }
  // Edges are created in increasing index order, so each node's list is already sorted by edge.
  return lattice;
}

}  // namespace kelvin::firmware_protocol
