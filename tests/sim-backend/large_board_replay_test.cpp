// Bit-exact replay of boards larger than one 32-row group of the step kernel (linear_kernel.hpp):
// dense couplings, padded last groups, a banded noise factor whose zero columns are skipped, and
// the 2N-dimensional RLC step. The 8-cell golden hashes (replay_test.cpp) fit in one group.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "board_client.hpp"

namespace kelvin::sim_backend::testing {
namespace {

// A dense, diagonally dominant (so positive definite) coupling matrix: 0.6 on the diagonal,
// mixed-sign off-diagonals whose row sums stay below 0.5.
std::vector<std::int16_t> dense_couplings(std::uint32_t n) {
  return upper_codes(n, [n](std::uint32_t i, std::uint32_t j) -> std::int16_t {
    if (i == j)
      return 9830;
    const int off = static_cast<int>((i * 31 + j * 17) % 64) - 32;
    return static_cast<std::int16_t>(off * 256 / static_cast<int>(n));
  });
}

// The first 512 samples after power-up of an n-cell board, seed 3: `dense` couplings or the
// tridiagonal reference system, biases and noise of program_reference_system().
std::string record(std::uint32_t n, bool dense, bool rlc) {
  ResonatorConfig config;
  config.cells = n;
  config.seed = 3;
  BoardClient board(config);
  program_reference_system(board);
  if (dense) {
    EXPECT_TRUE(board.program_couplings(dense_couplings(n)).has_ack());
  }
  firmware_protocol::wire::StartRun start;
  constexpr std::uint64_t kSamples = 512;
  start.set_reset_state(true);
  start.set_record_samples(true);
  start.set_duration_ticks(kSamples * 100);
  if (rlc)
    start.set_dynamics(firmware_protocol::wire::DYNAMICS_RLC);
  const auto results = board.run(start);
  EXPECT_EQ(results.samples_le16().size(), 2 * n * kSamples);
  return results.samples_le16();
}

struct GoldenBoard {
  std::uint32_t cells;
  bool dense;
  bool rlc;
  std::uint64_t hash;
};

// Produced by the row-by-row scalar step that came before the kernel (commit f585d86), pasted
// from this test's failure messages; FNV-1a over the recorded codes as in replay_test.cpp.
TEST(Replay, BoardsOfSeveralRowGroupsMatchTheirGoldenHashes) {
  const GoldenBoard boards[] = {{64, true, false, 0x3666fa0db406c26dull},
                                {100, true, false, 0xd9815af9b51c3536ull},
                                {70, false, false, 0x9a9168f87a9775c8ull},
                                {40, true, true, 0xa6bec02dd7c0633dull}};
  for (const auto& b : boards) {
    const std::uint64_t hash = fnv1a64(record(b.cells, b.dense, b.rlc));
    EXPECT_EQ(hash, b.hash) << b.cells << " cells, dense " << b.dense << ", rlc " << b.rlc
                            << ": stream hash is 0x" << std::hex << hash;
  }
}

}  // namespace
}  // namespace kelvin::sim_backend::testing
