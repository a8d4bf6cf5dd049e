#include "kelvin/runtime/pbit/exact_ising.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"

namespace kelvin::runtime {
namespace {

using common::Error;
using common::ErrorKind;

void check_model(const SparseIsingModel& m) {
  if (m.nodes == 0 || m.nodes > kMaxExactIsingNodes) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("exact enumeration takes 1 to {} nodes, not {}", kMaxExactIsingNodes, m.nodes));
  }
  if (!m.bias.empty() && m.bias.size() != m.nodes) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} biases for {} nodes", m.bias.size(), m.nodes));
  }
  if (!std::isfinite(m.beta))
    throw Error(ErrorKind::kInvalidArgument, fmt::format("beta = {} is not finite", m.beta));
  for (std::size_t k = 0; k < m.edges.size(); ++k) {
    const auto& e = m.edges[k];
    if (e.i >= m.nodes || e.j >= m.nodes || e.i == e.j || !std::isfinite(e.weight)) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("edge {} ({}, {}, weight {}) is not an edge of a {}-node model", k,
                              e.i, e.j, e.weight, m.nodes));
    }
  }
  for (std::uint32_t i = 0; i < m.bias.size(); ++i) {
    if (!std::isfinite(m.bias[i]))
      throw Error(ErrorKind::kInvalidArgument, fmt::format("bias {} is not finite", i));
  }
}

// Calls visit(state, log_weight) for every state whose fixed bits equal `pattern` (bit i of a
// state is node i, set for +1), with log_weight = beta * (sum_e J s_i s_j + sum_i b_i s_i).
template <typename Visit>
void enumerate(const SparseIsingModel& m, std::uint64_t fixed_mask, std::uint64_t pattern,
               Visit&& visit) {
  const std::uint64_t states = std::uint64_t{1} << m.nodes;
  for (std::uint64_t s = 0; s < states; ++s) {
    if ((s & fixed_mask) != pattern)
      continue;
    double e = 0.0;
    for (const auto& edge : m.edges)
      e += (((s >> edge.i) ^ (s >> edge.j)) & 1) ? -edge.weight : edge.weight;
    if (!m.bias.empty()) {
      for (std::uint32_t i = 0; i < m.nodes; ++i)
        e += ((s >> i) & 1) ? m.bias[i] : -m.bias[i];
    }
    visit(s, m.beta * e);
  }
}

ExactIsingMoments moments(const SparseIsingModel& m, std::uint64_t fixed_mask,
                          std::uint64_t pattern) {
  double top = -std::numeric_limits<double>::infinity();
  enumerate(m, fixed_mask, pattern, [&](std::uint64_t, double lw) { top = std::max(top, lw); });
  std::vector<long double> mean(m.nodes, 0.0L), corr(m.edges.size(), 0.0L);
  long double z = 0.0L;
  enumerate(m, fixed_mask, pattern, [&](std::uint64_t s, double lw) {
    const long double w = std::exp(static_cast<long double>(lw - top));
    z += w;
    for (std::uint32_t i = 0; i < m.nodes; ++i)
      mean[i] += ((s >> i) & 1) ? w : -w;
    for (std::size_t k = 0; k < m.edges.size(); ++k)
      corr[k] += (((s >> m.edges[k].i) ^ (s >> m.edges[k].j)) & 1) ? -w : w;
  });
  ExactIsingMoments out;
  for (const long double x : mean)
    out.mean.push_back(static_cast<double>(x / z));
  for (const long double x : corr)
    out.correlation.push_back(static_cast<double>(x / z));
  out.log_z = top + static_cast<double>(std::log(z));
  return out;
}

}  // namespace

ExactIsingMoments exact_ising(const SparseIsingModel& model) {
  check_model(model);
  return moments(model, 0, 0);
}

ExactIsingMoments exact_conditional(const SparseIsingModel& model,
                                    std::span<const std::uint32_t> fixed,
                                    std::span<const int> values) {
  check_model(model);
  if (fixed.size() != values.size()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} fixed nodes but {} values", fixed.size(), values.size()));
  }
  std::uint64_t mask = 0, pattern = 0;
  for (std::size_t k = 0; k < fixed.size(); ++k) {
    if (fixed[k] >= model.nodes || ((mask >> fixed[k]) & 1)) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("fixed node {} is outside the model or listed twice", fixed[k]));
    }
    if (values[k] != 1 && values[k] != -1) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("value {} of fixed node {} is not +1 or -1", values[k], fixed[k]));
    }
    mask |= std::uint64_t{1} << fixed[k];
    if (values[k] == 1)
      pattern |= std::uint64_t{1} << fixed[k];
  }
  return moments(model, mask, pattern);
}

std::vector<double> exact_marginal(const SparseIsingModel& model,
                                   std::span<const std::uint32_t> subset) {
  check_model(model);
  if (subset.size() > kMaxExactIsingNodes) {
    throw Error(ErrorKind::kInvalidArgument, fmt::format("a subset of {} nodes (at most {})",
                                                         subset.size(), kMaxExactIsingNodes));
  }
  std::uint64_t seen = 0;
  for (const std::uint32_t v : subset) {
    if (v >= model.nodes || ((seen >> v) & 1)) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("subset node {} is outside the model or listed twice", v));
    }
    seen |= std::uint64_t{1} << v;
  }
  double top = -std::numeric_limits<double>::infinity();
  enumerate(model, 0, 0, [&](std::uint64_t, double lw) { top = std::max(top, lw); });
  std::vector<long double> p(std::size_t{1} << subset.size(), 0.0L);
  long double z = 0.0L;
  enumerate(model, 0, 0, [&](std::uint64_t s, double lw) {
    const long double w = std::exp(static_cast<long double>(lw - top));
    std::size_t index = 0;
    for (std::size_t k = 0; k < subset.size(); ++k)
      index |= static_cast<std::size_t>((s >> subset[k]) & 1) << k;
    p[index] += w;
    z += w;
  });
  std::vector<double> out;
  out.reserve(p.size());
  for (const long double x : p)
    out.push_back(static_cast<double>(x / z));
  return out;
}

double kl_divergence(std::span<const double> p, std::span<const double> q) {
  if (p.size() != q.size()) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("KL divergence of distributions of sizes {} and {}", p.size(), q.size()));
  }
  double kl = 0.0;
  for (std::size_t x = 0; x < p.size(); ++x) {
    if (p[x] <= 0.0)
      continue;
    if (q[x] <= 0.0)
      return std::numeric_limits<double>::infinity();
    kl += p[x] * std::log(p[x] / q[x]);
  }
  return kl;
}

}  // namespace kelvin::runtime
