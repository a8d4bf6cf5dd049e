// End to end: a small real-valued model, given in a shuffled node order, embedded onto the
// emulated p-bit board and sampled there, against the exact law of its QUANTIZED model (what
// the board realizes: J_q = unit * J_code, b_q = unit * b_code, beta_q = beta_board / unit),
// enumerated over all 2^10 states (pbit_exact_law.hpp).
//
// Tolerance (derived, not tuned). The compared statistics are the 10 means <s_i> and the 13
// edge correlations <s_i s_j>, each estimated from B = 20 independent runs (reset_state: fresh
// random starts, burn-in, and disjoint RNG sweep indices), 16 chains x 2,000 sweeps each.
// Samples within a chain are autocorrelated with an unknown integrated time tau, so the
// variance of a run's average is tau * Var(s) / (chains * sweeps), not Var(s) / N; batch means
// sidestep tau: the B run averages are independent and identically distributed, so their
// sample standard deviation / sqrt(B) is the standard error of the overall mean, whatever tau
// is. The statistic (estimate - exact) / SE is then Student-t with B - 1 = 19 degrees of
// freedom: P(|t_19| > 5) = 8e-5, so over 23 statistics a false failure has probability below
// 0.2%. To keep the test from passing on error bars that are too wide to mean anything, the
// largest SE must also be below 0.01.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/pbit/model_embedding.hpp"
#include "pbit_exact_law.hpp"

namespace kelvin::runtime {
namespace {

using namespace std::chrono_literals;

using Moments = testing::ExactMoments;
using testing::exact_moments;

// A 2 x 5 ladder with real weights and biases, its nodes relabelled by a fixed permutation.
SparseIsingModel ladder_model() {
  const std::uint32_t perm[10] = {7, 2, 9, 0, 5, 3, 8, 1, 6, 4};
  const double weights[13] = {0.8,  -0.55, 0.3,  0.65, -0.4,  0.9, -0.7,
                              0.35, 0.5,   -0.6, 0.45, -0.25, 0.75};
  const double biases[10] = {0.2, -0.3, 0.0, 0.1, 0.15, -0.05, 0.0, 0.25, -0.1, 0.0};
  SparseIsingModel m;
  m.nodes = 10;
  m.beta = 1.0;
  m.bias.assign(10, 0.0);
  for (std::uint32_t v = 0; v < 10; ++v) {
    m.bias[perm[v]] = biases[v];
    const std::uint32_t r = v / 5, c = v % 5;
    if (c + 1 < 5)
      m.edges.push_back({perm[v], perm[v + 1], weights[m.edges.size()]});
    if (r == 0)
      m.edges.push_back({perm[v], perm[v + 5], weights[m.edges.size()]});
  }
  return m;
}

TEST(ModelEmbeddingOnBoard, SampledMomentsMatchTheExactLawOfTheQuantizedModel) {
  driver::PbitBoard board(driver::backends::open("sim:pbit?rows=6&cols=6&degree=8&seed=3"));
  const SparseIsingModel model = ladder_model();
  const ModelEmbedding emb = embed_model(model, board.pbit());
  ASSERT_FALSE(emb.identity_placement);
  const SparseIsingModel quantized = emb.quantized_model(model);
  const Moments exact = exact_moments(quantized);
  const Moments unquantized = exact_moments(model);

  const auto deadline = common::Deadline::after(60s);
  board.program_lattice(emb.program, deadline);
  board.set_clamps({}, deadline);
  const std::uint32_t schedule[] = {emb.beta_code};
  board.set_beta_schedule(schedule, deadline);
  driver::SamplingRequest request;
  request.sweeps = 2000;
  request.chains = 16;
  request.burn_in_sweeps = 100;
  request.accumulate_moments = true;
  request.reset_state = true;

  constexpr int kRuns = 20;
  const std::size_t stats = model.nodes + model.edges.size();
  std::vector<double> sum(stats, 0.0), sum2(stats, 0.0);
  for (int run = 0; run < kRuns; ++run) {
    const driver::SamplingResult result = board.sample(request, deadline);
    const std::vector<double> means = emb.model_means(result);
    for (std::size_t k = 0; k < stats; ++k) {
      const double x =
          k < model.nodes ? means[k] : result.edge_correlation(emb.edge_placement[k - model.nodes]);
      sum[k] += x;
      sum2[k] += x * x;
    }
  }
  double worst_z = 0.0, worst_se = 0.0, worst_z_unquantized = 0.0;
  for (std::size_t k = 0; k < stats; ++k) {
    const double mean = sum[k] / kRuns;
    const double var = (sum2[k] - kRuns * mean * mean) / (kRuns - 1);
    const double se = std::sqrt(std::max(var, 0.0) / kRuns);
    const double truth = k < model.nodes ? exact.mean[k] : exact.correlation[k - model.nodes];
    const double naive =
        k < model.nodes ? unquantized.mean[k] : unquantized.correlation[k - model.nodes];
    const double z = (mean - truth) / se;
    EXPECT_LT(std::abs(z), 5.0) << "statistic " << k << ": board " << mean << " exact " << truth
                                << " se " << se;
    worst_z = std::max(worst_z, std::abs(z));
    worst_se = std::max(worst_se, se);
    worst_z_unquantized = std::max(worst_z_unquantized, std::abs(mean - naive) / se);
  }
  EXPECT_LT(worst_se, 0.01);
  std::printf(
      "[   INFO   ] %s; largest deviation %.2f se (largest se %.4f) from the quantized law, "
      "%.1f se from the unquantized one\n",
      emb.quantization.brief().c_str(), worst_z, worst_se, worst_z_unquantized);
}

}  // namespace
}  // namespace kelvin::runtime
