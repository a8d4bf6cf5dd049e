// embed_model(): placements of sparse models onto the p-bit lattice (every model edge must land
// on a lattice edge carrying its code), refusals that name the defect, the quantization report
// against hand-computed numbers, and an end-to-end statistical check on the emulated board.
#include "kelvin/runtime/pbit/model_embedding.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"

namespace kelvin::runtime {
namespace {

using common::Error;
using common::ErrorKind;
using namespace std::chrono_literals;

driver::PbitDescription board_description(const std::string& uri) {
  return *driver::backends::open(uri)->description().pbit;
}

const driver::PbitDescription& big_board() {
  static const driver::PbitDescription d =
      board_description("sim:pbit?rows=70&cols=70&degree=12&seed=1");
  return d;
}

// The error of `fn` (kind and message); fails the test if it does not throw.
std::pair<ErrorKind, std::string> error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return {e.kind(), e.what()};
  }
  ADD_FAILURE() << "no error";
  return {ErrorKind::kDevice, ""};
}

// Relabels the model's nodes by a random permutation (model node v becomes perm[v]).
SparseIsingModel shuffled(const SparseIsingModel& m, std::uint64_t seed) {
  std::vector<std::uint32_t> perm(m.nodes);
  std::iota(perm.begin(), perm.end(), 0u);
  std::mt19937_64 rng(seed);
  std::shuffle(perm.begin(), perm.end(), rng);
  SparseIsingModel out = m;
  for (auto& e : out.edges)
    e = {perm[e.i], perm[e.j], e.weight};
  if (!m.bias.empty())
    for (std::uint32_t v = 0; v < m.nodes; ++v)
      out.bias[perm[v]] = m.bias[v];
  return out;
}

// Weights alternating in sign and size, so that codes are not all equal.
double weight_of(std::size_t k) {
  return (k % 2 ? -1.0 : 1.0) * (0.5 + 0.1 * static_cast<double>(k % 6));
}

SparseIsingModel grid_model(std::uint32_t rows, std::uint32_t cols) {
  SparseIsingModel m;
  m.nodes = rows * cols;
  for (std::uint32_t r = 0; r < rows; ++r) {
    for (std::uint32_t c = 0; c < cols; ++c) {
      const std::uint32_t v = r * cols + c;
      if (c + 1 < cols)
        m.edges.push_back({v, v + 1, weight_of(m.edges.size())});
      if (r + 1 < rows)
        m.edges.push_back({v, v + cols, weight_of(m.edges.size())});
    }
  }
  return m;
}

// Checks everything a caller relies on: an injective placement onto the lattice, each model
// edge on the lattice edge joining its endpoints' places with code round(J / unit), each bias
// code at its node's place, and nothing else programmed.
void expect_faithful(const SparseIsingModel& m, const ModelEmbedding& emb,
                     const driver::PbitDescription& d) {
  const auto lattice = firmware_protocol::make_pbit_lattice(d.rows, d.cols, d.degree);
  ASSERT_EQ(emb.placement.size(), m.nodes);
  ASSERT_EQ(emb.edge_placement.size(), m.edges.size());
  ASSERT_EQ(emb.program.weights.size(), lattice.edges().size());
  ASSERT_EQ(emb.program.biases.size(), lattice.nodes());
  std::set<std::uint32_t> places(emb.placement.begin(), emb.placement.end());
  EXPECT_EQ(places.size(), m.nodes) << "placement is not injective";
  EXPECT_LT(*places.rbegin(), lattice.nodes());
  std::vector<bool> used(lattice.edges().size(), false);
  const double u = emb.quantization.unit;
  for (std::size_t k = 0; k < m.edges.size(); ++k) {
    const auto& e = m.edges[k];
    const auto edge = lattice.edge_index(emb.placement[e.i], emb.placement[e.j]);
    ASSERT_TRUE(edge.has_value()) << "model edge (" << e.i << ", " << e.j
                                  << ") is not a lattice edge";
    EXPECT_EQ(*edge, emb.edge_placement[k]);
    EXPECT_EQ(emb.program.weights[*edge], std::llround(e.weight / u)) << "edge " << k;
    used[*edge] = true;
  }
  for (std::size_t e = 0; e < used.size(); ++e)
    if (!used[e]) {
      EXPECT_EQ(emb.program.weights[e], 0) << "lattice edge " << e << " is not the model's";
    }
  std::vector<bool> occupied(lattice.nodes(), false);
  for (std::uint32_t v = 0; v < m.nodes; ++v) {
    occupied[emb.placement[v]] = true;
    const double b = m.bias.empty() ? 0.0 : m.bias[v];
    EXPECT_EQ(emb.program.biases[emb.placement[v]], std::llround(b / u)) << "node " << v;
  }
  for (std::uint32_t x = 0; x < lattice.nodes(); ++x)
    if (!occupied[x]) {
      EXPECT_EQ(emb.program.biases[x], 0);
    }
}

TEST(ModelEmbedding, PlacesA2dGridModelWithEveryEdgeOnALatticeEdge) {
  SparseIsingModel m = grid_model(12, 12);  // row-major 12 x 12: identity does not fit 70 x 70
  const ModelEmbedding emb = embed_model(m, big_board());
  EXPECT_FALSE(emb.identity_placement);
  expect_faithful(m, emb, big_board());
  // The same grid on a tight degree-8 board of 16 x 16 nodes.
  const auto tight = board_description("sim:pbit?rows=16&cols=16&degree=8");
  const ModelEmbedding tight_emb = embed_model(grid_model(10, 10), tight);
  expect_faithful(grid_model(10, 10), tight_emb, tight);
  std::printf("[   INFO   ] 12x12 grid on 70x70/12: %d attempt(s); 10x10 on 16x16/8: %d\n",
              emb.attempts, tight_emb.attempts);
}

TEST(ModelEmbedding, PlacesAPathAndABranchingTree) {
  SparseIsingModel path;
  path.nodes = 200;
  for (std::uint32_t v = 0; v + 1 < path.nodes; ++v)
    path.edges.push_back({v, v + 1, weight_of(v)});
  path = shuffled(path, 7);
  expect_faithful(path, embed_model(path, big_board()), big_board());

  // A complete tree of branching 4 and depth 4 (341 nodes; inner nodes have degree 5).
  SparseIsingModel tree;
  tree.nodes = 1;
  std::vector<std::uint32_t> level = {0};
  for (int depth = 0; depth < 4; ++depth) {
    std::vector<std::uint32_t> next;
    for (const std::uint32_t parent : level) {
      for (int k = 0; k < 4; ++k) {
        tree.edges.push_back({parent, tree.nodes, weight_of(tree.edges.size())});
        next.push_back(tree.nodes++);
      }
    }
    level = next;
  }
  tree.bias.assign(tree.nodes, 0.0);
  tree.bias[3] = 2.5;
  const ModelEmbedding emb = embed_model(tree, big_board());
  expect_faithful(tree, emb, big_board());
  std::printf("[   INFO   ] tree of %u nodes: %d attempt(s)\n", tree.nodes, emb.attempts);
}

TEST(ModelEmbedding, PlacesARandomSparseBipartiteGraphOfDegreeAtMostFour) {
  // Random edges between two sides of 15 nodes (the lattice is bipartite, so a model with an odd
  // cycle never fits), at most 4 per node, real weights.
  std::mt19937_64 rng(11);
  SparseIsingModel m;
  m.nodes = 30;
  std::vector<int> degree(m.nodes, 0);
  std::set<std::pair<std::uint32_t, std::uint32_t>> have;
  std::uniform_int_distribution<std::uint32_t> side(0, 14);
  std::uniform_real_distribution<double> weight(-1.0, 1.0);
  for (int tries = 0; tries < 200 && m.edges.size() < 36; ++tries) {
    const std::uint32_t a = side(rng), b = 15 + side(rng);
    if (degree[a] >= 4 || degree[b] >= 4 || !have.insert({a, b}).second)
      continue;
    ++degree[a];
    ++degree[b];
    m.edges.push_back({a, b, weight(rng)});
  }
  ASSERT_EQ(m.edges.size(), 36u);
  const ModelEmbedding emb = embed_model(m, big_board());
  expect_faithful(m, emb, big_board());
  std::printf("[   INFO   ] random bipartite graph (30 nodes, 36 edges): %d attempt(s)\n",
              emb.attempts);
}

TEST(ModelEmbedding, MapsALatticeNativeModelUnchangedAndFindsItShuffled) {
  // The subgraph of the degree-12 lattice induced by the 6 x 6 block at the origin, in lattice
  // numbering: it fits as written, so it maps to itself (as map_to_lattice() would).
  const auto lattice = firmware_protocol::make_pbit_lattice(70, 70, 12);
  SparseIsingModel native;
  native.nodes = 70 * 5 + 6;  // lattice nodes 0 .. 355 (the block's last is 5 * 70 + 5)
  for (const auto& [u, v] : lattice.edges()) {
    if (u % 70 < 6 && v % 70 < 6 && u / 70 < 6 && v / 70 < 6)
      native.edges.push_back({u, v, weight_of(native.edges.size())});
  }
  const ModelEmbedding same = embed_model(native, big_board());
  EXPECT_TRUE(same.identity_placement);
  for (std::uint32_t v = 0; v < native.nodes; ++v)
    ASSERT_EQ(same.placement[v], v);
  expect_faithful(native, same, big_board());

  // The same block relabelled 0..35 and shuffled: the search has to find a copy of it.
  SparseIsingModel block;
  block.nodes = 36;
  for (const auto& e : native.edges)
    block.edges.push_back({(e.i / 70) * 6 + e.i % 70, (e.j / 70) * 6 + e.j % 70, e.weight});
  block = shuffled(block, 3);
  const ModelEmbedding found = embed_model(block, big_board());
  EXPECT_FALSE(found.identity_placement);
  expect_faithful(block, found, big_board());
  std::printf("[   INFO   ] shuffled 6x6 lattice block (%zu edges): %d attempt(s)\n",
              block.edges.size(), found.attempts);
}

TEST(ModelEmbedding, RefusesACompleteGraphNamingANodesDegree) {
  SparseIsingModel k14;
  k14.nodes = 14;
  for (std::uint32_t i = 0; i < 14; ++i)
    for (std::uint32_t j = i + 1; j < 14; ++j)
      k14.edges.push_back({i, j, 1.0});
  const auto [kind, message] = error_of([&] { embed_model(k14, big_board()); });
  EXPECT_EQ(kind, ErrorKind::kNotSupported);
  EXPECT_EQ(message, "model node 0 has degree 13; the lattice allows 12");
}

TEST(ModelEmbedding, RefusesGraphsThatCannotEmbedNamingAnEdge) {
  // An odd cycle: the lattice is bipartite.
  SparseIsingModel triangle;
  triangle.nodes = 5;
  triangle.edges = {{0, 1, 1.0}, {1, 2, 1.0}, {3, 4, 1.0}, {2, 0, 1.0}};
  auto [kind, message] = error_of([&] { embed_model(triangle, big_board()); });
  EXPECT_EQ(kind, ErrorKind::kNotSupported);
  EXPECT_EQ(message.rfind("edge (1, 2) closes an odd cycle", 0), 0u) << message;

  // K_{2,3} is bipartite with degrees <= 3, but two lattice nodes share at most two neighbours:
  // the search exhausts its attempts and names the edge its best attempt could not place (with
  // the forward check, the deepest dead end has 4 of the 6 edges placed).
  SparseIsingModel k23;
  k23.nodes = 5;
  k23.edges = {{0, 2, 1.0}, {0, 3, 1.0}, {0, 4, 1.0}, {1, 2, 1.0}, {1, 3, 1.0}, {1, 4, 1.0}};
  std::tie(kind, message) = error_of([&] { embed_model(k23, big_board(), {.restarts = 4}); });
  EXPECT_EQ(kind, ErrorKind::kNotSupported);
  EXPECT_EQ(message.rfind("edge (", 0), 0u) << message;
  EXPECT_NE(message.find(") cannot be placed: "), std::string::npos) << message;
  EXPECT_NE(message.find("best attempt placed 4 of 6 edges (5 attempts"), std::string::npos)
      << message;
  std::printf("[   INFO   ] %s\n", message.c_str());
}

TEST(ModelEmbedding, RefusesMalformedModelsNamingTheDefect) {
  SparseIsingModel m;
  m.nodes = 3;
  m.edges = {{0, 1, 1.0}, {1, 2, std::nan("")}};
  EXPECT_EQ(error_of([&] { embed_model(m, big_board()); }).second,
            "weight nan of edge (1, 2) is not finite");
  m.edges = {{0, 1, 1.0}, {1, 1, 1.0}};
  EXPECT_EQ(error_of([&] { embed_model(m, big_board()); }).second, "edge (1, 1) is a self loop");
  m.edges = {{0, 1, 1.0}, {1, 0, 2.0}};
  EXPECT_EQ(error_of([&] { embed_model(m, big_board()); }).second, "edge (1, 0) is listed twice");
  m.edges = {{0, 3, 1.0}};
  EXPECT_EQ(error_of([&] { embed_model(m, big_board()); }).first, ErrorKind::kInvalidArgument);
  m.edges = {};
  m.bias = {0.0, INFINITY, 0.0};
  EXPECT_EQ(error_of([&] { embed_model(m, big_board()); }).second,
            "bias inf of node 1 is not finite");
  m.bias = {0.0};
  EXPECT_EQ(error_of([&] { embed_model(m, big_board()); }).second,
            "1 biases for a model of 3 nodes");
  m.bias = {};
  m.beta = -1.0;
  EXPECT_EQ(error_of([&] { embed_model(m, big_board()); }).second, "beta -1 is negative");
  m.beta = 1.0;
  m.nodes = 4901;
  const auto [kind, message] = error_of([&] { embed_model(m, big_board()); });
  EXPECT_EQ(kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(message, "the model has 4901 nodes; the lattice (70x70) has 4900");
  m.nodes = 3;
  EXPECT_EQ(error_of([&] { embed_model(m, big_board(), {.restarts = -1}); }).second,
            "EmbeddingOptions.restarts = -1 is outside [0, 1000000]");
  EXPECT_EQ(error_of([&] { embed_model(m, big_board(), {.root_candidates = 0}); }).second,
            "EmbeddingOptions.root_candidates = 0 is outside [1, 1000000]");
}

TEST(ModelEmbedding, ReportsQuantizationErrorsAsComputedByHand) {
  // A lattice-native path 0-1-2-3 (identity placement). The bias 30 needs the unit 30/127 (the
  // weights alone would need 1/6 < 30/127), so:
  //   J codes: 1 / (30/127) = 4.233 -> 4,  -0.25 / (30/127) = -1.058 -> -1,  0.1 -> 0.423 -> 0
  //   b codes: 0.5 -> 2.117 -> 2,  30 -> 127
  //   J_q = {120/127, -30/127, 0}: errors {7/127, 1.75/127, 0.1}; max 0.1 / max|J| = 0.1
  //   b_q = {60/127, 0, 30, 0}: largest error 0.5 - 60/127 = 3.5/127, over max|b| = 30
  //   beta * unit = 2 * 30/127 = 0.472441 -> code round(120.94) = 121 -> beta_board 121/256
  SparseIsingModel m;
  m.nodes = 4;
  m.edges = {{0, 1, 1.0}, {1, 2, -0.25}, {2, 3, 0.1}};
  m.bias = {0.5, 0.0, 30.0, 0.0};
  m.beta = 2.0;
  const ModelEmbedding emb = embed_model(m, big_board());
  ASSERT_TRUE(emb.identity_placement);
  const QuantizationReport& q = emb.quantization;
  EXPECT_DOUBLE_EQ(q.unit, 30.0 / 127.0);
  EXPECT_EQ(emb.program.weights[emb.edge_placement[0]], 4);
  EXPECT_EQ(emb.program.weights[emb.edge_placement[1]], -1);
  EXPECT_EQ(emb.program.weights[emb.edge_placement[2]], 0);
  EXPECT_EQ(emb.program.biases[0], 2);
  EXPECT_EQ(emb.program.biases[2], 127);
  EXPECT_NEAR(q.weight_max_error, 0.1, 1e-12);
  const double wn = std::hypot(7.0 / 127, 1.75 / 127, 0.1) / std::hypot(1.0, 0.25, 0.1);
  EXPECT_NEAR(q.weight_norm_error, wn, 1e-12);
  EXPECT_NEAR(q.bias_max_error, 3.5 / 127 / 30.0, 1e-12);
  EXPECT_NEAR(q.bias_norm_error, (3.5 / 127) / std::hypot(0.5, 30.0), 1e-12);
  EXPECT_EQ(emb.beta_code, 121u);
  EXPECT_DOUBLE_EQ(q.beta_board, 121.0 / 256.0);
  EXPECT_NEAR(q.beta_error, std::abs(121.0 / 256.0 - 60.0 / 127.0) / (60.0 / 127.0), 1e-12);
  ASSERT_EQ(q.lost_edges, std::vector<std::uint32_t>{2});
  ASSERT_EQ(emb.warnings.size(), 1u);
  EXPECT_NE(emb.warnings[0].find("(2, 3) = 0.1"), std::string::npos) << emb.warnings[0];
  const SparseIsingModel qm = emb.quantized_model(m);
  EXPECT_DOUBLE_EQ(qm.edges[0].weight, 120.0 / 127.0);
  EXPECT_DOUBLE_EQ(qm.beta, (121.0 / 256.0) / (30.0 / 127.0));

  // beta out of the DAC's range either way, named.
  m.beta = 1e4;
  auto [kind, message] = error_of([&] { embed_model(m, big_board()); });
  EXPECT_EQ(kind, ErrorKind::kOutOfRange);
  EXPECT_EQ(message.rfind("beta * unit = 2362.2 (beta 10000,", 0), 0u) << message;
  m.beta = 1e-3;
  std::tie(kind, message) = error_of([&] { embed_model(m, big_board()); });
  EXPECT_EQ(kind, ErrorKind::kOutOfRange);
  EXPECT_NE(message.find("rounds to beta code 0"), std::string::npos) << message;
}

}  // namespace
}  // namespace kelvin::runtime
