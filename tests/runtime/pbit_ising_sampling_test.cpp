// sample_ising(): what it refuses before any device work (chains beyond the board's, betas that
// round to code 0), what it warns about (a beta realized far from the one asked for, quantities
// that never changed, error bars it cannot give), that splitting a job into board runs for its
// recorded samples changes no chain, and what its energy ledger counts.
#include "kelvin/runtime/pbit/ising_sampling.hpp"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/pbit/parallel_tempering.hpp"
#include "kelvin/testing/boards.hpp"
#include "kelvin/testing/errors.hpp"

namespace kelvin::runtime {
namespace {

using common::ErrorKind;
using kelvin::testing::kind_of;
using kelvin::testing::message_of;
using kelvin::testing::open_pbit_board;

// Three nodes of the 3 x 4 test lattice: 0 - 1 - 2 along row 0.
IsingModel chain_model() {
  IsingModel m;
  m.nodes = 3;
  m.edges = {{0, 1, 2}, {1, 2, -1}};
  m.bias = {1, 0, 0};
  return m;
}

bool any_warning_contains(const IsingSamplingSummary& s, const std::string& text) {
  for (const std::string& w : s.warnings) {
    if (w.find(text) != std::string::npos)
      return true;
  }
  return false;
}

TEST(IsingSampling, RefusesMoreChainsThanTheBoardRunsBeforeAnyDeviceWork) {
  auto board = open_pbit_board();
  IsingSamplingOptions options;
  options.chains = 1024;  // the options allow it; the emulator runs 64
  EXPECT_NO_THROW(options.validate());
  const std::string message = message_of([&] { sample_ising(board, chain_model(), options); });
  EXPECT_NE(message.find("chains = 1024"), std::string::npos) << message;
  EXPECT_NE(message.find("at most 64"), std::string::npos) << message;
  EXPECT_EQ(kind_of([&] { sample_ising(board, chain_model(), options); }),
            ErrorKind::kInvalidArgument);
  EXPECT_EQ(board.device().stats().requests, 1u);  // only the hello: nothing was programmed
}

TEST(IsingSampling, RefusesABetaThatRoundsToTheUniformLaw) {
  auto board = open_pbit_board();
  IsingSamplingOptions options;
  options.beta = 0.001;  // 0.256 of a 1/256 step: code 0
  const std::string message = message_of([&] { sample_ising(board, chain_model(), options); });
  EXPECT_NE(message.find("beta = 0.001 rounds to beta code 0"), std::string::npos) << message;
  EXPECT_NE(message.find("step is 0.00390625"), std::string::npos) << message;
  EXPECT_NE(message.find("smallest positive beta is 0.00390625"), std::string::npos) << message;
  options.beta = 0.0;
  options.beta_schedule = {0.5, 0.001, 1.0};
  const std::string schedule = message_of([&] { sample_ising(board, chain_model(), options); });
  EXPECT_NE(schedule.find("beta_schedule[1] = 0.001"), std::string::npos) << schedule;
  EXPECT_EQ(board.device().stats().requests, 1u);
  // Beta 0 itself is the uniform law, asked for: it runs.
  options.beta_schedule.clear();
  options.sweeps = 10;
  EXPECT_EQ(sample_ising(board, chain_model(), options).summary.beta_code, 0u);
}

TEST(IsingSampling, WarnsWhenTheRealizedBetaIsMateriallyOff) {
  auto board = open_pbit_board();
  IsingSamplingOptions options;
  options.sweeps = 20;
  options.beta = 0.01;  // code 3 = 0.01171875, 17% off
  const IsingSamplingSummary s = sample_ising(board, chain_model(), options).summary;
  EXPECT_EQ(s.beta_given, 0.01);
  EXPECT_EQ(s.beta_used, 3.0 / 256);
  EXPECT_EQ(s.beta_step, 1.0 / 256);
  EXPECT_NEAR(s.beta_relative_error, 0.171875, 1e-12);
  EXPECT_TRUE(any_warning_contains(s, "beta = 0.01 is realized as 0.0117188")) << s.brief_report();
  options.beta = 0.5;  // code 128, exact
  const IsingSamplingSummary exact = sample_ising(board, chain_model(), options).summary;
  EXPECT_EQ(exact.beta_relative_error, 0.0);
  EXPECT_FALSE(any_warning_contains(exact, "realized as"));
}

TEST(IsingSampling, ErrorBarsComeFromChainsOrBatchesAndSaySo) {
  auto board = open_pbit_board();
  IsingSamplingOptions options;
  options.beta = 0.5;
  const IsingSamplingResult one = sample_ising(board, chain_model(), options);
  EXPECT_EQ(one.summary.error_bars_used, "batches");
  EXPECT_EQ(one.summary.stderr_dof, 19u);
  EXPECT_NE(one.summary.stderr_method.find("20 batches"), std::string::npos);
  EXPECT_EQ(one.summary.split_rhat_sequences, 4u);  // quarters of the one chain
  options.chains = 8;
  const IsingSamplingResult eight = sample_ising(board, chain_model(), options);
  EXPECT_EQ(eight.summary.error_bars_given, "auto");
  EXPECT_EQ(eight.summary.error_bars_used, "chains");
  EXPECT_EQ(eight.summary.stderr_dof, 7u);
  EXPECT_EQ(eight.summary.split_rhat_sequences, 16u);
  for (const auto* r : {&one, &eight}) {
    ASSERT_EQ(r->mean_stderr.size(), 3u);
    ASSERT_EQ(r->edge_correlation_stderr.size(), 2u);
    for (const double se : r->mean_stderr) {
      EXPECT_GT(se, 0.0);
      EXPECT_LT(se, 0.2);
    }
    EXPECT_TRUE(r->summary.warnings.empty()) << r->summary.brief_report();
    ASSERT_TRUE(r->summary.split_rhat_max.has_value());
    EXPECT_LT(*r->summary.split_rhat_max, kSplitRhatLimit);
  }
  options.error_bars = ErrorBars::kBatchMeans;  // pooled over the 8 chains: 8 x 19 dof
  EXPECT_EQ(sample_ising(board, chain_model(), options).summary.stderr_dof, 152u);
  options.chains = 1;
  options.error_bars = ErrorBars::kBetweenChains;
  EXPECT_EQ(kind_of([&] { options.validate(); }), ErrorKind::kInvalidArgument);
}

TEST(IsingSampling, AQuantityThatNeverChangedHasNoErrorBar) {
  auto board = open_pbit_board();
  IsingModel model = chain_model();
  model.bias = {1, 0, 127};  // node 2: P(-1) = 1 / (1 + e^254) at beta 1
  IsingSamplingOptions options;
  options.chains = 4;
  const IsingSamplingResult r = sample_ising(board, model, options);
  EXPECT_EQ(r.mean[2], 1.0);
  EXPECT_TRUE(std::isnan(r.mean_stderr[2]));
  EXPECT_TRUE(std::isnan(r.mean_split_rhat[2]));
  EXPECT_TRUE(std::isfinite(r.mean_stderr[0]));
  EXPECT_GE(r.summary.frozen, 1u);
  EXPECT_TRUE(any_warning_contains(r.summary, "never changed in any chain (first: node 2)"))
      << r.summary.brief_report();
}

TEST(IsingSampling, WithoutErrorBarsSaysWhy) {
  auto board = open_pbit_board();
  IsingSamplingOptions options;
  options.error_bars = ErrorBars::kNone;
  const IsingSamplingResult none = sample_ising(board, chain_model(), options);
  EXPECT_EQ(none.summary.error_bars_used, "none");
  EXPECT_FALSE(none.summary.stderr_dof.has_value());
  EXPECT_TRUE(std::isnan(none.mean_stderr[0]));
  EXPECT_EQ(none.summary.recorded_bytes, 0u);
  options.error_bars = ErrorBars::kAuto;
  options.max_record_bytes = 100;  // 1,000 samples of 2 bytes do not fit
  const IsingSamplingResult over = sample_ising(board, chain_model(), options);
  EXPECT_EQ(over.summary.error_bars_used, "none");
  EXPECT_TRUE(any_warning_contains(over.summary, "no error bars or mixing diagnostics"))
      << over.summary.brief_report();
}

// Parallel tempering's ladder follows the same rule: a replica at beta 0.001 would sample the
// uniform law.
TEST(ParallelTemperingBetas, RefusesALadderBetaThatRoundsToCodeZero) {
  auto board = open_pbit_board();
  ParallelTemperingOptions options;
  options.betas = {0.001, 0.5, 1.0};
  const std::string message =
      message_of([&] { run_parallel_tempering(board, chain_model(), options); });
  EXPECT_NE(message.find("betas[0] = 0.001 rounds to beta code 0"), std::string::npos) << message;
  EXPECT_EQ(board.device().stats().requests, 1u);
}

// The record limit cuts a long job into several board runs (on the 70 x 70 lattice a sample is
// 613 bytes: about 1,620 samples a run). The board keys its random numbers by its global sweep
// counter, so the chains are those of one run: every mean and correlation equals the one-run
// (unrecorded) job's exactly, also with a beta schedule that outlasts the first run (each later
// run reloads the rest of it).
TEST(IsingSampling, SplittingIntoRunsForTheRecordsChangesNoChain) {
  const std::string uri = "sim:pbit?rows=70&cols=70&degree=12&seed=5";
  IsingSamplingOptions options;
  options.sweeps = 4000;
  options.burn_in_sweeps = 10;
  for (int k = 0; k < 3000; ++k)
    options.beta_schedule.push_back(0.25 + 0.5 * k / 2999.0);
  auto recorded_board = driver::PbitBoard(driver::backends::open(uri));
  const IsingSamplingResult recorded = sample_ising(recorded_board, chain_model(), options);
  EXPECT_EQ(recorded.summary.runs, 3u);
  options.error_bars = ErrorBars::kNone;
  auto plain_board = driver::PbitBoard(driver::backends::open(uri));
  const IsingSamplingResult plain = sample_ising(plain_board, chain_model(), options);
  EXPECT_EQ(plain.summary.runs, 1u);
  EXPECT_EQ(recorded.mean, plain.mean);
  EXPECT_EQ(recorded.edge_correlations, plain.edge_correlations);
  // The schedule's rest before run 2 (3,000 - 1,632 codes) and its last code before run 3.
  EXPECT_EQ(recorded.summary.energy.activity.dac_codes,
            plain.summary.energy.activity.dac_codes + (3000 - 1632) + 1);
}

// A 3-node model on a 6 x 6 lattice: the board sweeps all 36 nodes of every chain (unused nodes
// are free, uncoupled spins), and the ledger counts them and says so; a GPU doing the same
// sampling digitally updates only the 3 model nodes, reading 2 couplings per model edge.
TEST(IsingSampling, LedgerCountsTheSweptLatticeAndTheGpuOnlyTheModel) {
  auto board = driver::PbitBoard(driver::backends::open("sim:pbit?rows=6&cols=6&degree=8&seed=1"));
  IsingSamplingOptions options;
  options.sweeps = 200;
  options.burn_in_sweeps = 50;
  options.chains = 2;
  const IsingSamplingSummary s = sample_ising(board, chain_model(), options).summary;
  EXPECT_EQ(s.nodes, 3u);
  EXPECT_EQ(s.nodes_swept, 36u);
  const std::uint64_t sweeps = 2 * 250;  // chains x (burn-in + sweeps)
  EXPECT_EQ(s.energy.activity.cell_sample_periods, 36 * sweeps);
  EXPECT_EQ(s.energy.activity.adc_conversions, 36u * 400);  // 400 samples of 36 nodes
  const EnergyModel constants;
  EXPECT_DOUBLE_EQ(s.energy.gpu_flops,
                   constants.gpu_flops_per_pbit_update_base * 3 * sweeps + 2.0 * 2 * 2 * sweeps);
  EXPECT_EQ(s.recorded_bytes, 400u * 5);  // 36 nodes: 5 bytes a sample
}

}  // namespace
}  // namespace kelvin::runtime
