#include "kelvin/runtime/pbit/model_embedding.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_set>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "lattice_codes.hpp"
#include "placement_search.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

void EmbeddingOptions::validate() const {
  if (restarts < 0 || restarts > 1'000'000) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("EmbeddingOptions.restarts = {} is outside [0, 1000000]", restarts));
  }
  if (backtrack_budget > 1'000'000'000) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("EmbeddingOptions.backtrack_budget = {} is above 1e9", backtrack_budget));
  }
  if (root_candidates < 1 || root_candidates > 1'000'000) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("EmbeddingOptions.root_candidates = {} is outside [1, 1000000]",
                            root_candidates));
  }
}

std::string QuantizationReport::brief() const {
  std::string lost;
  if (!lost_edges.empty())
    lost += fmt::format(", {} coupling(s) lost", lost_edges.size());
  if (!lost_biases.empty())
    lost += fmt::format(", {} bias(es) lost", lost_biases.size());
  return fmt::format("unit {:.4g}, weights {:.2g}% (max), biases {:.2g}% (max), beta {:.2g}%{}",
                     unit, 100.0 * weight_max_error, 100.0 * bias_max_error, 100.0 * beta_error,
                     lost);
}

namespace {

struct Checked {
  detail::PlacementGraph graph;
  std::vector<double> bias;  // filled with zeros when the model gave none
};

Checked check_model(const SparseIsingModel& m, const firmware_protocol::PbitLattice& lattice) {
  if (m.nodes == 0)
    throw Error(ErrorKind::kInvalidArgument, "the model has no nodes");
  if (m.nodes > lattice.nodes()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("the model has {} nodes; the lattice ({}x{}) has {}", m.nodes,
                            lattice.rows(), lattice.cols(), lattice.nodes()));
  }
  if (!m.bias.empty() && m.bias.size() != m.nodes) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} biases for a model of {} nodes", m.bias.size(), m.nodes));
  }
  if (!std::isfinite(m.beta))
    throw Error(ErrorKind::kInvalidArgument, fmt::format("beta {} is not finite", m.beta));
  if (m.beta < 0.0)
    throw Error(ErrorKind::kInvalidArgument, fmt::format("beta {} is negative", m.beta));
  Checked c;
  c.bias = m.bias.empty() ? std::vector<double>(m.nodes, 0.0) : m.bias;
  for (std::uint32_t i = 0; i < m.nodes; ++i) {
    if (!std::isfinite(c.bias[i]))
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("bias {} of node {} is not finite", c.bias[i], i));
  }
  c.graph.nodes = m.nodes;
  c.graph.adjacency.resize(m.nodes);
  c.graph.edge_count = static_cast<std::uint32_t>(m.edges.size());
  std::unordered_set<std::uint64_t> seen;
  for (std::uint32_t e = 0; e < m.edges.size(); ++e) {
    const auto& [i, j, w] = m.edges[e];
    if (i >= m.nodes || j >= m.nodes) {
      throw Error(
          ErrorKind::kInvalidArgument,
          fmt::format("edge ({}, {}) names a node outside the model's {} nodes", i, j, m.nodes));
    }
    if (i == j)
      throw Error(ErrorKind::kInvalidArgument, fmt::format("edge ({}, {}) is a self loop", i, j));
    if (!std::isfinite(w)) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("weight {} of edge ({}, {}) is not finite", w, i, j));
    }
    const std::uint64_t key = (std::uint64_t{std::min(i, j)} << 32) | std::max(i, j);
    if (!seen.insert(key).second)
      throw Error(ErrorKind::kInvalidArgument, fmt::format("edge ({}, {}) is listed twice", i, j));
    c.graph.adjacency[i].emplace_back(j, e);
    c.graph.adjacency[j].emplace_back(i, e);
  }
  for (std::uint32_t v = 0; v < m.nodes; ++v) {
    if (c.graph.adjacency[v].size() > lattice.degree()) {
      throw Error(ErrorKind::kNotSupported,
                  fmt::format("model node {} has degree {}; the lattice allows {}", v,
                              c.graph.adjacency[v].size(), lattice.degree()));
    }
  }
  return c;
}

// Every lattice edge joins the two checkerboard colours, so a placement 2-colours the model:
// a model edge inside one colour class (an odd cycle) can never be placed. Finds one by BFS.
void refuse_odd_cycles(const SparseIsingModel& m, const detail::PlacementGraph& g) {
  std::vector<int> colour(g.nodes, -1);
  for (std::uint32_t s = 0; s < g.nodes; ++s) {
    if (colour[s] >= 0)
      continue;
    colour[s] = 0;
    std::vector<std::uint32_t> queue = {s};
    for (std::size_t head = 0; head < queue.size(); ++head) {
      const std::uint32_t v = queue[head];
      for (const auto& [w, e] : g.adjacency[v]) {
        if (colour[w] < 0) {
          colour[w] = 1 - colour[v];
          queue.push_back(w);
        } else if (colour[w] == colour[v]) {
          throw Error(ErrorKind::kNotSupported,
                      fmt::format("edge ({}, {}) closes an odd cycle; the lattice is bipartite "
                                  "(every coupling joins the two checkerboard colours), so no "
                                  "placement exists",
                                  m.edges[e].i, m.edges[e].j));
        }
      }
    }
  }
}

bool identity_fits(const SparseIsingModel& m, const firmware_protocol::PbitLattice& lattice) {
  return std::all_of(m.edges.begin(), m.edges.end(),
                     [&](const auto& e) { return lattice.edge_index(e.i, e.j).has_value(); });
}

// Relative error max|q - x| / max|x| and ||q - x|| / ||x|| (both 0 when x is all zeros).
std::pair<double, double> relative_errors(const std::vector<double>& x,
                                          const std::vector<double>& q) {
  double max_x = 0.0, max_d = 0.0, norm_x = 0.0, norm_d = 0.0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    const double d = q[k] - x[k];
    max_x = std::max(max_x, std::abs(x[k]));
    max_d = std::max(max_d, std::abs(d));
    norm_x += x[k] * x[k];
    norm_d += d * d;
  }
  if (max_x == 0.0)
    return {0.0, 0.0};
  return {max_d / max_x, std::sqrt(norm_d / norm_x)};
}

std::int64_t magnitude_limit(const driver::CodeScale& s) {
  return std::min(-s.min_code, s.max_code);
}

}  // namespace

ModelEmbedding embed_model(const SparseIsingModel& model, const driver::PbitDescription& board,
                           const EmbeddingOptions& options) {
  options.validate();
  const firmware_protocol::PbitLattice lattice = detail::lattice_of(board);
  const Checked checked = check_model(model, lattice);
  refuse_odd_cycles(model, checked.graph);
  auto log = common::logger("kelvin.runtime");

  ModelEmbedding out;
  out.model_nodes = model.nodes;
  if (identity_fits(model, lattice)) {
    // Lattice-native models map unchanged (as map_to_lattice() would place them).
    out.identity_placement = true;
    out.placement.resize(model.nodes);
    for (std::uint32_t v = 0; v < model.nodes; ++v)
      out.placement[v] = v;
  } else {
    const detail::PlacementOutcome found = detail::search_placement(
        checked.graph, lattice,
        {options.restarts, options.seed, options.backtrack_budget, options.root_candidates});
    out.attempts = found.attempts;
    if (!found.placement) {
      const auto& e = model.edges[found.failed_edge];
      throw Error(
          ErrorKind::kNotSupported,
          fmt::format("edge ({}, {}) cannot be placed: {}; best attempt placed {} of {} "
                      "edges ({} attempts on the degree-{} {}x{} lattice)",
                      e.i, e.j, found.failure_reason, found.best_edges_placed, model.edges.size(),
                      found.attempts, lattice.degree(), lattice.rows(), lattice.cols()));
    }
    out.placement = *found.placement;
  }

  // One unit for weights and biases (they enter the field h = b + sum J s together, so they
  // must share it): the larger of what the weight cap and the bias range each require.
  const auto weight_cap = magnitude_limit(board.weight);
  const auto bias_cap = magnitude_limit(board.bias);
  double max_w = 0.0, max_b = 0.0;
  for (const auto& e : model.edges)
    max_w = std::max(max_w, std::abs(e.weight));
  for (const double b : checked.bias)
    max_b = std::max(max_b, std::abs(b));
  QuantizationReport& q = out.quantization;
  q.unit = std::max(max_w / static_cast<double>(weight_cap), max_b / static_cast<double>(bias_cap));
  const bool trivial = q.unit == 0.0;
  if (trivial)
    q.unit = 1.0;  // no couplings and no biases: the law is uniform for any beta and unit

  // Codes: round to the unit (clamped to the caps, which the unit makes reachable), then the
  // one code writer places them on the lattice edges and nodes.
  std::vector<detail::LatticeCoupling> couplings(model.edges.size());
  std::vector<double> w(model.edges.size()), wq(model.edges.size());
  for (std::uint32_t k = 0; k < model.edges.size(); ++k) {
    const auto& e = model.edges[k];
    const auto code =
        std::clamp<std::int64_t>(std::llround(e.weight / q.unit), -weight_cap, weight_cap);
    couplings[k] = {out.placement[e.i], out.placement[e.j], code};
    w[k] = e.weight;
    wq[k] = q.unit * static_cast<double>(code);
    if (code == 0 && e.weight != 0.0)
      q.lost_edges.push_back(k);
  }
  std::vector<std::int64_t> bias_codes(lattice.nodes(), 0);
  std::vector<double> bq(model.nodes);
  for (std::uint32_t v = 0; v < model.nodes; ++v) {
    const auto code =
        std::clamp<std::int64_t>(std::llround(checked.bias[v] / q.unit), -bias_cap, bias_cap);
    bias_codes[out.placement[v]] = code;
    bq[v] = q.unit * static_cast<double>(code);
    if (code == 0 && checked.bias[v] != 0.0)
      q.lost_biases.push_back(v);
  }
  out.edge_placement.assign(model.edges.size(), 0);
  out.program = detail::lattice_program(lattice, board, couplings, bias_codes, out.edge_placement);
  std::tie(q.weight_max_error, q.weight_norm_error) = relative_errors(w, wq);
  std::tie(q.bias_max_error, q.bias_norm_error) = relative_errors(checked.bias, bq);

  // The board computes beta_board * (codes), so beta_board = beta * unit keeps the law.
  const double wanted = trivial ? 1.0 : model.beta * q.unit;
  const driver::CodeScale& bs = board.beta;
  if (wanted > bs.max_value() + bs.lsb / 2) {
    throw Error(ErrorKind::kOutOfRange,
                fmt::format("beta * unit = {:.6g} (beta {:.6g}, unit {:.6g} per code) exceeds the "
                            "board's largest beta {:.6g}",
                            wanted, model.beta, q.unit, bs.max_value()));
  }
  out.beta_code = static_cast<std::uint32_t>(std::clamp<std::int64_t>(
      std::llround((wanted - bs.offset) / bs.lsb), bs.min_code, bs.max_code));
  if (out.beta_code == 0 && wanted > 0.0) {
    throw Error(ErrorKind::kOutOfRange,
                fmt::format("beta * unit = {:.6g} (beta {:.6g}, unit {:.6g} per code) rounds to "
                            "beta code 0 (lsb {:.6g}): the board would sample the uniform law",
                            wanted, model.beta, q.unit, bs.lsb));
  }
  q.beta_board = bs.to_physical(std::int64_t{out.beta_code});
  q.beta_error = wanted > 0.0 ? std::abs(q.beta_board - wanted) / wanted : 0.0;

  if (!q.lost_edges.empty()) {
    std::string names;
    for (std::size_t k = 0; k < q.lost_edges.size() && k < 5; ++k) {
      const auto& e = model.edges[q.lost_edges[k]];
      names += fmt::format("{}({}, {}) = {:.3g}", k ? ", " : "", e.i, e.j, e.weight);
    }
    out.warnings.push_back(fmt::format(
        "{} coupling(s) below half a code (unit {:.4g}) rounded to 0 and are lost: {}{}",
        q.lost_edges.size(), q.unit, names, q.lost_edges.size() > 5 ? ", ..." : ""));
  }
  if (!q.lost_biases.empty()) {
    out.warnings.push_back(fmt::format("{} nonzero bias(es) rounded to 0 (first: node {})",
                                       q.lost_biases.size(), q.lost_biases.front()));
  }
  for (const auto& warning : out.warnings)
    log->warn("embed_model: {}", warning);
  log->debug("embed_model: {} nodes, {} edges, {} placement ({} attempts); {}", model.nodes,
             model.edges.size(), out.identity_placement ? "identity" : "searched", out.attempts,
             q.brief());
  return out;
}

SparseIsingModel ModelEmbedding::quantized_model(const SparseIsingModel& model) const {
  if (model.nodes != model_nodes) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("a model of {} nodes for an embedding of {}", model.nodes, model_nodes));
  }
  if (model.edges.size() != edge_placement.size()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("a model of {} edges for an embedding of {}", model.edges.size(),
                            edge_placement.size()));
  }
  SparseIsingModel q = model;
  // Read back from the program: what the board will actually compute with.
  for (std::size_t k = 0; k < q.edges.size(); ++k)
    q.edges[k].weight = quantization.unit * static_cast<double>(program.weights[edge_placement[k]]);
  q.bias.assign(model_nodes, 0.0);
  for (std::uint32_t v = 0; v < model_nodes; ++v)
    q.bias[v] = quantization.unit * static_cast<double>(program.biases[placement[v]]);
  q.beta = quantization.beta_board / quantization.unit;
  return q;
}

std::vector<double> ModelEmbedding::model_means(const driver::SamplingResult& result) const {
  std::vector<double> means(model_nodes);
  for (std::uint32_t v = 0; v < model_nodes; ++v)
    means[v] = result.mean(placement[v]);
  return means;
}

std::vector<int> ModelEmbedding::model_sample(const driver::SamplingResult& result,
                                              std::uint64_t k) const {
  std::vector<int> s(model_nodes);
  for (std::uint32_t v = 0; v < model_nodes; ++v)
    s[v] = result.recorded_spin(k, placement[v]);
  return s;
}

std::vector<int> ModelEmbedding::model_state(std::span<const int> lattice_state) const {
  if (lattice_state.size() != program.biases.size()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("a state of {} values for a lattice of {} nodes", lattice_state.size(),
                            program.biases.size()));
  }
  std::vector<int> s(model_nodes);
  for (std::uint32_t v = 0; v < model_nodes; ++v)
    s[v] = lattice_state[placement[v]];
  return s;
}

}  // namespace kelvin::runtime
