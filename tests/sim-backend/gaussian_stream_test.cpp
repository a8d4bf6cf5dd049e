#include "kelvin/sim_backend/gaussian_stream.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include <Random123/philox.h>
#include <Random123/boxmuller.hpp>

namespace kelvin::sim_backend {
namespace {

using Philox = r123::Philox4x32_R<10>;

std::array<std::uint32_t, 4> philox(std::array<std::uint32_t, 4> counter,
                                    std::array<std::uint32_t, 2> key) {
  const Philox::ctr_type c = {{counter[0], counter[1], counter[2], counter[3]}};
  const Philox::key_type k = {{key[0], key[1]}};
  const auto r = Philox()(c, k);
  return {r[0], r[1], r[2], r[3]};
}

// Random123's published known-answer vector for philox4x32-10 (kat_vectors: counter 0, key 0).
constexpr std::array<std::uint32_t, 4> kZeroKat = {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu,
                                                   0x9b00dbd8u};

TEST(GaussianStream, PhiloxMatchesTheRandom123KnownAnswer) {
  EXPECT_EQ(philox({0, 0, 0, 0}, {0, 0}), kZeroKat);
  // The board's mapping sends seed 0, sample 0, pair 0, substep 0 to that same block.
  EXPECT_EQ(GaussianStream(0).block(0, 0, 0), kZeroKat);
}

TEST(GaussianStream, MapsSeedAndSampleIndexToKeyAndCounterWords) {
  const std::uint64_t seed = 0x0123456789abcdefull;
  const std::uint64_t sample = 0x0000000500000007ull;
  const GaussianStream stream(seed);
  EXPECT_EQ(stream.block(sample, 3, 0),
            philox({0x00000007u, 0x00000005u, 3, 0}, {0x89abcdefu, 0x01234567u}));
  EXPECT_EQ(stream.block(sample, 3, 2),
            philox({0x00000007u, 0x00000005u, 3, 2}, {0x89abcdefu, 0x01234567u}));
  // Swapped words give another block, so the mapping above is not vacuous.
  EXPECT_NE(stream.block(sample, 3, 0),
            philox({0x00000005u, 0x00000007u, 3, 0}, {0x01234567u, 0x89abcdefu}));
}

TEST(GaussianStream, DrawsEachPairOfNormalsByBoxMullerFromOneBlock) {
  const GaussianStream stream(42);
  const auto w = stream.block(1000, 2);
  const r123::double2 want = r123::boxmuller(std::uint64_t{w[0]} | (std::uint64_t{w[1]} << 32),
                                             std::uint64_t{w[2]} | (std::uint64_t{w[3]} << 32));
  const auto got = stream.normal_pair(1000, 2);
  EXPECT_EQ(got[0], want.x);
  EXPECT_EQ(got[1], want.y);

  // fill() hands pair j to cells 2j and 2j + 1; an odd last cell takes the pair's first normal.
  std::vector<double> cells(5);
  stream.fill(1000, 0, cells);
  EXPECT_EQ(cells[4], want.x);
  EXPECT_EQ(cells[0], stream.normal_pair(1000, 0)[0]);
  EXPECT_EQ(cells[1], stream.normal_pair(1000, 0)[1]);
}

// fill() draws 16 or 8 pairs at a time (Philox in vector lanes) and a short tail one by one:
// every lane, each block width, the tail and counters with high words set give normal_pair()'s
// values, bit for bit.
TEST(GaussianStream, FillGivesNormalPairsValuesAcrossLaneBlocks) {
  const GaussianStream stream(0x123456789abcdefull);
  const std::uint64_t sample = 0x0000000500000007ull;
  for (const std::size_t n : {16u, 37u, 69u}) {
    std::vector<double> cells(n);
    stream.fill(sample, 3, cells);
    for (std::size_t i = 0; i < n; ++i) {
      const auto g = stream.normal_pair(sample, static_cast<std::uint32_t>(i / 2), 3);
      EXPECT_EQ(cells[i], g[i % 2]) << n << " cells, cell " << i;
    }
  }
}

TEST(GaussianStream, ProducesStandardNormalMoments) {
  const GaussianStream stream(7);
  constexpr int kPairs = 50000;
  double sum = 0.0, sum_sq = 0.0, sum_cross = 0.0;
  for (int k = 0; k < kPairs; ++k) {
    const auto g = stream.normal_pair(static_cast<std::uint64_t>(k), 0);
    sum += g[0] + g[1];
    sum_sq += g[0] * g[0] + g[1] * g[1];
    sum_cross += g[0] * g[1];
  }
  const double n = 2.0 * kPairs;
  // 5-sigma bounds: sd(mean) = 1/sqrt(n), sd(mean square) = sqrt(2/n), sd(cross) = 1/sqrt(n/2).
  EXPECT_NEAR(sum / n, 0.0, 5.0 / std::sqrt(n));
  EXPECT_NEAR(sum_sq / n, 1.0, 5.0 * std::sqrt(2.0 / n));
  EXPECT_NEAR(sum_cross / kPairs, 0.0, 5.0 / std::sqrt(static_cast<double>(kPairs)));
}

}  // namespace
}  // namespace kelvin::sim_backend
