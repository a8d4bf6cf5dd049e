// A Boltzmann machine for the p-bit board, as the learner (boltzmann_learning.hpp) trains it:
// nodes with roles (visible, hidden, input), sparse edges with host floating-point weights in
// the board's coupling units, biases, which parameters are trainable, and optionally where copy 0
// sits on the lattice.
//
// The law is P(s) ~ exp(beta (sum_e w_e s_i s_j + sum_i b_i s_i)), s in {-1, +1}. Weights and
// biases are in the board's coupling units ("J"): code 1 is one unit, so the board realizes a
// weight by rounding it to an integer code (capped at the board's |J| cap, 6 on the emulator;
// biases in the bias register's range, [-127, 127] on the emulator).
//
// Roles:
//   kVisible  clamped to the data in the positive (clamped) phase, free in the negative phase;
//   kHidden   latent, always sampled;
//   kInput    clamped in BOTH phases (conditioning, e.g. DTM's x_t).
//
// Thread contract: plain value types; pure member functions, safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kelvin::runtime {

enum class NodeRole : std::uint8_t { kVisible, kHidden, kInput };
const char* to_string(NodeRole role) noexcept;  // "visible", "hidden", "input"

struct BoltzmannModel {
  struct Edge {
    std::uint32_t i = 0, j = 0;
    double weight = 0.0;  // coupling units (board codes before rounding)
    bool trainable = true;
  };
  std::uint32_t nodes = 0;
  std::vector<NodeRole> roles;  // one per node
  std::vector<Edge> edges;
  std::vector<double> bias;          // one per node (empty: zeros)
  std::vector<bool> bias_trainable;  // empty: every non-input node trainable
  // model node -> lattice node of copy 0 (every edge must be a lattice edge); empty: placed with
  // embed_model(). Copies 1.. are translations of copy 0 across the lattice.
  std::vector<std::uint32_t> placement;

  // The nodes with `role`, ascending.
  std::vector<std::uint32_t> nodes_with(NodeRole role) const;
  // Bias of node i (0 when `bias` is empty).
  double bias_of(std::uint32_t i) const { return bias.empty() ? 0.0 : bias[i]; }
  // Whether node i's bias is trained (bias_trainable[i], or by default: not an input node).
  bool bias_is_trainable(std::uint32_t i) const;
  // Throws common::Error(kInvalidArgument) naming the defect: no nodes, roles / bias /
  // bias_trainable / placement of the wrong size, an endpoint >= nodes, a self loop, an edge
  // listed twice (either order), a NaN or infinite weight or bias, a placement listing a lattice
  // node twice, no visible node.
  void validate() const;
};

}  // namespace kelvin::runtime
