// lattice_boltzmann_model(): the Boltzmann machine `kelvin train-ebm` builds from a visible and a
// hidden count, laid out on a compact lattice region with visible and hidden nodes on the two
// checkerboard colours, every lattice edge between model nodes a trainable model edge.
#include "kelvin/runtime/pbit/lattice_boltzmann_model.hpp"

#include <cmath>
#include <set>
#include <utility>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/firmware_protocol/pbit_lattice.hpp"
#include "kelvin/testing/errors.hpp"

namespace kelvin::runtime {
namespace {

using common::ErrorKind;
using kelvin::testing::message_of;

driver::PbitDescription lattice(std::uint32_t rows, std::uint32_t cols, std::uint32_t degree) {
  driver::PbitDescription d;
  d.rows = rows;
  d.cols = cols;
  d.degree = degree;
  return d;
}

std::uint32_t colour(std::uint32_t node, std::uint32_t cols) {
  return (node / cols + node % cols) % 2;
}

// Every lattice edge between two placed nodes, as a set of model-node pairs (i < j).
std::set<std::pair<std::uint32_t, std::uint32_t>> lattice_edges_among(
    const BoltzmannModel& m, const driver::PbitDescription& d) {
  const auto l = firmware_protocol::make_pbit_lattice(d.rows, d.cols, d.degree);
  std::set<std::pair<std::uint32_t, std::uint32_t>> out;
  for (std::uint32_t a = 0; a < m.nodes; ++a)
    for (std::uint32_t b = a + 1; b < m.nodes; ++b)
      if (l.edge_index(m.placement[a], m.placement[b]))
        out.emplace(a, b);
  return out;
}

std::set<std::pair<std::uint32_t, std::uint32_t>> model_edges(const BoltzmannModel& m) {
  std::set<std::pair<std::uint32_t, std::uint32_t>> out;
  for (const auto& e : m.edges) {
    EXPECT_LT(e.i, e.j);
    EXPECT_TRUE(e.trainable);
    out.emplace(e.i, e.j);
  }
  return out;
}

TEST(LatticeBoltzmannModel, EqualCountsGiveAnRbmOnTheTwoColours) {
  const auto d = lattice(12, 12, 12);
  const BoltzmannModel m = lattice_boltzmann_model(d, 6, 6);
  ASSERT_EQ(m.nodes, 12u);
  EXPECT_EQ(m.nodes_with(NodeRole::kVisible), (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(m.nodes_with(NodeRole::kHidden).size(), 6u);
  // The most compact square: 4 columns, 3 rows in the top-left corner.
  for (std::uint32_t k = 0; k < m.nodes; ++k) {
    EXPECT_LT(m.placement[k] % 12, 4u);
    EXPECT_LT(m.placement[k] / 12, 3u);
    EXPECT_EQ(colour(m.placement[k], 12), k < 6 ? 0u : 1u) << "node " << k;
  }
  EXPECT_EQ(model_edges(m), lattice_edges_among(m, d));
  EXPECT_EQ(m.edges.size(), 17u);  // a 3 x 4 grid: 3 x 3 + 2 x 4 nearest-neighbour edges
  for (const auto& e : m.edges)
    EXPECT_NE(m.roles[e.i], m.roles[e.j]) << "edge (" << e.i << ", " << e.j << ")";
}

TEST(LatticeBoltzmannModel, SurplusVisibleNodesFillTheHiddenColourAroundEvenlySpacedHidden) {
  const auto d = lattice(12, 12, 12);
  const BoltzmannModel m = lattice_boltzmann_model(d, 14, 2);  // 4 x 4: 8 + 8 positions
  ASSERT_EQ(m.nodes, 16u);
  std::set<std::uint32_t> used(m.placement.begin(), m.placement.end());
  EXPECT_EQ(used.size(), 16u);
  for (std::uint32_t k = 14; k < 16; ++k)
    EXPECT_EQ(colour(m.placement[k], 12), 1u);
  // Visible positions ascend (data column k = model node k in row-major order).
  for (std::uint32_t k = 1; k < 14; ++k)
    EXPECT_LT(m.placement[k - 1], m.placement[k]);
  // Evenly spaced: colour-1 positions (2k + 1) 8 / 4 = 2 and 6 of the 8 in row-major order,
  // (row 1, col 0) and (row 3, col 0).
  EXPECT_EQ(m.placement[14], 1u * 12u + 0u);
  EXPECT_EQ(m.placement[15], 3u * 12u + 0u);
  EXPECT_EQ(model_edges(m), lattice_edges_among(m, d));
}

TEST(LatticeBoltzmannModel, SurplusHiddenNodesTakeTheVisibleColoursRest) {
  const auto d = lattice(12, 12, 12);
  const BoltzmannModel m = lattice_boltzmann_model(d, 2, 7);  // 3 x 3: 5 + 4 positions
  ASSERT_EQ(m.nodes, 9u);
  for (std::uint32_t k = 0; k < 2; ++k)
    EXPECT_EQ(colour(m.placement[k], 12), 0u);
  EXPECT_EQ(model_edges(m), lattice_edges_among(m, d));
  EXPECT_EQ(m.edges.size(), 12u);  // a 3 x 3 grid
}

TEST(LatticeBoltzmannModel, AWideRegionUsesTheLongLatticeJumps) {
  // 2 rows of 10 on a degree-8 lattice: besides the grid, the (4, 1) jumps join the rows.
  const auto d = lattice(12, 12, 8);
  LatticeBoltzmannOptions o;
  o.width = 10;
  const BoltzmannModel m = lattice_boltzmann_model(d, 10, 10, o);
  for (const std::uint32_t p : m.placement)
    EXPECT_LT(p / 12, 2u);
  EXPECT_EQ(model_edges(m), lattice_edges_among(m, d));
  EXPECT_GT(m.edges.size(), 9u * 2u + 10u);
}

TEST(LatticeBoltzmannModel, StartsAtTheDataIndependentModelWithSmallSeededWeights) {
  const auto d = lattice(12, 12, 12);
  LatticeBoltzmannOptions o;
  o.visible_mean = {0.5, -0.2, 1.0, -1.0};
  o.beta = 2.0;
  o.initial_weight = 0.3;
  const BoltzmannModel m = lattice_boltzmann_model(d, 4, 4, o);
  ASSERT_EQ(m.bias.size(), 8u);
  EXPECT_DOUBLE_EQ(m.bias[0], std::atanh(0.5) / 2.0);
  EXPECT_DOUBLE_EQ(m.bias[1], std::atanh(-0.2) / 2.0);
  EXPECT_DOUBLE_EQ(m.bias[2], std::atanh(0.9) / 2.0);  // clipped: a finite start
  EXPECT_DOUBLE_EQ(m.bias[3], std::atanh(-0.9) / 2.0);
  for (std::uint32_t k = 4; k < 8; ++k)
    EXPECT_EQ(m.bias[k], 0.0);
  bool any_nonzero = false;
  for (const auto& e : m.edges) {
    EXPECT_LE(std::abs(e.weight), 0.3);
    any_nonzero = any_nonzero || e.weight != 0.0;
  }
  EXPECT_TRUE(any_nonzero);
  const BoltzmannModel again = lattice_boltzmann_model(d, 4, 4, o);
  o.seed = 2;
  const BoltzmannModel other = lattice_boltzmann_model(d, 4, 4, o);
  ASSERT_EQ(again.edges.size(), m.edges.size());
  bool differs = false;
  for (std::size_t k = 0; k < m.edges.size(); ++k) {
    EXPECT_EQ(again.edges[k].weight, m.edges[k].weight);
    differs = differs || other.edges[k].weight != m.edges[k].weight;
  }
  EXPECT_TRUE(differs);
}

TEST(LatticeBoltzmannModel, RefusesWhatCannotBeBuiltNamingIt) {
  const auto d = lattice(12, 12, 12);
  EXPECT_NE(message_of([&] { lattice_boltzmann_model(d, 0, 4); }, ErrorKind::kInvalidArgument)
                .find("at least one visible node"),
            std::string::npos);
  EXPECT_NE(message_of([&] { lattice_boltzmann_model(d, 100, 100); }, ErrorKind::kNotSupported)
                .find("100 visible + 100 hidden nodes need 17 rows of 12 columns; the lattice "
                      "is 12 x 12"),
            std::string::npos);
  LatticeBoltzmannOptions wide;
  wide.width = 13;
  EXPECT_NE(message_of([&] { lattice_boltzmann_model(d, 4, 4, wide); }, ErrorKind::kInvalidArgument)
                .find("width = 13"),
            std::string::npos);
  LatticeBoltzmannOptions means;
  means.visible_mean = {0.1, 0.2};
  EXPECT_NE(
      message_of([&] { lattice_boltzmann_model(d, 3, 1, means); }, ErrorKind::kInvalidArgument)
          .find("visible_mean has 2 entries for 3 visible nodes"),
      std::string::npos);
  means.visible_mean = {0.1, 1.5, 0.0};
  EXPECT_NE(
      message_of([&] { lattice_boltzmann_model(d, 3, 1, means); }, ErrorKind::kInvalidArgument)
          .find("visible_mean[1] = 1.5"),
      std::string::npos);
}

}  // namespace
}  // namespace kelvin::runtime
