#include "kelvin/runtime/pbit/lattice_boltzmann_model.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <unordered_map>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "lattice_codes.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

namespace {

// `count` of the `of` items, evenly spaced: item floor((k + 1/2) of / count) for k < count.
std::vector<bool> evenly_spaced(std::size_t count, std::size_t of) {
  std::vector<bool> chosen(of, false);
  for (std::size_t k = 0; k < count; ++k)
    chosen[(2 * k + 1) * of / (2 * count)] = true;
  return chosen;
}

}  // namespace

void LatticeBoltzmannOptions::validate() const {
  const auto fail = [](const std::string& what) {
    throw Error(ErrorKind::kInvalidArgument, "LatticeBoltzmannOptions: " + what);
  };
  if (!std::isfinite(initial_weight) || initial_weight < 0.0 || initial_weight > 100.0)
    fail(fmt::format("initial_weight = {} must be in [0, 100]", initial_weight));
  if (!std::isfinite(beta) || beta <= 0.0)
    fail(fmt::format("beta = {} must be positive", beta));
  for (std::size_t k = 0; k < visible_mean.size(); ++k) {
    if (!(visible_mean[k] >= -1.0 && visible_mean[k] <= 1.0))
      fail(fmt::format("visible_mean[{}] = {} must be in [-1, 1]", k, visible_mean[k]));
  }
}

BoltzmannModel lattice_boltzmann_model(const driver::PbitDescription& board, std::uint32_t visible,
                                       std::uint32_t hidden,
                                       const LatticeBoltzmannOptions& options) {
  options.validate();
  if (visible == 0)
    throw Error(ErrorKind::kInvalidArgument, "the model needs at least one visible node");
  if (!options.visible_mean.empty() && options.visible_mean.size() != visible) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("visible_mean has {} entries for {} visible nodes",
                            options.visible_mean.size(), visible));
  }
  const firmware_protocol::PbitLattice lattice = detail::lattice_of(board);
  if (options.width > lattice.cols()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("LatticeBoltzmannOptions: width = {} is wider than the {}-column "
                            "lattice",
                            options.width, lattice.cols()));
  }
  const std::uint64_t n = std::uint64_t{visible} + hidden;
  const auto square = static_cast<std::uint64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  const std::uint64_t width =
      options.width != 0 ? options.width : std::min<std::uint64_t>(square, lattice.cols());
  const std::uint64_t rows = (n + width - 1) / width;
  if (rows > lattice.rows()) {
    throw Error(ErrorKind::kNotSupported,
                fmt::format("{} visible + {} hidden nodes need {} rows of {} columns; the lattice "
                            "is {} x {}",
                            visible, hidden, rows, width, lattice.rows(), lattice.cols()));
  }

  // The region's positions by colour, in row-major order.
  std::vector<std::uint32_t> by_colour[2];
  for (std::uint64_t p = 0; p < n; ++p) {
    const auto r = static_cast<std::uint32_t>(p / width);
    const auto c = static_cast<std::uint32_t>(p % width);
    by_colour[(r + c) % 2].push_back(r * lattice.cols() + c);
  }
  // The role with more nodes than its colour has positions takes the whole of it and the
  // surplus; the other role takes evenly spaced positions of its own colour.
  std::vector<std::uint32_t> visible_at;
  std::vector<std::uint32_t> hidden_at;
  if (visible >= by_colour[0].size()) {
    const std::vector<bool> h = evenly_spaced(hidden, by_colour[1].size());
    visible_at = by_colour[0];
    for (std::size_t k = 0; k < by_colour[1].size(); ++k)
      (h[k] ? hidden_at : visible_at).push_back(by_colour[1][k]);
  } else {
    const std::vector<bool> v = evenly_spaced(visible, by_colour[0].size());
    hidden_at = by_colour[1];
    for (std::size_t k = 0; k < by_colour[0].size(); ++k)
      (v[k] ? visible_at : hidden_at).push_back(by_colour[0][k]);
  }
  std::sort(visible_at.begin(), visible_at.end());
  std::sort(hidden_at.begin(), hidden_at.end());

  BoltzmannModel model;
  model.nodes = static_cast<std::uint32_t>(n);
  model.roles.assign(visible, NodeRole::kVisible);
  model.roles.resize(model.nodes, NodeRole::kHidden);
  model.placement = visible_at;
  model.placement.insert(model.placement.end(), hidden_at.begin(), hidden_at.end());
  std::unordered_map<std::uint32_t, std::uint32_t> model_node;
  for (std::uint32_t k = 0; k < model.nodes; ++k)
    model_node.emplace(model.placement[k], k);

  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> weight(-options.initial_weight, options.initial_weight);
  for (const auto& [u, v] : lattice.edges()) {
    const auto i = model_node.find(u);
    const auto j = model_node.find(v);
    if (i == model_node.end() || j == model_node.end())
      continue;
    const double w = options.initial_weight > 0.0 ? weight(rng) : 0.0;
    model.edges.push_back({std::min(i->second, j->second), std::max(i->second, j->second), w});
  }
  model.bias.assign(model.nodes, 0.0);
  for (std::size_t k = 0; k < options.visible_mean.size(); ++k)
    model.bias[k] = std::atanh(std::clamp(options.visible_mean[k], -0.9, 0.9)) / options.beta;
  model.validate();
  return model;
}

}  // namespace kelvin::runtime
