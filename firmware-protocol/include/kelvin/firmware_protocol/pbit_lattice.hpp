// Geometry of the p-bit board's lattice: which nodes are coupled, and the canonical order in
// which ProgramLattice.weights_i8, SamplingResults.edge_sums and host programs list the edges.
// It is part of the wire contract, so host and board share this one implementation.
//
// Nodes form a rows x cols grid (open boundaries, no wrap); node index = row * cols + col. An
// edge joins (row, col) and (row + dy, col + dx) for every jump (dx, dy) in the four rotations
// (dx, dy) -> (-dy, dx) of the degree's generators:
//     G8  = {(0, 1), (4, 1)}
//     G12 = G8  + {(10, 9)}
//     G16 = G12 + {(11, 14)}
// Every jump has odd Manhattan length |dx| + |dy|, so each edge joins the two checkerboard
// colours (row + col) % 2: the lattice is bipartite, which is what makes two-colour block Gibbs
// sampling exact. In the bulk every node has `degree` neighbours (4 rotations x generators).
//
// Canonical edge order: for each node u in row-major order, for each generator in the order
// above, for each of its two "forward" rotations (dy > 0, or dy == 0 and dx > 0) in rotation
// order starting from the generator itself, the edge (u, u + jump) if the target lies inside
// the grid. Each undirected edge is listed exactly once, as (u, v) with u < v.
//
// Thread contract: PbitLattice is an immutable value after construction; its const members
// and make_pbit_lattice() are safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace kelvin::firmware_protocol {

struct PbitJump {
  int dx = 0;  // column offset
  int dy = 0;  // row offset
};

struct PbitNeighbour {
  std::uint32_t node = 0;
  std::uint32_t edge = 0;  // index into PbitLattice::edges
};

inline constexpr std::uint32_t kPbitMinSide = 1;
inline constexpr std::uint32_t kPbitMaxSide = 256;

class PbitLattice {
 public:
  std::uint32_t rows() const noexcept { return rows_; }
  std::uint32_t cols() const noexcept { return cols_; }
  std::uint32_t degree() const noexcept { return degree_; }
  std::uint32_t nodes() const noexcept { return rows_ * cols_; }
  std::uint32_t colour(std::uint32_t node) const noexcept {
    return (node / cols_ + node % cols_) % 2;
  }

  // Edges (u, v), u < v, in canonical order.
  const std::vector<std::pair<std::uint32_t, std::uint32_t>>& edges() const noexcept {
    return edges_;
  }
  // Neighbours of a node with the index of the joining edge, in canonical edge order.
  std::span<const PbitNeighbour> neighbours(std::uint32_t node) const noexcept {
    return {neighbours_.data() + offsets_[node], neighbours_.data() + offsets_[node + 1]};
  }
  // The index of edge (u, v) in either order; nullopt if u and v are not coupled (or out of
  // range).
  std::optional<std::uint32_t> edge_index(std::uint32_t u, std::uint32_t v) const noexcept;

  // The forward jumps of a degree in canonical order (2 per generator); empty if unsupported.
  static std::vector<PbitJump> forward_jumps(std::uint32_t degree);

 private:
  friend PbitLattice make_pbit_lattice(std::uint32_t rows, std::uint32_t cols,
                                       std::uint32_t degree);
  std::uint32_t rows_ = 0;
  std::uint32_t cols_ = 0;
  std::uint32_t degree_ = 0;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges_;
  std::vector<std::uint32_t> offsets_;  // nodes + 1 entries into neighbours_
  std::vector<PbitNeighbour> neighbours_;
};

// Builds the lattice. Throws std::invalid_argument if rows or cols are outside [1, 256] or the
// degree is not 8, 12 or 16.
PbitLattice make_pbit_lattice(std::uint32_t rows, std::uint32_t cols, std::uint32_t degree);

}  // namespace kelvin::firmware_protocol
