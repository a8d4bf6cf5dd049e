// Learning with the board in the loop: a fully visible Boltzmann machine learns a known target
// law (one the board can represent: integer couplings) until the exact KL(target || model) of
// the host parameters is below the SGD-noise bound of boltzmann_fixture.hpp (sgd_kl_bound),
// starting far above it, and so is the law of the nearest codes (what sample_visible() runs); a
// conditional model (input nodes) trains its free copies with the inputs clamped. Both train with
// stochastic rounding, the setting the bound is derived for.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "boltzmann_fixture.hpp"
#include "kelvin/testing/boards.hpp"

namespace kelvin::runtime {
namespace {

using kelvin::testing::open_pbit_board;
using testing::grid_model;

constexpr double kBeta = 0.5;

// The per-state statistics (means, then edge correlations) of a model over all its nodes.
std::vector<Eigen::VectorXd> state_stats(const SparseIsingModel& m) {
  std::vector<Eigen::VectorXd> out;
  for (std::size_t x = 0; x < (std::size_t{1} << m.nodes); ++x) {
    Eigen::VectorXd t(m.nodes + m.edges.size());
    auto s = [&](std::uint32_t i) { return ((x >> i) & 1) ? 1.0 : -1.0; };
    for (std::uint32_t i = 0; i < m.nodes; ++i)
      t[i] = s(i);
    for (std::size_t k = 0; k < m.edges.size(); ++k)
      t[m.nodes + k] = s(m.edges[k].i) * s(m.edges[k].j);
    out.push_back(t);
  }
  return out;
}

TEST(BoltzmannLearning, LearnsAKnownTargetLawBelowTheSgdNoiseBound) {
  // Target: a 2 x 3 grid (6 visible nodes, 7 edges, 13 parameters) with integer couplings at
  // beta 0.5. The learner has the same graph, starts from zero and sees 8 fresh exact samples of
  // the target per step.
  driver::PbitBoard board = open_pbit_board("sim:pbit?rows=12&cols=12&degree=8&seed=11");
  BoltzmannModel target = grid_model(2, 3, 12);
  const double w[] = {2, -1, 1, 2, -2, 1, -1};
  const double b[] = {1, 0, -1, 0, 1, 0};
  for (std::size_t k = 0; k < 7; ++k)
    target.edges[k].weight = w[k];
  for (std::uint32_t i = 0; i < 6; ++i)
    target.bias[i] = b[i];
  const SparseIsingModel target_law = testing::ising_of(target, kBeta);
  const std::vector<std::uint32_t> all = {0, 1, 2, 3, 4, 5};
  const std::vector<double> p = exact_marginal(target_law, all);

  BoltzmannOptions o;
  o.beta = kBeta;
  o.batch = 8;
  o.free_copies = 16;
  o.learning_rate = 0.1;
  o.rounding = Rounding::kStochastic;
  constexpr std::uint64_t kSteps = 1500;
  BoltzmannTrainer trainer(board, grid_model(2, 3, 12), o);
  auto kl_of = [&](const SparseIsingModel& m) { return kl_divergence(p, exact_marginal(m, all)); };
  const double kl0 = kl_of(testing::ising_of(trainer.model(), kBeta));
  const testing::SgdKlBound bound =
      testing::sgd_kl_bound(testing::covariance(state_stats(target_law), p), o.learning_rate, kBeta,
                            o.batch, o.free_copies, kSteps, kl0);
  EXPECT_GT(kl0, bound.bound);

  std::mt19937_64 rng(17);
  std::vector<BoltzmannExample> batch(o.batch);
  double wall = 0.0, energy = 0.0;
  for (std::uint64_t t = 0; t < kSteps; ++t) {
    for (auto& e : batch)
      e.visible = testing::draw_state(p, 6, rng);
    const BoltzmannStepResult r = trainer.step(batch);
    wall += r.summary.wall_time_s;
    energy += r.summary.energy.total_j();
  }
  std::printf("[   INFO   ] %llu steps: %.3f s wall, %.3g J modelled (%.3g J per step)\n",
              static_cast<unsigned long long>(kSteps), wall, energy, energy / kSteps);
  const double kl_host = kl_of(testing::ising_of(trainer.model(), kBeta));
  const double kl_board = kl_of(trainer.quantized_model());
  std::printf("KL: start %.4f, host %.5f, board codes %.5f; bound %.4f (m %.5f, transient %.2g)\n",
              kl0, kl_host, kl_board, bound.bound, bound.mean, bound.transient);
  EXPECT_LT(kl_host, bound.bound);
  EXPECT_LT(kl_board, bound.bound);
  EXPECT_EQ(trainer.steps_done(), kSteps);
}

// Conditional model: inputs x0 (node 0), x1 (node 2), outputs y0 (node 1), y1 (node 3) on a
// 2 x 2 grid; edges x0-y0, x0-x1, y0-y1, x1-y1 (grid order: 0-1, 0-2, 1-3, 2-3).
SparseIsingModel conditional_law(const BoltzmannModel& m, int x0, int x1) {
  SparseIsingModel y;  // the law of (y0, y1) given x
  y.nodes = 2;
  y.beta = kBeta;
  y.bias = {m.bias[1] + m.edges[0].weight * x0, m.bias[3] + m.edges[3].weight * x1};
  y.edges = {{0, 1, m.edges[2].weight}};
  return y;
}

TEST(BoltzmannLearning, AConditionalModelTrainsItsFreeCopiesWithTheInputsClamped) {
  driver::PbitBoard board = open_pbit_board("sim:pbit?rows=8&cols=8&degree=8&seed=13");
  BoltzmannModel target = grid_model(2, 2, 8);
  target.roles = {NodeRole::kInput, NodeRole::kVisible, NodeRole::kInput, NodeRole::kVisible};
  target.edges[0].weight = 2;
  target.edges[2].weight = -1;
  target.edges[3].weight = 1;
  target.bias = {0, 1, 0, 0};
  BoltzmannModel learner = target;
  for (auto& e : learner.edges)
    e.weight = 0;
  learner.bias.assign(4, 0.0);

  BoltzmannOptions o;
  o.beta = kBeta;
  o.batch = 8;
  o.free_copies = 8;
  o.learning_rate = 0.1;
  o.rounding = Rounding::kStochastic;
  constexpr std::uint64_t kSteps = 1000;
  BoltzmannTrainer trainer(board, learner, o);

  // Mean conditional KL over the 4 equally likely inputs, and the conditional Fisher matrix
  // E_x Cov(y0, y1, y0 y1, x0 y0, x1 y1 | x) (the x-only statistics have no gradient).
  const int xs[4][2] = {{-1, -1}, {1, -1}, {-1, 1}, {1, 1}};
  auto mean_kl = [&](const BoltzmannModel& m) {
    double kl = 0.0;
    for (const auto& x : xs) {
      const std::uint32_t both[] = {0, 1};
      kl += 0.25 * kl_divergence(exact_marginal(conditional_law(target, x[0], x[1]), both),
                                 exact_marginal(conditional_law(m, x[0], x[1]), both));
    }
    return kl;
  };
  Eigen::MatrixXd fisher = Eigen::MatrixXd::Zero(5, 5);
  for (const auto& x : xs) {
    const std::uint32_t both[] = {0, 1};
    const std::vector<double> py = exact_marginal(conditional_law(target, x[0], x[1]), both);
    std::vector<Eigen::VectorXd> stats;
    for (int s = 0; s < 4; ++s) {
      const double y0 = (s & 1) ? 1 : -1, y1 = (s & 2) ? 1 : -1;
      Eigen::VectorXd t(5);
      t << y0, y1, y0 * y1, x[0] * y0, x[1] * y1;
      stats.push_back(t);
    }
    fisher += 0.25 * testing::covariance(stats, py);
  }
  const double kl0 = mean_kl(trainer.model());
  const testing::SgdKlBound bound =
      testing::sgd_kl_bound(fisher, o.learning_rate, kBeta, o.batch, o.free_copies, kSteps, kl0);
  EXPECT_GT(kl0, bound.bound);

  std::mt19937_64 rng(19);
  std::vector<BoltzmannExample> batch(o.batch);
  for (std::uint64_t t = 0; t < kSteps; ++t) {
    double input_mean[2] = {0, 0};
    for (auto& e : batch) {
      const auto& x = xs[rng() % 4];
      const std::uint32_t both[] = {0, 1};
      e.input = {x[0], x[1]};
      e.visible =
          testing::draw_state(exact_marginal(conditional_law(target, x[0], x[1]), both), 2, rng);
      input_mean[0] += x[0] / 8.0;
      input_mean[1] += x[1] / 8.0;
    }
    const BoltzmannStepResult r = trainer.step(batch);
    // Free copy k carries example k's inputs: the free phase's input means are the batch's.
    ASSERT_EQ(r.free.mean[0], input_mean[0]);
    ASSERT_EQ(r.free.mean[2], input_mean[1]);
  }
  // Both inputs are clamped in both phases: their edge and biases never get a gradient.
  EXPECT_EQ(trainer.model().edges[1].weight, 0.0);
  EXPECT_EQ(trainer.model().bias[0], 0.0);
  const double kl = mean_kl(trainer.model());
  BoltzmannModel nearest = trainer.model();  // the codes sample_visible() writes
  const auto q = trainer.quantized_model();
  for (std::size_t k = 0; k < nearest.edges.size(); ++k)
    nearest.edges[k].weight = q.edges[k].weight;
  nearest.bias = q.bias;
  const double kl_nearest = mean_kl(nearest);
  std::printf("conditional KL of the nearest codes %.5f\n", kl_nearest);
  EXPECT_LT(kl_nearest, bound.bound);
  std::printf("conditional KL: start %.4f, end %.5f; bound %.4f (m %.5f, transient %.2g)\n", kl0,
              kl, bound.bound, bound.mean, bound.transient);
  EXPECT_LT(kl, bound.bound);

  // Conditional samples: y0 follows x0 (coupling 2 at beta 0.5, bias 1).
  const std::vector<std::vector<int>> inputs(64, std::vector<int>{1, -1});
  const auto samples = trainer.sample_visible(64, inputs);
  ASSERT_EQ(samples.size(), 64u);
  int agree = 0;
  for (const auto& s : samples)
    agree += s[0] == 1;
  EXPECT_GT(agree, 48);  // P(y0 = +1 | x0 = +1) ~ 0.95 under the target: 64 draws, mean 61
}

}  // namespace
}  // namespace kelvin::runtime
