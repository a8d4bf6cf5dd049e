// A Boltzmann machine laid out on a compact region of the p-bit board's lattice, ready for the
// learner (boltzmann_learning.hpp): what `kelvin train-ebm` trains when it is only told how many
// visible and hidden nodes it wants.
//
// Layout: the region is the first ceil(n / width) rows of a `width`-column block in the
// lattice's top-left corner (n = visible + hidden positions, row-major, the last row possibly
// partial). The lattice is bipartite by checkerboard colour (row + col) % 2, so the model puts
// the visible nodes on colour 0 and the hidden nodes on colour 1, as far as the counts allow: an
// RBM, whose every edge joins a visible and a hidden node. When one role has more nodes than its
// colour has positions, the other role takes evenly spaced positions of its own colour and the
// surplus nodes fill the rest (those few edges then join two nodes of the same role; the model is
// still bipartite). Every lattice edge between two model nodes is a trainable model edge.
//
// Numbering: model nodes 0 .. visible - 1 are the visible nodes and visible .. n - 1 the hidden
// ones, each in row-major order of their lattice positions, so column k of a data example is
// model node k. placement[k] is the lattice node of model node k (copy 0).
//
// Initial parameters: weights uniform in [-initial_weight, initial_weight] from `seed`; hidden
// biases 0; visible biases 0, or with visible_mean given b_k = atanh(m_k) / beta with m_k clipped
// to [-0.9, 0.9], the independent-node model of the data (the usual start of RBM training).
//
// Thread contract: pure function of its arguments; safe from any thread.
#pragma once

#include <cstdint>
#include <vector>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/runtime/pbit/boltzmann_model.hpp"

namespace kelvin::runtime {

struct LatticeBoltzmannOptions {
  // Columns of the region. Default 0: ceil(sqrt(visible + hidden)) (the most compact square),
  // capped at the lattice's columns. Range [0, lattice columns].
  std::uint32_t width = 0;
  // Half-width of the uniform initial weights, in coupling units. Default 0.25 (below half a
  // code: the first rounding to nearest writes zeros, stochastic rounding a few +-1). Range
  // [0, 100].
  double initial_weight = 0.25;
  // Seed of the initial weights. Default 1.
  std::uint64_t seed = 1;
  // Per visible node, the data mean of s in [-1, 1] (model order). Default empty: biases 0.
  std::vector<double> visible_mean;
  // Inverse temperature the visible biases are set for (b = atanh(m) / beta). Default 1; > 0.
  double beta = 1.0;

  // Throws common::Error(kInvalidArgument) naming the first bad field.
  void validate() const;
};

// The model; throws common::Error with kInvalidArgument for bad options, no visible node, or a
// visible_mean of the wrong size, and kNotSupported when the region does not fit the lattice
// ("12 x 30 nodes do not fit the 12 x 12 lattice").
BoltzmannModel lattice_boltzmann_model(const driver::PbitDescription& board, std::uint32_t visible,
                                       std::uint32_t hidden,
                                       const LatticeBoltzmannOptions& options = {});

}  // namespace kelvin::runtime
