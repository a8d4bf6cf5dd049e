// The p-bit board's vector sweep (chains as lanes, pbit_lanes.hpp) against its scalar reference
// loop: the same spins, sums and recorded samples, bit for bit, for every chain count (one to a
// full 64, groups that do not fill their lanes), both thread counts, clamps, stuck p-bits,
// schedules, per-chain betas, warm starts and saturated fields. On a CPU without the vector
// sweep both sides run the scalar loop and the test still checks thread-count independence.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "kelvin/firmware_protocol/pbit_lattice.hpp"
#include "kelvin/sim_backend/pbit_model.hpp"

namespace kelvin::sim_backend::testing {
namespace {

std::span<const std::uint8_t> span_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Raw std::mt19937 output (fixed by the standard): weights in [-6, 6], biases in [-bias, bias].
void program(PbitModel& model, int bias) {
  std::mt19937 gen(11);
  std::string w, b;
  for (std::size_t e = 0; e < model.lattice().edges().size(); ++e)
    w.push_back(static_cast<char>(static_cast<int>(gen() % 13) - 6));
  for (std::uint32_t i = 0; i < model.nodes(); ++i)
    b.push_back(static_cast<char>(static_cast<int>(gen() % (2 * bias + 1)) - bias));
  model.program_lattice(model.nodes(), span_of(w), span_of(b));
}

struct Outcome {
  std::vector<SamplingRecord> records;
  std::vector<std::vector<std::int8_t>> spins;
};

// Two runs (the second a warm start) of `chains` chains on a fresh board.
Outcome sample(const PbitConfig& config, bool vector, unsigned threads, std::uint32_t chains,
               bool chain_betas) {
  PbitModel model(config);
  model.set_vector_sweep(vector);
  model.set_threads(threads);
  program(model, 127);  // biases up to the cap: the field reaches its extremes
  const std::uint32_t clamped[] = {0, 5};
  const std::uint8_t values[] = {1, static_cast<std::uint8_t>(-1)};
  model.set_clamps(clamped, values);
  const std::uint32_t schedule[] = {0, 40, 200, 256, 3000};  // beta 0 to saturation
  model.set_beta_schedule(schedule);
  Outcome out;
  for (const bool reset : {true, false}) {
    SamplingRequest request;
    request.sweeps = 9;
    request.chains = chains;
    request.burn_in_sweeps = 2;
    request.sample_every = 2;
    request.accumulate_moments = true;
    request.record_samples = true;
    request.reset_state = reset;
    for (std::uint32_t c = 0; chain_betas && c < chains; ++c)
      request.chain_beta_codes.push_back(c * 97 % 700);
    const SamplingTicket ticket = model.begin_run(request);
    model.execute(ticket);
    out.records.push_back(model.results(ticket.run_id));
  }
  for (std::uint32_t c = 0; c < chains; ++c)
    out.spins.emplace_back(model.spins(c).begin(), model.spins(c).end());
  return out;
}

void expect_same(const Outcome& a, const Outcome& b) {
  ASSERT_EQ(a.records.size(), b.records.size());
  for (std::size_t r = 0; r < a.records.size(); ++r) {
    EXPECT_EQ(a.records[r].spin_sums, b.records[r].spin_sums) << "run " << r;
    EXPECT_EQ(a.records[r].edge_sums, b.records[r].edge_sums) << "run " << r;
    EXPECT_EQ(a.records[r].samples_bits, b.records[r].samples_bits) << "run " << r;
  }
  EXPECT_EQ(a.spins, b.spins);
}

PbitConfig board(std::uint32_t rows, std::uint32_t cols, std::uint32_t degree) {
  PbitConfig c;
  c.rows = rows;
  c.cols = cols;
  c.degree = degree;
  c.seed = 0x123456789abcull;  // both key words non-zero
  return c;
}

TEST(PbitVectorSweep, MatchesTheScalarLoopForEveryChainCountAndThreadCount) {
  const PbitConfig config = board(13, 11, 12);  // odd width: blocks straddle rows
  for (const std::uint32_t chains : {1u, 2u, 5u, 31u, 33u, 64u}) {
    const Outcome reference = sample(config, false, 1, chains, false);
    for (const unsigned threads : {1u, 2u}) {
      SCOPED_TRACE(::testing::Message() << chains << " chains, " << threads << " threads");
      expect_same(sample(config, true, threads, chains, false), reference);
    }
  }
}

TEST(PbitVectorSweep, MatchesTheScalarLoopWithPerChainBetas) {
  const PbitConfig config = board(10, 12, 16);
  for (const std::uint32_t chains : {3u, 64u}) {
    SCOPED_TRACE(::testing::Message() << chains << " chains");
    expect_same(sample(config, true, 2, chains, true), sample(config, false, 1, chains, true));
  }
}

TEST(PbitVectorSweep, MatchesTheScalarLoopWithStuckPbitsAndOpenEdges) {
  PbitConfig config = board(9, 9, 8);
  config.defects.stuck = {4, 40};
  config.defects.open = {{0, 1}};
  config.defects.bias_dead = {7};
  expect_same(sample(config, true, 2, 40, false), sample(config, false, 1, 40, false));
}

TEST(PbitVectorSweep, IsUsedOnIdealBoardsOnly) {
  PbitModel ideal(board(4, 4, 8));
  ideal.set_vector_sweep(false);
  EXPECT_FALSE(ideal.uses_vector_sweep());
  PbitConfig noisy = board(4, 4, 8);
  noisy.defects.noisy = {3};
  EXPECT_FALSE(PbitModel(noisy).uses_vector_sweep());
  PbitConfig flawed = board(4, 4, 8);
  flawed.imperfections = PbitImperfectionModel::typical();
  EXPECT_FALSE(PbitModel(flawed).uses_vector_sweep());
}

}  // namespace
}  // namespace kelvin::sim_backend::testing
