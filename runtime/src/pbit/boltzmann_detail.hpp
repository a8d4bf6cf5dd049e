// The Boltzmann learner's arithmetic (boltzmann_learning.hpp), apart from the board: host
// parameters to codes (nearest or stochastic rounding), the learning-rate schedule, and the
// reduction of per-copy moments to one phase's means and standard errors.
//
// Thread contract: pure functions, safe from any thread.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "kelvin/driver/code_scale.hpp"
#include "kelvin/runtime/pbit/boltzmann_learning.hpp"

namespace kelvin::runtime::detail {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A uniform [0, 1) number that depends only on (seed, step, parameter): stochastic rounding
// replays bit for bit, also after a checkpoint.
inline double rounding_uniform(std::uint64_t seed, std::uint64_t step, std::uint64_t parameter) {
  const std::uint64_t h = splitmix64(seed ^ splitmix64(step ^ splitmix64(parameter)));
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

// The code of host value x on `scale`: nearest (ties away from zero), or floor + Bernoulli(frac)
// with the uniform u (E[code] = x / lsb inside the range), then held to the code range.
inline std::int64_t code_of(const driver::CodeScale& scale, double x, Rounding rounding, double u) {
  const double c = (x - scale.offset) / scale.lsb;
  double code = 0.0;
  if (rounding == Rounding::kStochastic) {
    const double f = std::floor(c);
    code = f + (u < c - f ? 1.0 : 0.0);
  } else {
    code = std::round(c);
  }
  return std::clamp(static_cast<std::int64_t>(code), scale.min_code, scale.max_code);
}

// Learning rate of step t (0-based) under the options' schedule.
inline double learning_rate_at(const BoltzmannOptions& o, std::uint64_t t) {
  const double lr = o.learning_rate;
  const auto d = static_cast<double>(o.decay_steps);
  switch (o.schedule) {
    case LearningRateSchedule::kConstant:
      return lr;
    case LearningRateSchedule::kInverseTime:
      return lr / (1.0 + static_cast<double>(t) / d);
    case LearningRateSchedule::kCosine:
      return lr * 0.5 *
             (1.0 + std::cos(std::numbers::pi * static_cast<double>(t % o.decay_steps) / d));
  }
  return lr;
}

// Reduces per-copy estimates x[c * stats + q] (copies x stats, stats = means then
// correlations) to the phase's mean over copies and its standard error, sd / sqrt(copies) with
// copies - 1 degrees of freedom (NaN with a single copy).
inline PhaseMoments reduce_copies(const std::vector<double>& x, std::uint32_t copies,
                                  std::size_t nodes, std::size_t edges,
                                  std::uint64_t samples_per_copy) {
  PhaseMoments m;
  m.copies = copies;
  m.dof = copies > 0 ? copies - 1 : 0;
  m.samples = samples_per_copy;
  const std::size_t stats = nodes + edges;
  for (std::size_t q = 0; q < stats; ++q) {
    double sum = 0.0;
    for (std::uint32_t c = 0; c < copies; ++c)
      sum += x[c * stats + q];
    const double mean = sum / copies;
    double ss = 0.0;
    for (std::uint32_t c = 0; c < copies; ++c)
      ss += (x[c * stats + q] - mean) * (x[c * stats + q] - mean);
    const double se = copies > 1 ? std::sqrt(ss / (copies - 1) / copies) : std::nan("");
    (q < nodes ? m.mean : m.correlation).push_back(mean);
    (q < nodes ? m.mean_stderr : m.correlation_stderr).push_back(se);
  }
  return m;
}

}  // namespace kelvin::runtime::detail
