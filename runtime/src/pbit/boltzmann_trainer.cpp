// BoltzmannTrainer: layout of the copies, one board run per step holding both phases, and the
// update (boltzmann_learning.hpp).
#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "../option_checks.hpp"
#include "beta_codes.hpp"
#include "boltzmann_detail.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/pbit/boltzmann_learning.hpp"
#include "kelvin/runtime/pbit/model_embedding.hpp"
#include "lattice_codes.hpp"
#include "lattice_copies.hpp"
#include "pbit_job.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

BoltzmannTrainer::BoltzmannTrainer(driver::PbitBoard& board, BoltzmannModel model,
                                   BoltzmannOptions options)
    : board_(&board), model_(std::move(model)), options_(std::move(options)) {
  model_.validate();
  const driver::PbitDescription& p = board.pbit();
  options_.validate(p);
  if (!model_.nodes_with(NodeRole::kInput).empty() && options_.free_copies != options_.batch) {
    detail::OptionChecks("BoltzmannOptions")
        .fail(fmt::format("free_copies = {} must equal batch = {} for a model with input nodes "
                          "(each free copy carries one example's inputs)",
                          options_.free_copies, options_.batch));
  }
  if (model_.bias.empty())
    model_.bias.assign(model_.nodes, 0.0);
  const double cap = p.weight.symmetric_limit();
  for (std::size_t k = 0; k < model_.edges.size(); ++k) {
    const auto& e = model_.edges[k];
    if (std::abs(e.weight) > cap) {
      throw Error(ErrorKind::kOutOfRange,
                  fmt::format("edge {} ({}, {}) has weight {}, beyond the board's |J| cap {}", k,
                              e.i, e.j, e.weight, cap));
    }
  }
  for (std::uint32_t i = 0; i < model_.nodes; ++i) {
    if (model_.bias[i] < p.bias.min_value() || model_.bias[i] > p.bias.max_value()) {
      throw Error(ErrorKind::kOutOfRange,
                  fmt::format("node {} has bias {}, outside the board's range [{}, {}]", i,
                              model_.bias[i], p.bias.min_value(), p.bias.max_value()));
    }
  }
  beta_codes_ = detail::realize_betas(p.beta, options_.beta, options_.beta_schedule,
                                      detail::OptionChecks("BoltzmannOptions"))
                    .codes;
  velocity_w_.assign(model_.edges.size(), 0.0);
  velocity_b_.assign(model_.nodes, 0.0);
  lay_out();
}

void BoltzmannTrainer::lay_out() {
  const auto& lat = board_->lattice();
  const std::uint32_t n = model_.nodes;
  if (!model_.placement.empty()) {
    for (std::uint32_t i = 0; i < n; ++i) {
      if (model_.placement[i] >= lat.nodes()) {
        throw Error(ErrorKind::kInvalidArgument,
                    fmt::format("node {} is placed on lattice node {}, outside the board's {}", i,
                                model_.placement[i], lat.nodes()));
      }
    }
    for (std::size_t k = 0; k < model_.edges.size(); ++k) {
      const auto& e = model_.edges[k];
      const std::uint32_t u = model_.placement[e.i], v = model_.placement[e.j];
      if (!lat.edge_index(u, v)) {
        throw Error(ErrorKind::kNotSupported,
                    fmt::format("edge {} ({}, {}) is placed on ({}, {}), which is not a lattice "
                                "edge for degree {} on {}x{}",
                                k, e.i, e.j, u, v, lat.degree(), lat.rows(), lat.cols()));
      }
    }
    placement_ = model_.placement;
    placement_given_ = true;
  } else {
    SparseIsingModel s;
    s.nodes = n;
    for (const auto& e : model_.edges)
      s.edges.push_back({e.i, e.j, 1.0});
    placement_ = embed_model(s, board_->pbit()).placement;
    placement_given_ = false;
  }
  // Disjoint translations of copy 0, copy 0 first, then in raster order (greedy).
  const auto rows = static_cast<std::int64_t>(lat.rows());
  const auto cols = static_cast<std::int64_t>(lat.cols());
  offsets_ = detail::translated_copy_offsets(placement_, lat.rows(), lat.cols());
  const std::uint32_t needed = options_.batch + options_.free_copies;
  if (needed > offsets_.size()) {
    throw Error(
        ErrorKind::kNotSupported,
        fmt::format("{} copies of the {}-node model are needed (batch {} + free_copies "
                    "{}), but only {} fit on the {}x{} lattice by translation",
                    needed, n, options_.batch, options_.free_copies, offsets_.size(), rows, cols));
  }
  copy_nodes_.clear();
  copy_edges_.clear();
  for (std::uint32_t c = 0; c < needed; ++c) {
    for (const std::uint32_t v : placement_)
      copy_nodes_.push_back(static_cast<std::uint32_t>(v + offsets_[c]));
    for (const auto& e : model_.edges) {
      const auto edge = lat.edge_index(copy_nodes_[c * n + e.i], copy_nodes_[c * n + e.j]);
      if (!edge)
        throw Error(ErrorKind::kProtocol, "a translated copy lost a lattice edge");
      copy_edges_.push_back(*edge);
    }
  }
}

std::vector<std::int64_t> BoltzmannTrainer::codes(std::uint64_t step, Rounding rounding) const {
  const driver::PbitDescription& p = board_->pbit();
  std::vector<std::int64_t> out;
  out.reserve(model_.edges.size() + model_.nodes);
  std::uint64_t k = 0;
  for (const auto& e : model_.edges) {
    out.push_back(detail::code_of(p.weight, e.weight, rounding,
                                  detail::rounding_uniform(options_.seed, step, k++)));
  }
  for (std::uint32_t i = 0; i < model_.nodes; ++i) {
    out.push_back(detail::code_of(p.bias, model_.bias[i], rounding,
                                  detail::rounding_uniform(options_.seed, step, k++)));
  }
  return out;
}

driver::LatticeProgram BoltzmannTrainer::lattice_program_of(const std::vector<std::int64_t>& c,
                                                            std::uint32_t copies) const {
  const std::uint32_t n = model_.nodes;
  const std::size_t m = model_.edges.size();
  std::vector<detail::LatticeCoupling> couplings;
  std::vector<std::int64_t> biases(board_->nodes(), 0);
  for (std::uint32_t copy = 0; copy < copies; ++copy) {
    const std::uint32_t* nodes = copy_nodes_.data() + std::size_t{copy} * n;
    for (std::size_t k = 0; k < m; ++k)
      couplings.push_back({nodes[model_.edges[k].i], nodes[model_.edges[k].j], c[k]});
    for (std::uint32_t i = 0; i < n; ++i)
      biases[nodes[i]] = c[m + i];
  }
  return detail::lattice_program(board_->lattice(), board_->pbit(), couplings, biases);
}

driver::LatticeProgram BoltzmannTrainer::program() const {
  return lattice_program_of(codes(steps_done_, Rounding::kNearest), 1);
}

SparseIsingModel BoltzmannTrainer::quantized_model() const {
  const driver::PbitDescription& p = board_->pbit();
  const auto c = codes(steps_done_, Rounding::kNearest);
  SparseIsingModel s;
  s.nodes = model_.nodes;
  for (std::size_t k = 0; k < model_.edges.size(); ++k)
    s.edges.push_back({model_.edges[k].i, model_.edges[k].j, p.weight.to_physical(c[k])});
  for (std::uint32_t i = 0; i < model_.nodes; ++i)
    s.bias.push_back(p.bias.to_physical(c[model_.edges.size() + i]));
  s.beta = p.beta.to_physical(std::int64_t{beta_codes_.back()});
  return s;
}

}  // namespace kelvin::runtime
