// The vector sweep of pbit_lanes.hpp, in AVX-512 (compiled for that target only, chosen at run
// time; the scalar loop in pbit_run.cpp is the reference and the fallback).
#include "pbit_lanes.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_*()
// (GCC bug 105593); the warning is about the header, not this code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <cstddef>

#define KELVIN_LANES_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

namespace kelvin::sim_backend::detail {
namespace {

// Philox4x32 constants (Random123's philox.h).
constexpr std::uint32_t kM0 = 0xD2511F53u;
constexpr std::uint32_t kM1 = 0xCD9E8D57u;
constexpr std::uint32_t kW0 = 0x9E3779B9u;
constexpr std::uint32_t kW1 = 0xBB67AE85u;
constexpr int kRounds = 10;
constexpr int kXor3 = 0x96;  // ternary-logic code of a ^ b ^ c

// hi:lo = m * x per 32-bit lane.
KELVIN_LANES_TARGET inline void mulhilo(__m512i m, __m512i x, __m512i& hi, __m512i& lo) {
  // Odd lanes of the 64-bit products hold the high words: even lanes' from `even`, odd lanes'
  // from `odd`, interleaved by one two-source permute.
  const __m512i pick = _mm512_set_epi32(31, 15, 29, 13, 27, 11, 25, 9, 23, 7, 21, 5, 19, 3, 17, 1);
  const __m512i even = _mm512_mul_epu32(x, m);
  const __m512i odd = _mm512_mul_epu32(_mm512_shuffle_epi32(x, _MM_PERM_CDAB), m);
  hi = _mm512_permutex2var_epi32(even, pick, odd);
  lo = _mm512_mullo_epi32(x, m);
}

// Philox4x32-10 of 16 counters {sweep low, sweep high, chain lanes, b}. Only word 2 differs
// between lanes and only word 3 between blocks, so most of rounds 0 to 2 is computed once per
// sweep (Prepared, scalar where all lanes agree) and each block starts from there.
struct Words {
  __m512i w[4];
};

struct Keys {
  std::uint32_t k0[kRounds];
  std::uint32_t k1[kRounds];
  __m512i v0[kRounds];
  __m512i v1[kRounds];
};

struct Prepared {
  std::uint32_t h0;  // high word of M0 * sweep low, xor the round-0 key 1
  __m512i x1;        // round-1 word 0 without its block part
  __m512i d3k;       // round-1 word 3 xor the round-2 key 1
  __m512i e0k;       // round-2 word 0 without its block part
  __m512i e1;        // round-2 word 1
};

KELVIN_LANES_TARGET inline Prepared prepare(const Keys& k, std::uint64_t sweep, __m512i chain) {
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(kM0));
  const __m512i m1 = _mm512_set1_epi32(static_cast<int>(kM1));
  const std::uint64_t p0 = std::uint64_t{kM0} * static_cast<std::uint32_t>(sweep);
  Prepared out;
  out.h0 = static_cast<std::uint32_t>(p0 >> 32) ^ k.k1[0];
  __m512i hi, lo;
  mulhilo(m1, chain, hi, lo);  // round 0
  const __m512i a0 = _mm512_ternarylogic_epi32(
      hi, _mm512_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(sweep >> 32))), k.v0[0],
      kXor3);
  out.x1 = _mm512_xor_si512(lo, k.v0[1]);
  mulhilo(m0, a0, hi, lo);  // round 1, lanes
  const __m512i d2 = _mm512_ternarylogic_epi32(
      hi, _mm512_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(p0))), k.v1[1], kXor3);
  out.d3k = _mm512_xor_si512(lo, k.v1[2]);
  mulhilo(m1, d2, hi, lo);  // round 2, lanes
  out.e0k = _mm512_xor_si512(hi, k.v0[2]);
  out.e1 = lo;
  return out;
}

KELVIN_LANES_TARGET inline Words philox(const Keys& k, const Prepared& p, std::uint32_t b) {
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(kM0));
  const __m512i m1 = _mm512_set1_epi32(static_cast<int>(kM1));
  const std::uint64_t p1 = std::uint64_t{kM1} * (p.h0 ^ b);  // round 1, all lanes
  __m512i hi, lo;
  mulhilo(m0, _mm512_xor_si512(p.x1, _mm512_set1_epi32(static_cast<int>(p1 >> 32))), hi, lo);
  __m512i c0 = _mm512_xor_si512(p.e0k, _mm512_set1_epi32(static_cast<int>(p1)));
  __m512i c1 = p.e1;
  __m512i c2 = _mm512_xor_si512(hi, p.d3k);
  __m512i c3 = lo;
  for (int r = 3; r < kRounds; ++r) {
    __m512i hi0, lo0, hi1, lo1;
    mulhilo(m0, c0, hi0, lo0);
    mulhilo(m1, c2, hi1, lo1);
    c0 = _mm512_ternarylogic_epi32(hi1, c1, k.v0[r], kXor3);
    c1 = lo1;
    c2 = _mm512_ternarylogic_epi32(hi0, c3, k.v1[r], kXor3);
    c3 = lo0;
  }
  return {{c0, c1, c2, c3}};
}

// The r = word >> 8 of 32 lanes in the form an update reads: with gathers, two vectors of 16
// 32-bit r; with windows, 32 16-bit lanes of r >> 8 (a) and of r & 255 (b).
struct Draws {
  __m512i a, b;
};

// The 32-bit field sum of node i's -1 neighbours, subtracted from `acc` (16-bit lanes).
KELVIN_LANES_TARGET inline __m512i field(const LaneSweep& s, std::uint32_t i, __m512i acc,
                                         const std::int16_t* weights) {
  const LaneTables& t = *s.tables;
  const std::size_t row = std::size_t{i} * t.row_length;
  for (std::uint32_t k = 0; k < t.row_length; ++k) {
    const __mmask32 negative = s.negative[t.neighbour[row + k]];
    acc = _mm512_mask_sub_epi16(acc, negative, acc, _mm512_set1_epi16(weights[row + k]));
  }
  return acc;
}

template <bool kWindow>
struct Update;

// One beta: the threshold from the node's table window by two-register permutes.
template <>
struct Update<true> {
  KELVIN_LANES_TARGET static Draws draws(__m512i lo, __m512i hi) {
    const __m512i odd =
        _mm512_set_epi16(63, 61, 59, 57, 55, 53, 51, 49, 47, 45, 43, 41, 39, 37, 35, 33, 31, 29, 27,
                         25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    const __m512i even = _mm512_sub_epi16(odd, _mm512_set1_epi16(1));
    return {_mm512_permutex2var_epi16(lo, odd, hi),
            _mm512_srli_epi16(_mm512_permutex2var_epi16(lo, even, hi), 8)};
  }
  KELVIN_LANES_TARGET static std::uint32_t plus(const LaneSweep& s, std::uint32_t i, Draws r) {
    const LaneTables& t = *s.tables;
    const __m512i m = field(s, i, _mm512_set1_epi16(t.start[i]), t.weight.data());
    const std::uint16_t* th = s.window_hi + t.window[i];
    const std::uint16_t* tl = s.window_lo + t.window[i];
    __m512i hi = _mm512_permutex2var_epi16(_mm512_loadu_si512(th), m, _mm512_loadu_si512(th + 32));
    __m512i lo = _mm512_permutex2var_epi16(_mm512_loadu_si512(tl), m, _mm512_loadu_si512(tl + 32));
    if (t.wide[i] != 0) {
      const __mmask32 upper = _mm512_test_epi16_mask(m, _mm512_set1_epi16(64));
      hi = _mm512_mask_blend_epi16(
          upper, hi,
          _mm512_permutex2var_epi16(_mm512_loadu_si512(th + 64), m, _mm512_loadu_si512(th + 96)));
      lo = _mm512_mask_blend_epi16(
          upper, lo,
          _mm512_permutex2var_epi16(_mm512_loadu_si512(tl + 64), m, _mm512_loadu_si512(tl + 96)));
    }
    // r < T on 24 bits: the top 16 bits decide unless equal, then the low 8.
    const __mmask32 below = _mm512_cmplt_epu16_mask(r.a, hi);
    const __mmask32 tie = _mm512_cmpeq_epi16_mask(r.a, hi);
    return below | (tie & _mm512_cmplt_epu16_mask(r.b, lo));
  }
};

// A beta per lane: the threshold from each lane's own table by gathers.
template <>
struct Update<false> {
  KELVIN_LANES_TARGET static Draws draws(__m512i lo, __m512i hi) {
    return {_mm512_srli_epi32(lo, 8), _mm512_srli_epi32(hi, 8)};
  }
  KELVIN_LANES_TARGET static std::uint32_t plus(const LaneSweep& s, std::uint32_t i, Draws r) {
    const LaneTables& t = *s.tables;
    const __m512i acc = field(s, i, _mm512_set1_epi16(t.base[i]), t.twice_weight.data());
    const __m512i idx_lo = _mm512_add_epi32(_mm512_cvtepi16_epi32(_mm512_castsi512_si256(acc)),
                                            _mm512_loadu_si512(s.lane_offset));
    const __m512i idx_hi =
        _mm512_add_epi32(_mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(acc, 1)),
                         _mm512_loadu_si512(s.lane_offset + 16));
    const __m512i t_lo = _mm512_i32gather_epi32(idx_lo, s.threshold, 4);
    const __m512i t_hi = _mm512_i32gather_epi32(idx_hi, s.threshold, 4);
    return static_cast<std::uint32_t>(_mm512_cmplt_epu32_mask(r.a, t_lo)) |
           (static_cast<std::uint32_t>(_mm512_cmplt_epu32_mask(r.b, t_hi)) << 16);
  }
};

template <bool kWindow>
KELVIN_LANES_TARGET void sweep_avx512(const LaneSweep& s) noexcept {
  using U = Update<kWindow>;
  Keys keys;
  keys.k0[0] = static_cast<std::uint32_t>(s.seed);
  keys.k1[0] = static_cast<std::uint32_t>(s.seed >> 32);
  for (int r = 0; r < kRounds; ++r) {
    if (r > 0) {
      keys.k0[r] = keys.k0[r - 1] + kW0;
      keys.k1[r] = keys.k1[r - 1] + kW1;
    }
    keys.v0[r] = _mm512_set1_epi32(static_cast<int>(keys.k0[r]));
    keys.v1[r] = _mm512_set1_epi32(static_cast<int>(keys.k1[r]));
  }
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i chain_lo =
      _mm512_add_epi32(lane, _mm512_set1_epi32(static_cast<int>(s.first_chain)));
  const Prepared prep_lo = prepare(keys, s.sweep, chain_lo);
  const Prepared prep_hi =
      prepare(keys, s.sweep, _mm512_add_epi32(chain_lo, _mm512_set1_epi32(16)));
  const std::uint32_t n = s.tables->nodes;
  // Colour 0 as its words come; colour-1 draws kept for the second half-sweep.
  std::uint32_t* out = s.scratch;
  for (std::uint32_t b = 0; b * 4 < n; ++b) {
    const Words lo = philox(keys, prep_lo, b);
    const Words hi = philox(keys, prep_hi, b);
    for (std::uint32_t k = 0; k < 4 && b * 4 + k < n; ++k) {
      const std::uint32_t i = b * 4 + k;
      if (s.kind[i] == 0) {
        s.negative[i] = ~U::plus(s, i, U::draws(lo.w[k], hi.w[k]));
      } else if (s.kind[i] == 1) {
        const Draws r = U::draws(lo.w[k], hi.w[k]);
        _mm512_storeu_si512(out, r.a);
        _mm512_storeu_si512(out + 16, r.b);
        out += kLaneWidth;
      }
    }
  }
  const std::uint32_t* in = s.scratch;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (s.kind[i] != 1)
      continue;
    s.negative[i] = ~U::plus(s, i, {_mm512_loadu_si512(in), _mm512_loadu_si512(in + 16)});
    in += kLaneWidth;
  }
}

}  // namespace

bool lane_kernel_available() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

__attribute__((target("popcnt"))) void lane_sums(
    const std::uint32_t* negative, std::uint32_t active, std::span<std::int64_t> spin_sums,
    std::span<const std::pair<std::uint32_t, std::uint32_t>> edges,
    std::span<std::int64_t> edge_sums) noexcept {
  const auto lanes = static_cast<std::int64_t>(__builtin_popcount(active));
  for (std::size_t i = 0; i < spin_sums.size(); ++i)
    spin_sums[i] += lanes - 2 * __builtin_popcount(negative[i] & active);
  for (std::size_t e = 0; e < edges.size(); ++e) {
    const std::uint32_t differ = negative[edges[e].first] ^ negative[edges[e].second];
    edge_sums[e] += lanes - 2 * __builtin_popcount(differ & active);
  }
}

void lane_sweep(const LaneSweep& sweep) noexcept {
  if (sweep.window_hi != nullptr)
    sweep_avx512<true>(sweep);
  else
    sweep_avx512<false>(sweep);
}

}  // namespace kelvin::sim_backend::detail

#pragma GCC diagnostic pop

#else

namespace kelvin::sim_backend::detail {

bool lane_kernel_available() noexcept {
  return false;
}

void lane_sweep(const LaneSweep&) noexcept {}

void lane_sums(const std::uint32_t*, std::uint32_t, std::span<std::int64_t>,
               std::span<const std::pair<std::uint32_t, std::uint32_t>>,
               std::span<std::int64_t>) noexcept {}

}  // namespace kelvin::sim_backend::detail

#endif
