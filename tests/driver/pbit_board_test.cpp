// The p-bit board API against sim:pbit (models in Ising terms are mapped by the runtime:
// tests/runtime/pbit_ising_model_test.cpp).
#include "kelvin/driver/pbit/pbit_board.hpp"

#include <chrono>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "driver_test_names.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/testing/boards.hpp"

namespace kelvin::driver {
namespace {

using kelvin::testing::open_pbit_board;

// The codes of couplings (i, j, J) and biases between lattice nodes, written directly.
LatticeProgram program_of(const PbitBoard& board,
                          const std::vector<std::tuple<std::uint32_t, std::uint32_t, int>>& edges,
                          const std::vector<int>& bias) {
  LatticeProgram program;
  program.weights.assign(board.lattice().edges().size(), 0);
  program.biases.assign(board.nodes(), 0);
  for (const auto& [i, j, w] : edges)
    program.weights[*board.lattice().edge_index(i, j)] = static_cast<std::int8_t>(w);
  for (std::size_t i = 0; i < bias.size(); ++i)
    program.biases[i] = static_cast<std::int8_t>(bias[i]);
  return program;
}

TEST(PbitBoard, DescribesItsLattice) {
  const PbitBoard board = open_pbit_board();
  EXPECT_EQ(board.description().family, BoardFamily::kPbit);
  EXPECT_EQ(board.nodes(), 12u);
  ASSERT_TRUE(board.description().pbit.has_value());
  EXPECT_EQ(board.pbit().degree, 8u);
  EXPECT_EQ(board.pbit().edge_count, 17u);
  EXPECT_EQ(board.pbit().weight.max_code, 6);
  EXPECT_EQ(board.beta_code(1.0), 256u);
  EXPECT_EQ(board.beta_code(0.5), 128u);
  EXPECT_EQ(kind_of([&] { board.beta_code(300.0); }), ErrorKind::kOutOfRange);
  EXPECT_EQ(kind_of([&] { board.beta_code(-1.0); }), ErrorKind::kOutOfRange);
}

TEST(PbitBoard, RefusesAResonatorDevice) {
  EXPECT_EQ(kind_of([] { PbitBoard board(backends::open("sim:resonator?cells=4")); }),
            ErrorKind::kNotSupported);
}

TEST(PbitBoard, ValidatesBeforeSending) {
  PbitBoard board = open_pbit_board();
  const auto deadline = Deadline::after(5s);
  const std::vector<std::int8_t> biases(12, 0);
  EXPECT_EQ(
      kind_of([&] { board.program_lattice(std::vector<std::int8_t>(16, 0), biases, deadline); }),
      ErrorKind::kInvalidArgument);
  std::vector<std::int8_t> weights(17, 0);
  weights[4] = 7;
  const std::string message = message_of([&] { board.program_lattice(weights, biases, deadline); });
  EXPECT_NE(message.find("edge 4 (nodes 2, 6)"), std::string::npos) << message;
  EXPECT_EQ(kind_of([&] { board.program_lattice(weights, biases, deadline); }),
            ErrorKind::kOutOfRange);
  weights[4] = 0;
  std::vector<std::int8_t> bad_bias(12, 0);
  bad_bias[3] = -128;
  EXPECT_EQ(kind_of([&] { board.program_lattice(weights, bad_bias, deadline); }),
            ErrorKind::kOutOfRange);
  const std::vector<PbitClamp> clamps = {{12, 1}};
  EXPECT_EQ(kind_of([&] { board.set_clamps(clamps, deadline); }), ErrorKind::kOutOfRange);
  const std::vector<PbitClamp> zero = {{1, 0}};
  EXPECT_EQ(kind_of([&] { board.set_clamps(zero, deadline); }), ErrorKind::kInvalidArgument);
  const std::vector<std::uint32_t> schedule = {65536};
  EXPECT_EQ(kind_of([&] { board.set_beta_schedule(schedule, deadline); }), ErrorKind::kOutOfRange);
  SamplingRequest request;
  request.chains = 65;
  EXPECT_EQ(kind_of([&] { board.start_sampling(request, deadline); }), ErrorKind::kOutOfRange);
  request.chains = 1;
  request.sample_every = 2000;
  EXPECT_EQ(kind_of([&] { board.start_sampling(request, deadline); }), ErrorKind::kOutOfRange);
  // Nothing reached the board but the hello: every refusal happened on the host.
  EXPECT_EQ(board.device().stats().requests, 1u);
}

TEST(PbitBoard, SamplesAModelThroughTheSimulator) {
  PbitBoard board = open_pbit_board();
  const auto deadline = Deadline::after(10s);
  board.program_lattice(program_of(board, {{0, 1, 2}, {1, 2, -2}}, {3, 0, 0}), deadline);
  const std::vector<std::uint32_t> schedule = {256};
  board.set_beta_schedule(schedule, deadline);
  SamplingRequest request;
  request.sweeps = 2000;
  request.chains = 4;
  request.burn_in_sweeps = 50;
  request.accumulate_moments = true;
  request.reset_state = true;
  const SamplingResult result = board.sample(request, deadline);
  EXPECT_EQ(result.sample_count, 8000u);
  ASSERT_EQ(result.spin_sums.size(), 12u);
  ASSERT_EQ(result.edge_sums.size(), 17u);
  // Strong bias and couplings at beta 1: s0 ~ +1, s1 follows s0, s2 opposes s1.
  EXPECT_GT(result.mean(0), 0.9);
  EXPECT_GT(result.mean(1), 0.9);
  EXPECT_LT(result.mean(2), -0.9);
  EXPECT_GT(result.edge_correlation(*board.lattice().edge_index(0, 1)), 0.9);
  EXPECT_LT(result.edge_correlation(*board.lattice().edge_index(1, 2)), -0.9);
  // Clamping s0 to -1 flips the chain.
  const std::vector<PbitClamp> clamps = {{0, -1}};
  board.set_clamps(clamps, deadline);
  const SamplingResult clamped = board.sample(request, deadline);
  EXPECT_EQ(clamped.mean(0), -1.0);
  EXPECT_LT(clamped.mean(1), -0.9);
}

// Per-chain beta (since protocol v4): the host checks the count and the codes, naming the chain,
// before sending; a valid request reaches the board, whose two chains then sample at their own
// betas. Node 0 with bias 3 and nothing else: <s_0> = tanh(3 beta), 0 at beta 0 and 0.995 at
// beta 1; each chain's mean over 2000 i.i.d. samples has standard deviation at most
// sqrt(1 / 2000) = 0.022, so 0.15 is more than 6 of them.
TEST(PbitBoard, ChainBetaCodesAreCheckedOnTheHostAndReachTheBoard) {
  PbitBoard board = open_pbit_board();
  const auto deadline = Deadline::after(10s);
  EXPECT_TRUE(board.description().has_capability(capability::kPerChainBeta));
  EXPECT_EQ(capability_names(capability::kPerChainBeta),
            std::vector<std::string>{"per_chain_beta"});
  SamplingRequest request;
  request.sweeps = 2000;
  request.chains = 2;
  request.chain_beta_codes = {0, 256, 256};
  std::string message = message_of([&] { board.start_sampling(request, deadline); });
  EXPECT_NE(message.find("3 chain beta codes for 2 chains"), std::string::npos) << message;
  EXPECT_EQ(kind_of([&] { board.start_sampling(request, deadline); }), ErrorKind::kInvalidArgument);
  request.chain_beta_codes = {0, 70000};
  message = message_of([&] { board.start_sampling(request, deadline); });
  EXPECT_NE(message.find("of chain 1"), std::string::npos) << message;
  EXPECT_EQ(kind_of([&] { board.start_sampling(request, deadline); }), ErrorKind::kOutOfRange);
  EXPECT_EQ(board.device().stats().requests, 1u);  // only the hello

  board.program_lattice(program_of(board, {}, {3}), deadline);
  request.chain_beta_codes = {0, 256};
  request.record_samples = true;
  request.reset_state = true;
  const SamplingResult result = board.sample(request, deadline);
  ASSERT_EQ(result.recorded_samples(), 4000u);
  double chain_sums[2] = {0.0, 0.0};
  for (std::uint64_t k = 0; k < 4000; ++k)
    chain_sums[k / 2000] += result.recorded_spin(k, 0);
  EXPECT_NEAR(chain_sums[0] / 2000.0, 0.0, 0.15);
  EXPECT_NEAR(chain_sums[1] / 2000.0, std::tanh(3.0), 0.15);
}

}  // namespace
}  // namespace kelvin::driver
