#include "kelvin/runtime/pbit/boltzmann_model.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"

namespace kelvin::runtime {
namespace {

[[noreturn]] void refuse(const std::string& what) {
  throw common::Error(common::ErrorKind::kInvalidArgument, "BoltzmannModel: " + what);
}

}  // namespace

const char* to_string(NodeRole role) noexcept {
  switch (role) {
    case NodeRole::kVisible:
      return "visible";
    case NodeRole::kHidden:
      return "hidden";
    case NodeRole::kInput:
      return "input";
  }
  return "?";
}

std::vector<std::uint32_t> BoltzmannModel::nodes_with(NodeRole role) const {
  std::vector<std::uint32_t> out;
  for (std::uint32_t i = 0; i < roles.size(); ++i) {
    if (roles[i] == role)
      out.push_back(i);
  }
  return out;
}

bool BoltzmannModel::bias_is_trainable(std::uint32_t i) const {
  return bias_trainable.empty() ? roles[i] != NodeRole::kInput : bool{bias_trainable[i]};
}

void BoltzmannModel::validate() const {
  if (nodes == 0)
    refuse("the model has no nodes");
  if (roles.size() != nodes)
    refuse(fmt::format("{} roles for {} nodes", roles.size(), nodes));
  if (!bias.empty() && bias.size() != nodes)
    refuse(fmt::format("{} biases for {} nodes", bias.size(), nodes));
  if (!bias_trainable.empty() && bias_trainable.size() != nodes)
    refuse(fmt::format("{} bias_trainable flags for {} nodes", bias_trainable.size(), nodes));
  if (!placement.empty() && placement.size() != nodes)
    refuse(fmt::format("a placement of {} nodes for {} nodes", placement.size(), nodes));
  for (std::uint32_t i = 0; i < roles.size(); ++i) {
    const auto r = static_cast<std::uint8_t>(roles[i]);
    if (r > static_cast<std::uint8_t>(NodeRole::kInput))
      refuse(fmt::format("node {} has role {}, not visible, hidden or input", i, r));
  }
  if (nodes_with(NodeRole::kVisible).empty())
    refuse("the model has no visible node");
  std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
  for (std::size_t k = 0; k < edges.size(); ++k) {
    const Edge& e = edges[k];
    if (e.i >= nodes || e.j >= nodes)
      refuse(fmt::format("edge {} ({}, {}) has an endpoint >= {} nodes", k, e.i, e.j, nodes));
    if (e.i == e.j)
      refuse(fmt::format("edge {} ({}, {}) is a self loop", k, e.i, e.j));
    if (!std::isfinite(e.weight))
      refuse(fmt::format("edge {} ({}, {}) has weight {}", k, e.i, e.j, e.weight));
    if (!seen.insert(std::minmax(e.i, e.j)).second)
      refuse(fmt::format("edge {} ({}, {}) is listed twice", k, e.i, e.j));
  }
  for (std::uint32_t i = 0; i < bias.size(); ++i) {
    if (!std::isfinite(bias[i]))
      refuse(fmt::format("node {} has bias {}", i, bias[i]));
  }
  std::set<std::uint32_t> used;
  for (std::uint32_t i = 0; i < placement.size(); ++i) {
    if (!used.insert(placement[i]).second)
      refuse(fmt::format("placement lists lattice node {} twice (node {})", placement[i], i));
  }
}

}  // namespace kelvin::runtime
