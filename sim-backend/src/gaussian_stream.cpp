#include "kelvin/sim_backend/gaussian_stream.hpp"

#include <Random123/philox.h>
#include <Random123/boxmuller.hpp>
#include <Random123/uniform.hpp>

namespace kelvin::sim_backend {
namespace {

// Philox4x32 with its standard 10 rounds, spelled out so a library default cannot change it.
using Philox = r123::Philox4x32_R<10>;

Philox::ctr_type make_counter(std::uint64_t sample_index, std::uint32_t pair,
                              std::uint32_t substep) noexcept {
  Philox::ctr_type c = {{static_cast<std::uint32_t>(sample_index),
                         static_cast<std::uint32_t>(sample_index >> 32), pair, substep}};
  return c;
}

Philox::key_type make_key(std::uint64_t seed) noexcept {
  Philox::key_type k = {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
  return k;
}

}  // namespace

std::array<std::uint32_t, 4> GaussianStream::block(std::uint64_t sample_index, std::uint32_t pair,
                                                   std::uint32_t substep) const noexcept {
  const Philox philox;
  const auto r = philox(make_counter(sample_index, pair, substep), make_key(seed_));
  return {r[0], r[1], r[2], r[3]};
}

std::array<double, 2> GaussianStream::normal_pair(std::uint64_t sample_index, std::uint32_t pair,
                                                  std::uint32_t substep) const noexcept {
  const auto w = block(sample_index, pair, substep);
  const std::uint64_t u0 = std::uint64_t{w[0]} | (std::uint64_t{w[1]} << 32);
  const std::uint64_t u1 = std::uint64_t{w[2]} | (std::uint64_t{w[3]} << 32);
  const r123::double2 g = r123::boxmuller(u0, u1);
  return {g.x, g.y};
}

void GaussianStream::fill(std::uint64_t sample_index, std::uint32_t substep,
                          std::span<double> out) const noexcept {
  const std::size_t n = out.size();
  for (std::size_t i = 0; i < n; i += 2) {
    const auto g = normal_pair(sample_index, static_cast<std::uint32_t>(i / 2), substep);
    out[i] = g[0];
    if (i + 1 < n)
      out[i + 1] = g[1];
  }
}

}  // namespace kelvin::sim_backend
