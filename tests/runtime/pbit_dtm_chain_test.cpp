// run_denoising_chain(): chained denoising steps on the emulated p-bit board. Steps built from
// copy couplings (output node i coupled only to input node i) make the chain's law known
// exactly, so the tests can tell whether each step's output really becomes the next step's
// clamped input.
#include "kelvin/runtime/pbit/dtm_chain.hpp"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/testing/boards.hpp"
#include "kelvin/testing/errors.hpp"

namespace kelvin::runtime {
namespace {

using namespace std::chrono_literals;
using kelvin::testing::message_of;
using kelvin::testing::open_pbit_board;

// The board of every test here: an 8 x 8 lattice of degree 8.
constexpr const char* kBoardUri = "sim:pbit?rows=8&cols=8&degree=8&seed=5";

// Input node (r, c) and output node (r, c + 1) for even c: 32 pairs on the 8 x 8 board, each
// joined by a nearest-neighbour lattice edge of weight `weight`; every other node is isolated.
DenoisingStep copy_step(const driver::PbitBoard& board, int weight, std::uint32_t beta_code) {
  DenoisingStep step;
  step.program.weights.assign(board.lattice().edges().size(), 0);
  step.program.biases.assign(board.nodes(), 0);
  step.beta_schedule = {beta_code};
  for (std::uint32_t r = 0; r < 8; ++r) {
    for (std::uint32_t c = 0; c < 8; c += 2) {
      const std::uint32_t in = r * 8 + c, out = in + 1;
      step.program.weights[*board.lattice().edge_index(in, out)] = static_cast<std::int8_t>(weight);
      step.input_nodes.push_back(in);
      step.output_nodes.push_back(out);
    }
  }
  return step;
}

TEST(DenoisingChain, OutputCopiesTheClampedInputWithTheGibbsProbability) {
  // Output o_i sees only its clamped input x_i: h = J x_i, so after any sweep
  // P(o_i = x_i) = sigmoid(2 beta J) exactly (the board's LUT is exact to 2^-25), independently
  // across pairs and chains (each update draws its own Philox word). With beta = 0.5 (code 128)
  // and J = 1, p = sigmoid(1) = 0.731059. The copy count over M = 200 chains x 32 pairs = 6,400
  // Bernoulli(p) draws has standard error sqrt(p (1 - p) / M) = 0.00554 on the rate; 4 of them
  // (a false failure once in 16,000) is the tolerance. Without the clamp the rate would be 0.5,
  // 42 standard errors away.
  driver::PbitBoard board = open_pbit_board(kBoardUri);
  const DenoisingStep step = copy_step(board, 1, 128);
  DenoisingOptions options;
  options.sweeps = 2;
  options.chains = 200;
  const DenoisingResult result = run_denoising_chain(board, {&step, 1}, {}, options);
  ASSERT_EQ(result.states.size(), 200u);
  std::uint64_t copies = 0, total = 0, plus = 0;
  for (const auto& chain : result.states) {
    ASSERT_EQ(chain.size(), 2u);
    for (std::size_t i = 0; i < 32; ++i) {
      copies += chain[1][i] == chain[0][i];
      plus += chain[0][i] == 1;
      ++total;
    }
  }
  const double p = 1.0 / (1.0 + std::exp(-1.0));
  const double rate = static_cast<double>(copies) / static_cast<double>(total);
  const double se = std::sqrt(p * (1 - p) / static_cast<double>(total));
  EXPECT_NEAR(rate, p, 4 * se);
  // x_T was drawn as uniform noise per chain: about half +1 (sd 0.00625 of the fraction).
  EXPECT_NEAR(static_cast<double>(plus) / static_cast<double>(total), 0.5, 4 * 0.00625);
  // One program for all 200 chains (the step never changes), one run per chain.
  EXPECT_EQ(result.summary.programs_written, 1u);
  EXPECT_EQ(result.summary.runs, 200u);
  std::printf("[   INFO   ] copy rate %.4f, sigmoid(2 beta J) = %.4f, %.2f se; %s\n", rate, p,
              (rate - p) / se, result.summary.brief_report().c_str());
}

TEST(DenoisingChain, EachStepsOutputIsTheNextStepsClampedInput) {
  // At beta = 2 (code 512) and |J| = 6, |2 beta h| = 24 saturates: a copy fails with probability
  // 1.1e-7 (pbit_registers.hpp), so over 2 chains x 3 steps x 32 nodes the chain is
  // deterministic up to 2e-5. Positive couplings pass the pattern on unchanged; negative ones
  // flip it, so an all-negative chain alternates and a (+, -, +) chain flips once, which only
  // happens if every step is clamped to the previous step's output (not to x_T).
  driver::PbitBoard board = open_pbit_board(kBoardUri);
  std::vector<int> x_T(32);
  for (std::size_t i = 0; i < x_T.size(); ++i)
    x_T[i] = (i * 7) % 3 == 0 ? 1 : -1;
  auto negated = [](std::vector<int> x) {
    for (int& v : x)
      v = -v;
    return x;
  };
  DenoisingOptions options;
  options.sweeps = 20;
  options.burn_in_sweeps = 5;
  options.chains = 2;

  const std::vector<DenoisingStep> same = {copy_step(board, 6, 512), copy_step(board, 6, 512),
                                           copy_step(board, 6, 512)};
  const std::vector<DenoisingStep> alternating = {
      copy_step(board, -6, 512), copy_step(board, -6, 512), copy_step(board, -6, 512)};
  const std::vector<DenoisingStep> mixed = {copy_step(board, 6, 512), copy_step(board, -6, 512),
                                            copy_step(board, 6, 512)};
  const auto kept = run_denoising_chain(board, same, x_T, options);
  const auto flipped = run_denoising_chain(board, alternating, x_T, options);
  const auto once = run_denoising_chain(board, mixed, x_T, options);
  for (std::uint32_t c = 0; c < 2; ++c) {
    ASSERT_EQ(kept.states[c].size(), 4u);
    EXPECT_EQ(kept.states[c][0], x_T);
    for (int k = 1; k <= 3; ++k) {
      EXPECT_EQ(kept.states[c][k], x_T) << "chain " << c << " step " << k;
      EXPECT_EQ(flipped.states[c][k], k % 2 ? negated(x_T) : x_T) << "chain " << c << " " << k;
    }
    EXPECT_EQ(once.states[c][1], x_T);
    EXPECT_EQ(once.states[c][2], negated(x_T));
    EXPECT_EQ(once.states[c][3], negated(x_T));
    ASSERT_EQ(kept.run_ids[c].size(), 3u);
  }
  // Distinct runs, in order.
  EXPECT_LT(kept.run_ids[0][0], kept.run_ids[0][1]);
  EXPECT_LT(kept.run_ids[0][2], kept.run_ids[1][0]);

  // The ledger counts every write: 2 chains x 3 steps, each a full program (168 edges + 64
  // biases) and 32 clamps, and one beta code (the schedule never changes); one 64-node read per
  // run; the 32 unclamped nodes update on each of the 25 sweeps.
  const DenoisingSummary& s = kept.summary;
  const std::uint64_t edges = board.lattice().edges().size();
  EXPECT_EQ(s.programs_written, 6u);
  EXPECT_EQ(s.codes_written, 6 * (edges + 64 + 32) + 1);
  EXPECT_EQ(s.energy.activity.dac_codes, s.codes_written);
  EXPECT_DOUBLE_EQ(s.energy.dac_j, 153.6e-12 * static_cast<double>(s.codes_written));
  EXPECT_DOUBLE_EQ(s.energy.adc_j, 1.69e-12 * 6 * 64);
  EXPECT_DOUBLE_EQ(s.energy.analog_j, 2e-15 * 6 * 32 * 25);
  EXPECT_GT(s.energy.io_bytes, 0u);
  EXPECT_NE(s.full_report().find("programs written"), std::string::npos);
  std::printf("[   INFO   ] %s\n", s.brief_report().c_str());
}

TEST(DenoisingChain, RunsStepsBuiltFromEmbeddedModels) {
  // Inputs are model nodes 0..3, outputs 4..7, joined by J = 2 at beta 6: unit 2/6, codes 6,
  // beta_board = 6 * 1/3 = 2 (code 512), so again |2 beta h| = 24 saturates and the output
  // copies the input; the embedding's placement decides where on the lattice that happens.
  driver::PbitBoard board = open_pbit_board(kBoardUri);
  SparseIsingModel m;
  m.nodes = 8;
  m.beta = 6.0;
  m.edges = {{5, 1, 2.0}, {0, 4, 2.0}, {3, 7, 2.0}, {6, 2, 2.0}};
  const ModelEmbedding emb = embed_model(m, board.pbit());
  EXPECT_EQ(emb.beta_code, 512u);
  const std::uint32_t inputs[] = {0, 1, 2, 3};
  const std::uint32_t outputs[] = {4, 5, 6, 7};
  const DenoisingStep step = make_denoising_step(emb, inputs, outputs);
  EXPECT_EQ(step.input_nodes[2], emb.placement[2]);
  const std::vector<DenoisingStep> steps(3, step);
  const std::vector<int> x_T = {1, -1, -1, 1};
  const auto result = run_denoising_chain(board, steps, x_T, {.sweeps = 10});
  for (int k = 1; k <= 3; ++k)
    EXPECT_EQ(result.states[0][k], x_T);
  const std::uint32_t bad[] = {8};
  EXPECT_EQ(message_of([&] { make_denoising_step(emb, bad, outputs); }),
            "input model node 8 is outside the embedding's 8 nodes");
}

TEST(DenoisingChain, RefusesBadStepsAndStatesBeforeSendingAnything) {
  driver::PbitBoard board = open_pbit_board(kBoardUri);
  const std::uint64_t requests = board.device().stats().requests;
  const DenoisingStep good = copy_step(board, 1, 256);
  const std::vector<int> x_T(32, 1);
  auto run = [&](std::vector<DenoisingStep> steps, std::vector<int> x, DenoisingOptions o = {}) {
    return message_of([&] { run_denoising_chain(board, steps, x, o); });
  };
  EXPECT_EQ(run({}, x_T), "a denoising chain needs at least one step");
  DenoisingStep s = good;
  s.output_nodes.pop_back();
  EXPECT_EQ(run({good, s}, x_T), "step 1 of 2 has 32 input nodes but 31 output nodes");
  s = good;
  s.input_nodes.pop_back();
  s.output_nodes.pop_back();
  EXPECT_EQ(run({good, s}, x_T),
            "step 1 of 2 has 31 input nodes but step 0 has 32 (each output feeds the next step's "
            "input)");
  s = good;
  s.output_nodes[3] = 64;
  EXPECT_EQ(run({s}, x_T), "step 0 of 1: output node 64 is outside the board's 64 nodes");
  s = good;
  s.input_nodes[1] = s.input_nodes[0];
  EXPECT_EQ(run({s}, x_T), "step 0 of 1: input node 0 is listed twice");
  s = good;
  s.output_nodes[5] = s.input_nodes[2];
  EXPECT_EQ(run({s}, x_T), "step 0 of 1: node 4 is both an input and an output");
  s = good;
  s.program.weights[7] = 7;
  EXPECT_EQ(run({s}, x_T), "step 0 of 1: weight 7 of lattice edge 7 is outside [-6, 6]");
  s = good;
  s.program.biases.pop_back();
  const std::string edges = std::to_string(board.lattice().edges().size());  // 168
  EXPECT_EQ(run({s}, x_T), "step 0 of 1 programs " + edges +
                               " weights and 63 biases; the board has " + edges +
                               " edges and 64 nodes");
  std::vector<int> x = x_T;
  x[9] = 0;
  EXPECT_EQ(run({good}, x), "x_T[9] = 0 is not +1 or -1");
  x.pop_back();
  EXPECT_EQ(run({good}, x), "x_T has 31 values; the steps take 32");
  EXPECT_EQ(run({good}, x_T, {.sweeps = 0}),
            "DenoisingOptions.sweeps = 0 is outside [1, 4294967295]");
  EXPECT_EQ(run({good}, x_T, {.chains = 0}), "DenoisingOptions.chains = 0 is outside [1, 100000]");
  EXPECT_EQ(run({good}, x_T, {.timeout = 0ms}), "DenoisingOptions.timeout = 0 ms is not positive");
  EXPECT_EQ(board.device().stats().requests, requests);  // all refused on the host
}

}  // namespace
}  // namespace kelvin::runtime
