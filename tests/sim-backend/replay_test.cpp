// Bit-exact replay of the ADC stream, driven entirely through encoded frames.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "board_client.hpp"

namespace kelvin::sim_backend::testing {
namespace {

// Records the first `samples` samples after power-up of an 8-cell board running the reference
// system, and returns the recorded ADC bytes.
std::string record_reference_stream(std::uint64_t seed, std::uint64_t samples) {
  ResonatorConfig config;
  config.cells = 8;
  config.seed = seed;
  BoardClient board(config);
  program_reference_system(board);
  const auto results = board.run(samples, /*reset_state=*/true, /*accumulate_products=*/false,
                                 /*record_samples=*/true);
  EXPECT_EQ(results.samples_le16().size(), 2 * 8 * samples);
  EXPECT_EQ(results.clipped_samples(), 0u);
  return results.samples_le16();
}

TEST(Replay, SameSeedReplaysTheAdcStreamBitForBit) {
  const std::string first = record_reference_stream(1, 4096);
  const std::string second = record_reference_stream(1, 4096);
  EXPECT_EQ(fnv1a64(first), fnv1a64(second));
  EXPECT_EQ(first, second);
}

TEST(Replay, DifferentSeedGivesADifferentStream) {
  EXPECT_NE(fnv1a64(record_reference_stream(1, 4096)), fnv1a64(record_reference_stream(2, 4096)));
}

// The golden hash pins the numerics (exact discretization, noise mapping, ADC rounding) of the
// reference system: seed 1, 8 cells, program_reference_system(), the first 4096 samples after
// power-up, FNV-1a (64-bit) over the recorded little-endian int16 bytes. Produced by running this
// test once with a zero constant on the implementation that introduced it and pasting the hash
// its failure message printed; the same value came out of RelWithDebInfo, Debug (-O0) and
// -O2 -march=native (AVX-512, FMA) builds with g++ 12 on x86-64. If this test fails, the ADC
// stream changed: revert, or update the constant deliberately and say why in the commit.
constexpr std::uint64_t kGoldenHashSeed1 = 0xc737f38d6c938181ull;

TEST(Replay, MatchesTheGoldenHashOfTheReferenceSystem) {
  const std::uint64_t hash = fnv1a64(record_reference_stream(1, 4096));
  EXPECT_EQ(hash, kGoldenHashSeed1) << "ADC stream hash is 0x" << std::hex << hash;
}

TEST(Replay, SplittingARunInTwoGivesTheSameCodes) {
  constexpr std::uint64_t kHalf = 1500;
  BoardClient whole;
  program_reference_system(whole);
  const auto one = whole.run(2 * kHalf, true, true, true);

  BoardClient split;
  program_reference_system(split);
  const auto a = split.run(kHalf, true, true, true);
  const auto b = split.run(kHalf, false, true, true);  // warm start: the state carries over

  EXPECT_EQ(a.samples_le16() + b.samples_le16(), one.samples_le16());
  EXPECT_EQ(b.first_tick(), a.first_tick() + kHalf * 100);
  EXPECT_EQ(one.first_tick(), a.first_tick());
  for (int i = 0; i < one.sums_size(); ++i) {
    EXPECT_EQ(a.sums(i) + b.sums(i), one.sums(i)) << "cell " << i;
  }
  for (int p = 0; p < one.product_sums_size(); ++p) {
    EXPECT_EQ(a.product_sums(p) + b.product_sums(p), one.product_sums(p)) << "product " << p;
  }
}

TEST(Replay, ResetStateRestartsFromZeroButNotTheNoiseStream) {
  BoardClient board;
  program_reference_system(board);
  const auto first = board.run(200, true, false, true);
  const auto second = board.run(200, true, false, true);
  // Both start from x = 0, but the noise is indexed by the global sample counter.
  EXPECT_NE(first.samples_le16(), second.samples_le16());
  EXPECT_EQ(second.first_tick(), first.first_tick() + 200 * 100);
  EXPECT_EQ(first.first_tick(), 100u);  // the first sample is taken one period after tick 0
}

// Golden hashes of the v3 modes, produced and pinned the same way as kGoldenHashSeed1 (the
// reference system, seed 1, 8 cells, from power-up; FNV-1a over the recorded codes). Each pins
// one path of the numerics: the 16-dimensional RLC step, the quartic splitting (J4 = 0.5 on every
// cell), the typical imperfections of serial "GOLDEN-1" and on-board averaging by 8.
struct GoldenMode {
  const char* name;
  std::uint64_t hash;
};

std::string record_mode(const std::string& mode) {
  ResonatorConfig config;
  config.cells = 8;
  if (mode == "typical") {
    config.serial = "GOLDEN-1";
    config.imperfections = ImperfectionModel::typical();
    config.imperfections_name = "typical";
  }
  BoardClient board(config);
  program_reference_system(board);
  firmware_protocol::wire::StartRun start;
  std::uint64_t samples = 4096;
  start.set_reset_state(true);
  start.set_record_samples(true);
  if (mode == "rlc")
    start.set_dynamics(firmware_protocol::wire::DYNAMICS_RLC);
  if (mode == "quartic") {
    EXPECT_TRUE(board.set_quartic(std::vector<std::int16_t>(8, 2048)).has_ack());
  }
  if (mode == "average8") {
    samples = 512;
    start.set_decimation(8);
    start.set_average(true);
  }
  start.set_duration_ticks(samples * 100 * (mode == "average8" ? 8 : 1));
  const auto results = board.run(start);
  EXPECT_EQ(results.samples_le16().size(), 2 * 8 * samples);
  return results.samples_le16();
}

TEST(Replay, EveryDynamicsPathMatchesItsGoldenHash) {
  const GoldenMode modes[] = {{"rlc", 0xaf6405ce8c9bd872ull},
                              {"quartic", 0xc0196af031baf320ull},
                              {"typical", 0x5c9922db0d73a815ull},
                              {"average8", 0x4efee18d3720071aull}};
  for (const auto& mode : modes) {
    const std::uint64_t hash = fnv1a64(record_mode(mode.name));
    EXPECT_EQ(hash, mode.hash) << mode.name << " stream hash is 0x" << std::hex << hash;
    EXPECT_EQ(fnv1a64(record_mode(mode.name)), hash) << mode.name << " does not replay";
  }
}

}  // namespace
}  // namespace kelvin::sim_backend::testing
