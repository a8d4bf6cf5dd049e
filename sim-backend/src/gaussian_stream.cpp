#include "kelvin/sim_backend/gaussian_stream.hpp"

#include <algorithm>
#include <cstddef>

#include <Random123/philox.h>
#include <Random123/boxmuller.hpp>
#include <Random123/uniform.hpp>

#include "isa_dispatch.hpp"

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

// Philox4x32-10 of 16 (or, for a short tail, 8) consecutive pairs at once, one per lane, in
// 64-bit lanes holding 32-bit words (integer arithmetic: the same words on every instruction
// set). Spelled as in Random123: round with the key, then 9 times bump the key and round again.
typedef std::uint64_t U8 __attribute__((vector_size(64)));
typedef std::uint64_t U16 __attribute__((vector_size(128)));
constexpr std::size_t kLanes = 16;

struct PhiloxLanes {
  std::uint64_t sample_index;
  std::uint32_t first_pair;
  std::uint32_t substep;
  std::uint64_t seed;
  std::uint32_t* words;  // words[k * kLanes + lane]: word k of pair first_pair + lane
  bool narrow;           // 8 lanes instead of 16
};

template <class V, std::size_t L>
[[gnu::always_inline]] inline void philox_body(const PhiloxLanes& p) {
  constexpr std::uint64_t kLow = 0xffffffffu;
  V c0 = V{} + (p.sample_index & kLow);
  V c1 = V{} + (p.sample_index >> 32);
  V c2 = V{} + p.first_pair;
  for (std::size_t lane = 0; lane < L; ++lane)
    c2[lane] += lane;
  V c3 = V{} + p.substep;
  std::uint32_t k0 = static_cast<std::uint32_t>(p.seed);
  std::uint32_t k1 = static_cast<std::uint32_t>(p.seed >> 32);
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += PHILOX_W32_0;
      k1 += PHILOX_W32_1;
    }
    const V p0 = c0 * std::uint64_t{PHILOX_M4x32_0};  // 32 x 32 -> 64 bits, exact
    const V p1 = c2 * std::uint64_t{PHILOX_M4x32_1};
    c0 = (p1 >> 32) ^ c1 ^ k0;
    c1 = p1 & kLow;
    c2 = (p0 >> 32) ^ c3 ^ k1;
    c3 = p0 & kLow;
  }
  for (std::size_t lane = 0; lane < L; ++lane) {
    p.words[lane] = static_cast<std::uint32_t>(c0[lane]);
    p.words[kLanes + lane] = static_cast<std::uint32_t>(c1[lane]);
    p.words[2 * kLanes + lane] = static_cast<std::uint32_t>(c2[lane]);
    p.words[3 * kLanes + lane] = static_cast<std::uint32_t>(c3[lane]);
  }
}

void philox_generic(const PhiloxLanes& p) {
  if (p.narrow)
    philox_body<U8, 8>(p);
  else
    philox_body<U16, kLanes>(p);
}
#if defined(__x86_64__) && defined(__GNUC__)
[[gnu::target("avx2")]] void philox_avx2(const PhiloxLanes& p) {
  if (p.narrow)
    philox_body<U8, 8>(p);
  else
    philox_body<U16, kLanes>(p);
}
[[gnu::target("avx512f")]] void philox_avx512(const PhiloxLanes& p) {
  if (p.narrow)
    philox_body<U8, 8>(p);
  else
    philox_body<U16, kLanes>(p);
}
#endif

void philox_lanes(const PhiloxLanes& p) {
#if defined(__x86_64__) && defined(__GNUC__)
  switch (detail::best_isa()) {
    case detail::Isa::kAvx512:
      return philox_avx512(p);
    case detail::Isa::kAvx2:
      return philox_avx2(p);
    case detail::Isa::kGeneric:
      break;
  }
#endif
  philox_generic(p);
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
  const std::size_t pairs = (n + 1) / 2;
  std::uint32_t words[4 * kLanes];
  std::size_t first = 0;
  for (; first + 8 <= pairs; first += kLanes) {
    philox_lanes({sample_index, static_cast<std::uint32_t>(first), substep, seed_, words,
                  pairs - first <= 8});
    const std::size_t lanes = std::min(kLanes, pairs - first);
    for (std::size_t lane = 0; lane < lanes; ++lane) {
      // As normal_pair(): u0 = w0 | w1 << 32, u1 = w2 | w3 << 32.
      const std::uint64_t u0 =
          std::uint64_t{words[lane]} | (std::uint64_t{words[kLanes + lane]} << 32);
      const std::uint64_t u1 =
          std::uint64_t{words[2 * kLanes + lane]} | (std::uint64_t{words[3 * kLanes + lane]} << 32);
      const r123::double2 g = r123::boxmuller(u0, u1);
      const std::size_t i = 2 * (first + lane);
      out[i] = g.x;
      if (i + 1 < n)
        out[i + 1] = g.y;
    }
  }
  // Fewer than 8 pairs left: one at a time (their vector lanes would mostly go to waste).
  for (std::size_t pair = first; pair < pairs; ++pair) {
    const auto g = normal_pair(sample_index, static_cast<std::uint32_t>(pair), substep);
    out[2 * pair] = g[0];
    if (2 * pair + 1 < n)
      out[2 * pair + 1] = g[1];
  }
}

}  // namespace kelvin::sim_backend
