// Arbitrary sparse Ising models onto the p-bit board's lattice. map_to_lattice()
// (ising_model.hpp) needs a model already written in lattice terms (model node i = lattice node
// i, integer couplings); embed_model() takes any sparse model with real-valued couplings and
//   1. places it: an injective map model node -> lattice node such that every model edge joins
//      two lattice neighbours (subgraph embedding, NP-hard in general: a heuristic search with
//      randomized restarts and bounded backtracking, see EmbeddingOptions), and
//   2. quantizes it: one unit u (coupling units per code) so that the largest |J| or |b| just
//      fits its register, J_code = round(J / u), b_code = round(b / u) and the board's beta =
//      beta * u, rounded to the beta DAC. The realized law is that of the "quantized model"
//      J_q = u J_code, b_q = u b_code, beta_q = beta_code_value / u, and the report says how far
//      it is from the requested one (and which couplings rounded to 0, i.e. were lost).
//
// The lattice is bipartite (every jump has odd length), so a model with an odd cycle never
// embeds; it is refused up front, naming an edge that closes such a cycle. Two lattice nodes
// share at most two neighbours, so K_{2,3} (and anything containing it) never embeds either; the
// search reports the edge it could not place.
//
// Unused lattice nodes get bias 0 and unused lattice edges weight 0: they are free spins that
// do not touch the model, so the model's marginal law on the board is exactly the quantized one.
//
// Thread contract: embed_model() and the ModelEmbedding members are pure functions of their
// arguments (they log through the "kelvin.runtime" logger, which is thread-safe); safe from any
// thread. ModelEmbedding is a plain value type.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/driver/pbit/pbit_board.hpp"

namespace kelvin::runtime {

// P(s) ~ exp(beta (sum_edges J_ij s_i s_j + sum_i b_i s_i)), s_i in {-1, +1}, in any units.
struct SparseIsingModel {
  struct Edge {
    std::uint32_t i = 0;
    std::uint32_t j = 0;
    double weight = 0.0;  // J_ij
  };
  std::uint32_t nodes = 0;
  std::vector<Edge> edges;
  std::vector<double> bias;  // one per node, or empty for all zeros
  double beta = 1.0;         // >= 0
};

struct EmbeddingOptions {
  // Randomized attempts after the deterministic one (random start node among the highest
  // degrees, random tie-breaks between equally good lattice nodes). Default 16; range [0, 10^6].
  int restarts = 16;
  // Seed of the randomized attempts (attempt k uses seed + k). Default 1.
  std::uint64_t seed = 1;
  // Placements an attempt may undo before it gives up. Default 20000; range [0, 10^9]. Each
  // placement costs about degree^2 operations, so the default bounds an attempt to a few ms.
  std::uint64_t backtrack_budget = 20000;
  // Lattice nodes tried for the first node of each connected component (the best by free
  // neighbourhood). Default 8; range [1, 10^6].
  int root_candidates = 8;

  // Throws common::Error(kInvalidArgument) naming the first bad field.
  void validate() const;
};

// How far the realized (quantized) law is from the requested one. Weights and biases are
// compared in model units (J_q = unit * J_code); beta as realized by the board's DAC.
// A model with every J and b zero has a uniform law for any beta: it gets unit 1 and beta 1.
struct QuantizationReport {
  double unit = 0.0;               // model coupling units per code
  double weight_max_error = 0.0;   // max_e |J_q - J| / max_e |J| (0 without edges)
  double weight_norm_error = 0.0;  // ||J_q - J||_2 / ||J||_2
  double bias_max_error = 0.0;     // max_i |b_q - b| / max_i |b| (0 if all b = 0)
  double bias_norm_error = 0.0;    // ||b_q - b||_2 / ||b||_2
  double beta_board = 0.0;         // beta code / 256: the board's inverse temperature
  double beta_error = 0.0;         // |beta_board - beta * unit| / (beta * unit) (0 if beta = 0)
  std::vector<std::uint32_t> lost_edges;   // indices into model.edges whose code rounded to 0
  std::vector<std::uint32_t> lost_biases;  // nodes with b != 0 whose code rounded to 0

  // "unit 0.0833, weights 3.2% (max), biases 0.4%, beta 0.12%, 1 coupling lost"
  std::string brief() const;
};

struct ModelEmbedding {
  std::uint32_t model_nodes = 0;
  std::vector<std::uint32_t> placement;       // model node -> lattice node (injective)
  std::vector<std::uint32_t> edge_placement;  // model edge k -> lattice edge (canonical index)
  driver::LatticeProgram program;             // codes for PbitBoard::program_lattice
  std::uint32_t beta_code = 0;                // for PbitBoard::set_beta_schedule
  QuantizationReport quantization;
  bool identity_placement = false;  // the model already fit the lattice as written
  int attempts = 0;                 // search attempts used (0: identity placement)
  std::vector<std::string> warnings;

  // The model's law as the board realizes it: same nodes and edges (in the model's order) with
  // J_q, b_q and beta_q = beta_board / unit (the lost couplings stay listed, with weight 0).
  SparseIsingModel quantized_model(const SparseIsingModel& model) const;
  // <s_i> in model order from a run's per-lattice-node sums.
  std::vector<double> model_means(const driver::SamplingResult& result) const;
  // Recorded sample k of a run, in model order (+1 / -1).
  std::vector<int> model_sample(const driver::SamplingResult& result, std::uint64_t k) const;
  // A lattice-wide state (one value per lattice node) in model order.
  std::vector<int> model_state(std::span<const int> lattice_state) const;
};

// Places and quantizes `model` for `board`. Throws common::Error with
//   kInvalidArgument  bad options; no nodes or more nodes than the lattice; a bias list of the
//                     wrong size; an endpoint >= nodes; a self loop; an edge listed twice (in
//                     either order); a NaN or infinite weight, bias or beta; a negative beta;
//   kNotSupported     a node of degree above the lattice's ("model node 7 has degree 15; the
//                     lattice allows 12"), an odd cycle ("edge (3, 5) closes an odd cycle ..."),
//                     or no placement found ("edge (3, 17) cannot be placed: ...; best attempt
//                     placed 41 of 44 edges");
//   kOutOfRange       beta * unit outside the beta DAC's range or rounding to code 0 (naming it).
ModelEmbedding embed_model(const SparseIsingModel& model, const driver::PbitDescription& board,
                           const EmbeddingOptions& options = {});

}  // namespace kelvin::runtime
