// BoltzmannTrainer's moment estimates on the emulated p-bit board against exact enumeration of
// the QUANTIZED model (the law the board realizes: weights and biases as their codes, beta as
// its code), for both phases of one run.
//
// Tolerance (derived, not tuned). Each phase's estimate of a statistic is the mean over its
// copies of per-copy averages; the copies are disjoint translations on the lattice with
// independent chains, so the per-copy averages are i.i.d. (each averages 8 chains x 400
// sweeps, close to normal), and (estimate - exact) / stderr is Student-t with copies - 1 = 23
// degrees of freedom whatever the autocorrelation within a chain. P(|t_23| > 5) = 4.6e-5, so over
// the 2 x 29 statistics a false failure has probability below 0.3%. Statistics with stderr 0
// (clamped nodes, edges between two clamped nodes) must equal the exact value exactly. So that
// the error bars mean something, the largest stderr must be below 0.02, and the unquantized
// model's exact moments must lie more than 5 stderr away somewhere (the test can tell the
// quantized law from the requested one). Burn-in: 100 sweeps from a random state on a 12-node
// model whose largest |beta J| is 0.8; the remaining bias is far below the error bars.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "boltzmann_fixture.hpp"
#include "kelvin/testing/boards.hpp"

namespace kelvin::runtime {
namespace {

using kelvin::testing::open_pbit_board;
using testing::grid_model;

// 3 x 4 grid: rows 0 and 2 visible, row 1 hidden; non-integer weights and biases.
BoltzmannModel latent_grid(std::uint32_t lattice_cols) {
  BoltzmannModel m = grid_model(3, 4, lattice_cols);
  const double w[] = {1.3,  -2.4, 0.6,  1.8, -1.6, 2.2, -0.7, 0.9, 1.4,
                      -1.2, 2.0,  -0.4, 1.1, -1.9, 0.8, 1.7,  -2.1};
  const double b[] = {0.4, -0.3, 0.2, 0.0, -0.6, 0.7, 0.3, -0.2, 0.1, -0.4, 0.5, 0.2};
  for (std::size_t k = 0; k < m.edges.size(); ++k)
    m.edges[k].weight = w[k];
  for (std::uint32_t i = 0; i < m.nodes; ++i) {
    m.bias[i] = b[i];
    m.roles[i] = i / 4 == 1 ? NodeRole::kHidden : NodeRole::kVisible;
  }
  return m;
}

struct Check {
  double max_stderr = 0.0;
  int unquantized_far = 0;  // statistics whose unquantized exact value is > 5 stderr away
};

void expect_agreement(const char* phase, const std::vector<double>& est,
                      const std::vector<double>& se, const std::vector<double>& exact,
                      const std::vector<double>& unquantized, Check& check) {
  ASSERT_EQ(est.size(), exact.size());
  for (std::size_t q = 0; q < est.size(); ++q) {
    if (se[q] == 0.0) {
      EXPECT_EQ(est[q], exact[q]) << phase << " statistic " << q << " (clamped)";
      continue;
    }
    const double t = (est[q] - exact[q]) / se[q];
    EXPECT_LT(std::abs(t), 5.0) << phase << " statistic " << q << ": " << est[q] << " +- " << se[q]
                                << " vs exact " << exact[q];
    check.max_stderr = std::max(check.max_stderr, se[q]);
    if (std::abs(est[q] - unquantized[q]) > 5.0 * se[q])
      ++check.unquantized_far;
  }
}

TEST(BoltzmannMoments, BothPhasesMatchExactEnumerationOfTheQuantizedModel) {
  driver::PbitBoard board = open_pbit_board("sim:pbit?rows=24&cols=24&degree=8&seed=7");
  BoltzmannOptions o;
  o.beta = 0.4;
  o.batch = 24;
  o.free_copies = 24;
  o.chains = 8;
  o.burn_in_sweeps = 100;
  o.sweeps = 400;
  o.sample_every = 1;
  BoltzmannTrainer trainer(board, latent_grid(24), o);
  ASSERT_GE(trainer.copies_available(), 48u);

  const std::vector<int> pattern = {1, -1, 1, 1, -1, -1, 1, -1};  // rows 0 and 2
  const std::vector<BoltzmannExample> batch(24, BoltzmannExample{pattern, {}});
  const BoltzmannStepResult r = trainer.estimate(batch);
  EXPECT_EQ(r.clamped.dof, 23u);
  EXPECT_EQ(r.free.dof, 23u);
  EXPECT_EQ(r.free.samples, 8u * 400u);
  EXPECT_EQ(trainer.steps_done(), 0u);

  const SparseIsingModel quantized = trainer.quantized_model();
  EXPECT_DOUBLE_EQ(quantized.beta, 102.0 / 256.0);
  EXPECT_EQ(quantized.edges[0].weight, 1.0);  // 1.3 rounds to code 1
  const SparseIsingModel requested = testing::ising_of(trainer.model(), 0.4);
  const std::vector<std::uint32_t> visible = trainer.model().nodes_with(NodeRole::kVisible);

  Check check;
  const ExactIsingMoments cond = exact_conditional(quantized, visible, pattern);
  const ExactIsingMoments cond_u = exact_conditional(requested, visible, pattern);
  expect_agreement("clamped mean", r.clamped.mean, r.clamped.mean_stderr, cond.mean, cond_u.mean,
                   check);
  expect_agreement("clamped correlation", r.clamped.correlation, r.clamped.correlation_stderr,
                   cond.correlation, cond_u.correlation, check);
  const ExactIsingMoments free = exact_ising(quantized);
  const ExactIsingMoments free_u = exact_ising(requested);
  expect_agreement("free mean", r.free.mean, r.free.mean_stderr, free.mean, free_u.mean, check);
  expect_agreement("free correlation", r.free.correlation, r.free.correlation_stderr,
                   free.correlation, free_u.correlation, check);
  EXPECT_LT(check.max_stderr, 0.02);
  EXPECT_GT(check.unquantized_far, 0);
  std::printf("max stderr %.4f; %d statistics > 5 stderr from the unquantized model's\n",
              check.max_stderr, check.unquantized_far);
}

TEST(BoltzmannRounding, StochasticRoundingIsUnbiasedOverSteps) {
  // Fixed (untrained) weight 2.3 and -0.7 and bias 0.6: each step writes floor(x) + Bernoulli(f),
  // f = frac(x), from a hash of (seed, step, parameter). Over N = 400 steps the mean code has
  // standard deviation sqrt(f (1 - f) / N) <= 0.025; 4.5 of them is the tolerance (false failure
  // below 1e-5 per parameter). Every code is floor(x) or floor(x) + 1.
  driver::PbitBoard board = open_pbit_board("sim:pbit?rows=6&cols=6&degree=8&seed=3");
  BoltzmannModel m = grid_model(1, 3, 6);
  m.edges[0].weight = 2.3;
  m.edges[1].weight = -0.7;
  m.bias = {0.6, 0.0, 0.0};
  for (auto& e : m.edges)
    e.trainable = false;
  m.bias_trainable.assign(3, false);
  BoltzmannOptions o;
  o.batch = 1;
  o.free_copies = 2;
  o.chains = 1;
  o.burn_in_sweeps = 0;
  o.sweeps = 1;
  o.sample_every = 1;
  o.rounding = Rounding::kStochastic;
  BoltzmannTrainer trainer(board, m, o);
  const std::vector<BoltzmannExample> batch = {{{1, 1, -1}, {}}};
  const double x[] = {2.3, -0.7, 0.6};
  const std::size_t slot[] = {0, 1, 2};  // weights 0, 1, then bias of node 0
  constexpr int kSteps = 400;
  double sum[3] = {0, 0, 0};
  for (int t = 0; t < kSteps; ++t) {
    trainer.step(batch);
    for (int k = 0; k < 3; ++k) {
      const double code = static_cast<double>(trainer.last_codes()[slot[k]]);
      EXPECT_TRUE(code == std::floor(x[k]) || code == std::floor(x[k]) + 1) << code;
      sum[k] += code;
    }
  }
  EXPECT_EQ(trainer.model().edges[0].weight, 2.3);  // untrained
  for (int k = 0; k < 3; ++k) {
    const double f = x[k] - std::floor(x[k]);
    EXPECT_NEAR(sum[k] / kSteps, x[k], 4.5 * std::sqrt(f * (1 - f) / kSteps)) << "parameter " << k;
  }
}

TEST(BoltzmannRounding, TheWeightCapAndBiasRangeAreHonouredAndClippingIsCounted) {
  // Data always (+1, +1): the gradient of the weight and of both biases is beta (1 - <.>_free),
  // positive whenever a free sample is not (+1, +1). At beta = 3/256 the free law has
  // <s0> = tanh(beta 126.5) = 0.9 and <s0 s1> below 0.2, so with a learning rate of 1000 the
  // weight (step ~10) and bias 0 (step ~1.5) pass the cap (6) and the range (127) at once and are
  // clipped at every step; bias 1 (step ~10 from 0) is not.
  driver::PbitBoard board = open_pbit_board("sim:pbit?rows=6&cols=6&degree=8&seed=3");
  BoltzmannModel m = grid_model(1, 2, 6);
  m.edges[0].weight = 5.5;
  m.bias = {126.5, 0.0};
  BoltzmannOptions o;
  o.batch = 2;
  o.free_copies = 2;
  o.beta = 3.0 / 256.0;
  o.learning_rate = 1000.0;
  o.rounding = Rounding::kStochastic;
  BoltzmannTrainer trainer(board, m, o);
  const std::vector<BoltzmannExample> batch(2, BoltzmannExample{{1, 1}, {}});
  std::uint64_t weights_clipped = 0, biases_clipped = 0;
  for (int t = 0; t < 3; ++t) {
    const BoltzmannStepResult r = trainer.step(batch);
    weights_clipped += r.summary.weights_clipped;
    biases_clipped += r.summary.biases_clipped;
    EXPECT_LE(std::abs(trainer.last_codes()[0]), board.pbit().weight.max_code);
  }
  EXPECT_EQ(trainer.model().edges[0].weight, 6.0);
  EXPECT_EQ(trainer.model().bias[0], 127.0);
  EXPECT_LT(trainer.model().bias[1], 127.0);
  EXPECT_EQ(weights_clipped, 3u);
  EXPECT_EQ(biases_clipped, 3u);
  EXPECT_EQ(trainer.program().weights[*board.lattice().edge_index(0, 1)], 6);
}

}  // namespace
}  // namespace kelvin::runtime
