// The p-bit board's per-chain beta (StartSampling.chain_beta_codes, since protocol v4): each chain
// samples the law of its own beta, the schedule is overridden only for that run, the RNG keying
// is unchanged, and malformed requests are refused naming the chain.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kelvin/firmware_protocol/pbit_lattice.hpp"
#include "pbit_client.hpp"

namespace kelvin::sim_backend::testing {
namespace {

PbitConfig config_of(std::uint32_t rows, std::uint32_t cols, std::uint32_t degree) {
  PbitConfig c;
  c.rows = rows;
  c.cols = cols;
  c.degree = degree;
  c.seed = 5;
  return c;
}

std::uint32_t edge_count(std::uint32_t rows, std::uint32_t cols, std::uint32_t degree) {
  return static_cast<std::uint32_t>(
      firmware_protocol::make_pbit_lattice(rows, cols, degree).edges().size());
}

// The recorded samples of one chain (chain-major layout), as a string of bytes.
std::string chain_bits(const std::string& bits, std::uint32_t nodes, std::uint64_t per_chain,
                       std::uint32_t chain) {
  const std::size_t bytes = (nodes + 7) / 8;
  return bits.substr(chain * per_chain * bytes, per_chain * bytes);
}

TEST(PbitChainBeta, BoardAdvertisesTheCapability) {
  PbitClient board(config_of(4, 4, 8));
  EXPECT_NE(board.hello().device_info().capabilities() &
                firmware_protocol::wire::CAPABILITY_PER_CHAIN_BETA,
            0u);
}

// Four uncoupled nodes with bias b = 1: every update draws s = +1 with probability
// T / 2^24 = sigmoid(2 beta b) (within 2^-25), independently of everything before, so the
// samples are i.i.d. with mean m = tanh(beta b) and variance 1 - m^2. Chain c's average over
// its 4 N values has standard deviation sqrt((1 - m_c^2) / (4 N)) (0.0034 at beta 0.25 and
// 0.0023 at beta 1 for N = 20000); we allow 5 of them plus the table's 2 * 2^-25. The schedule
// is set to beta = 0 (mean 0), so a chain that ignored its code would miss by 0.24 or more,
// and two chains that shared one beta would differ from one of the targets by 0.5.
TEST(PbitChainBeta, EachChainSamplesTheExactLawOfItsOwnBeta) {
  PbitClient board(config_of(1, 4, 8));
  ASSERT_TRUE(
      board.program_lattice(std::vector<int>(edge_count(1, 4, 8), 0), {1, 1, 1, 1}).has_ack());
  ASSERT_TRUE(board.set_beta_schedule({0}).has_ack());
  SamplingOptions o;
  o.sweeps = 20000;
  o.chains = 2;
  o.burn_in = 10;
  o.record = true;
  o.reset = true;
  o.chain_betas = {64, 256};  // beta 0.25 and 1, exactly representable
  const auto results = board.sample(o);
  ASSERT_EQ(results.sample_count(), 2u * o.sweeps);
  const double betas[] = {0.25, 1.0};
  for (std::uint32_t c = 0; c < 2; ++c) {
    double sum = 0.0;
    for (std::uint64_t k = 0; k < o.sweeps; ++k) {
      for (std::uint32_t i = 0; i < 4; ++i)
        sum += recorded_spin(results.samples_bits(), 4, c * o.sweeps + k, i);
    }
    const double values = 4.0 * static_cast<double>(o.sweeps);
    const double mean = sum / values;
    const double exact = std::tanh(betas[c]);
    const double tolerance = 5.0 * std::sqrt((1.0 - exact * exact) / values) + 2.0 / 33554432.0;
    EXPECT_NEAR(mean, exact, tolerance) << "chain " << c << " at beta " << betas[c];
  }
}

// Codes equal to the schedule's give the very same bits (the RNG is keyed by seed, sweep,
// chain and node only); changing one chain's code leaves the other chains' bits alone.
TEST(PbitChainBeta, ChainCodesEqualToTheScheduleGiveTheSameSamplesBitForBit) {
  const PbitConfig config = config_of(6, 6, 8);
  const std::uint32_t edges = edge_count(6, 6, 8);
  std::mt19937 gen(7);
  std::vector<int> weights, biases;
  for (std::uint32_t e = 0; e < edges; ++e)
    weights.push_back(static_cast<int>(gen() % 13) - 6);
  for (std::uint32_t i = 0; i < 36; ++i)
    biases.push_back(static_cast<int>(gen() % 7) - 3);
  SamplingOptions o;
  o.sweeps = 40;
  o.chains = 3;
  o.burn_in = 5;
  o.record = true;
  o.reset = true;
  const auto run = [&](const std::vector<std::uint32_t>& schedule,
                       const std::vector<std::uint32_t>& chain_betas) {
    PbitClient board(config);
    EXPECT_TRUE(board.program_lattice(weights, biases).has_ack());
    EXPECT_TRUE(board.set_beta_schedule(schedule).has_ack());
    SamplingOptions options = o;
    options.chain_betas = chain_betas;
    return board.sample(options).samples_bits();
  };
  const std::string by_schedule = run({100}, {});
  const std::string by_chain = run({256}, {100, 100, 100});
  EXPECT_EQ(by_schedule, by_chain);
  const std::string mixed = run({256}, {100, 40, 100});
  for (const std::uint32_t c : {0u, 2u})
    EXPECT_EQ(chain_bits(mixed, 36, o.sweeps, c), chain_bits(by_schedule, 36, o.sweeps, c)) << c;
  EXPECT_NE(chain_bits(mixed, 36, o.sweeps, 1), chain_bits(by_schedule, 36, o.sweeps, 1));
}

TEST(PbitChainBeta, MalformedChainCodesAreRefusedNamingTheChain) {
  PbitClient board(config_of(4, 4, 8));
  SamplingOptions o;
  o.sweeps = 10;
  o.chains = 3;
  o.chain_betas = {256, 256};
  Envelope reply = board.start_sampling(o);
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
  EXPECT_NE(reply.error().message().find("2 codes for 3 chains"), std::string::npos)
      << reply.error().message();
  o.chain_betas = {256, 65536, 256};
  reply = board.start_sampling(o);
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_OUT_OF_RANGE));
  EXPECT_NE(reply.error().message().find("chain 1"), std::string::npos) << reply.error().message();
  o.chain_betas = {0, 65535, 256};
  EXPECT_TRUE(board.start_sampling(o).has_run_started());
}

}  // namespace
}  // namespace kelvin::sim_backend::testing
