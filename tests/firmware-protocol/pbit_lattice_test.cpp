// The p-bit lattice geometry shared by host and board (kelvin/firmware_protocol/pbit_lattice.hpp).
#include "kelvin/firmware_protocol/pbit_lattice.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <stdexcept>
#include <utility>

namespace kelvin::firmware_protocol {
namespace {

TEST(PbitLattice, ForwardJumpsAreTwoRotationsPerGenerator) {
  const auto jumps = PbitLattice::forward_jumps(12);
  ASSERT_EQ(jumps.size(), 6u);
  // (0,1) -> (0,1), (1,0); (4,1) -> (4,1), (-1,4); (10,9) -> (10,9), (-9,10).
  const std::pair<int, int> expected[] = {{0, 1}, {1, 0}, {4, 1}, {-1, 4}, {10, 9}, {-9, 10}};
  for (std::size_t k = 0; k < jumps.size(); ++k) {
    EXPECT_EQ(jumps[k].dx, expected[k].first) << k;
    EXPECT_EQ(jumps[k].dy, expected[k].second) << k;
  }
  EXPECT_EQ(PbitLattice::forward_jumps(8).size(), 4u);
  EXPECT_EQ(PbitLattice::forward_jumps(16).size(), 8u);
  EXPECT_TRUE(PbitLattice::forward_jumps(10).empty());
}

TEST(PbitLattice, BulkNodesHaveTheFullDegree) {
  for (const std::uint32_t degree : {8u, 12u, 16u}) {
    const PbitLattice lattice = make_pbit_lattice(40, 40, degree);
    // Node (20, 20) is at least 14 from every border: all jumps stay inside.
    EXPECT_EQ(lattice.neighbours(20 * 40 + 20).size(), degree) << degree;
    // Open boundaries: a corner loses the jumps that would leave the grid.
    EXPECT_LT(lattice.neighbours(0).size(), degree);
  }
}

TEST(PbitLattice, EveryEdgeJoinsTheTwoColours) {
  const PbitLattice lattice = make_pbit_lattice(33, 29, 16);
  for (const auto& [u, v] : lattice.edges()) {
    EXPECT_NE(lattice.colour(u), lattice.colour(v)) << u << "-" << v;
    const int dr = static_cast<int>(v / 29) - static_cast<int>(u / 29);
    const int dc = static_cast<int>(v % 29) - static_cast<int>(u % 29);
    EXPECT_EQ((std::abs(dr) + std::abs(dc)) % 2, 1);
  }
}

TEST(PbitLattice, EdgesAreInCanonicalOrderAndUnique) {
  const PbitLattice lattice = make_pbit_lattice(3, 4, 8);
  // 3x4 with G8: (4,1) and (-1,4) never fit, so it is the nearest-neighbour grid: for each node
  // in row-major order, first the edge down (0,1), then the edge right (1,0).
  const std::vector<std::pair<std::uint32_t, std::uint32_t>> expected = {
      {0, 4}, {0, 1}, {1, 5},  {1, 2}, {2, 6},  {2, 3}, {3, 7},  {4, 8},  {4, 5},
      {5, 9}, {5, 6}, {6, 10}, {6, 7}, {7, 11}, {8, 9}, {9, 10}, {10, 11}};
  EXPECT_EQ(lattice.edges(), expected);

  const PbitLattice big = make_pbit_lattice(70, 70, 12);
  std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
  std::uint32_t last_u = 0;
  for (const auto& [u, v] : big.edges()) {
    EXPECT_LT(u, v);
    EXPECT_GE(u, last_u);  // grouped by source node, row-major
    last_u = u;
    EXPECT_TRUE(seen.insert({u, v}).second) << u << "-" << v;
  }
  EXPECT_EQ(big.edges().size(), 26088u);
}

TEST(PbitLattice, EdgeLookupWorksInEitherOrder) {
  const PbitLattice lattice = make_pbit_lattice(20, 20, 12);
  for (std::uint32_t e = 0; e < lattice.edges().size(); ++e) {
    const auto [u, v] = lattice.edges()[e];
    ASSERT_EQ(lattice.edge_index(u, v), e);
    ASSERT_EQ(lattice.edge_index(v, u), e);
  }
  EXPECT_FALSE(lattice.edge_index(0, 2));  // (2, 0) is not a jump
  EXPECT_FALSE(lattice.edge_index(0, 0));
  EXPECT_FALSE(lattice.edge_index(0, 400));                                 // outside the grid
  EXPECT_EQ(lattice.edge_index(0, 4 + 20), lattice.edge_index(4 + 20, 0));  // jump (4, 1)
  EXPECT_TRUE(lattice.edge_index(0, 4 + 20));
}

TEST(PbitLattice, BadSizesAndDegreesAreRefused) {
  EXPECT_THROW(make_pbit_lattice(0, 4, 8), std::invalid_argument);
  EXPECT_THROW(make_pbit_lattice(4, 257, 8), std::invalid_argument);
  EXPECT_THROW(make_pbit_lattice(4, 4, 10), std::invalid_argument);
  EXPECT_NO_THROW(make_pbit_lattice(1, 1, 16));
  EXPECT_TRUE(make_pbit_lattice(1, 1, 16).edges().empty());
}

}  // namespace
}  // namespace kelvin::firmware_protocol
