// sample_ising()'s error bars and mixing diagnostics on slowly mixing models, against their exact
// laws (all 2^8 states enumerated, pbit_exact_law.hpp).
//
// The models: a ferromagnetic ring of 8 spins on the 2 x 4 lattice (the grid of degree 8), every
// bond J, bias +1 on node 0. The ring's magnetization reverses only through a pair of domain
// walls, which costs 4 beta J in the exponent:
//   J = 3, beta = 1 (e^12): a default job (1 chain, 100 burn-in sweeps, 1,000 sweeps) never
//     reverses; it reports +-1 where the exact mean is 0.76, off by up to 1.76;
//   J = 2, beta = 0.75 (code 192, realized exactly; e^6): the means' integrated autocorrelation
//     time is about 100 sweeps (ESS about 1,600 of 160,000 samples over 8 chains), so a default
//     job sees a few reversals or none.
//
// Honesty (tolerances derived, not tuned). For K = 100 board seeds, each job's z = (estimate -
// exact) / stderr for every mean and edge correlation. If the error bars are honest, z is
// Student-t with the reported dof nu (the estimates are averages of many samples, so Gaussian),
// Var z = nu / (nu - 2), excess kurtosis 6 / (nu - 4). Over K seeds, the sample variance s^2 of
// one quantity's z (around 0: the truth is known) has mean nu / (nu - 2) and relative standard
// deviation sqrt(2 / K + k / K) with k the excess kurtosis (the chi-square band with the
// kurtosis correction); the test asserts every quantity's s^2 within 4.5 of those standard
// deviations (a false failure below 1e-4 over the 16 quantities, normal approximation). The 16
// quantities of one seed are correlated, so their average of z^2 is checked too, against its
// spread measured over the seeds (4.5 standard errors). Error bars 1.3 times too small fail both
// (tried: 12 of 16 quantities and the average, 2.14 +- 0.20 against 1.12); measured, honest:
// 1.26 +- 0.12 against 1.12 (batch means, 19 dof) and 1.54 +- 0.16 against 1.40 (8 chains, 7 dof).
// Only jobs whose diagnostics passed (no warning) count, and at least 95% of the seeds must pass
// them (R-hat is 1 + O(tau / n); all 100 pass).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/pbit/ising_sampling.hpp"
#include "pbit_exact_law.hpp"

namespace kelvin::runtime {
namespace {

IsingModel ring(int coupling) {
  IsingModel m;
  m.nodes = 8;
  // Row 0 is lattice nodes 0..3, row 1 is 4..7: the ring runs along row 0 and back along row 1.
  for (const auto& [i, j] : std::vector<std::pair<std::uint32_t, std::uint32_t>>{
           {0, 1}, {1, 2}, {2, 3}, {3, 7}, {7, 6}, {6, 5}, {5, 4}, {4, 0}})
    m.edges.emplace_back(i, j, coupling);
  m.bias = {1, 0, 0, 0, 0, 0, 0, 0};
  return m;
}

driver::PbitBoard board_with_seed(int seed) {
  return driver::PbitBoard(
      driver::backends::open("sim:pbit?rows=2&cols=4&degree=8&seed=" + std::to_string(seed)));
}

// Every mean and correlation of a result, nodes first, and the same for the truth.
std::vector<double> estimates(const IsingSamplingResult& r) {
  std::vector<double> x = r.mean;
  for (const auto& c : r.edge_correlations)
    x.push_back(std::get<2>(c));
  return x;
}

std::vector<double> stderrs(const IsingSamplingResult& r) {
  std::vector<double> x = r.mean_stderr;
  x.insert(x.end(), r.edge_correlation_stderr.begin(), r.edge_correlation_stderr.end());
  return x;
}

std::vector<double> truth(const testing::ExactMoments& exact) {
  std::vector<double> x = exact.mean;
  x.insert(x.end(), exact.correlation.begin(), exact.correlation.end());
  return x;
}

TEST(IsingSamplingStatistics, DefaultsWarnInsteadOfReportingAStuckChainsMeans) {
  const IsingModel model = ring(3);
  const auto exact = testing::exact_moments(model, 1.0);
  int far_off = 0;
  for (int seed = 1; seed <= 20; ++seed) {
    auto board = board_with_seed(seed);
    const IsingSamplingResult r = sample_ising(board, model);  // the defaults
    ASSERT_FALSE(r.summary.warnings.empty()) << "seed " << seed << ": " << r.summary.brief_report();
    for (std::uint32_t i = 0; i < model.nodes; ++i) {
      far_off += std::abs(r.mean[i] - exact.mean[i]) > 1.0;
      // A mean that never changed has no error bar: 0 would claim certainty.
      if (std::abs(r.mean[i]) == 1.0) {
        EXPECT_TRUE(std::isnan(r.mean_stderr[i])) << "seed " << seed << " node " << i;
      }
    }
  }
  // The user's report: the stuck chains that sit in the - state are off by more than 1.0 (exact
  // 0.76, reported -1); about half of the 20 seeds start there.
  EXPECT_GT(far_off, 0);
}

TEST(IsingSamplingStatistics, DefaultsWarnOnASlowRingUnlessTheChainNeverReversed) {
  const IsingModel model = ring(2);
  IsingSamplingOptions options;
  options.beta = 0.75;
  const auto exact = truth(testing::exact_moments(model, options.beta));
  int silent = 0;
  for (int seed = 1; seed <= 40; ++seed) {
    auto board = board_with_seed(seed);
    const IsingSamplingResult r = sample_ising(board, model, options);
    if (!r.summary.warnings.empty())
      continue;
    ++silent;
    const auto x = estimates(r);
    const auto se = stderrs(r);
    double worst = 0.0;
    for (std::size_t q = 0; q < x.size(); ++q)
      worst = std::max(worst, std::abs(x[q] - exact[q]) / se[q]);
    std::printf("[   INFO   ] seed %d: no warning (split R-hat %.4f, ESS %.0f), worst z %.1f\n",
                seed, r.summary.split_rhat_max.value_or(NAN), r.summary.ess_min.value_or(NAN),
                worst);
  }
  // One chain cannot see a mode it never left: over 200 seeds 5 jobs (2.5%) stayed in the +
  // state throughout and passed every check. Over 40 seeds that is Poisson(1) silent jobs;
  // more than 4 has probability 0.4%.
  EXPECT_LE(silent, 4);

  // Four chains side by side (the same device time) disagree, and say so: none of 40 is silent.
  options.chains = 4;
  for (int seed = 1; seed <= 40; ++seed) {
    auto board = board_with_seed(seed);
    EXPECT_FALSE(sample_ising(board, model, options).summary.warnings.empty()) << "seed " << seed;
  }
}

// The sample variance of z over the seeds, per quantity, against the chi-square band; and the
// average over the quantities against the spread of that average over the seeds.
void expect_honest_error_bars(const IsingSamplingOptions& options, int seeds) {
  const IsingModel model = ring(2);
  const auto exact = truth(testing::exact_moments(model, options.beta));
  std::vector<double> z2(exact.size(), 0.0);
  std::vector<double> seed_means;  // per seed: z^2 averaged over the quantities
  double dof = 0.0;
  for (int seed = 1; seed <= seeds; ++seed) {
    auto board = board_with_seed(1000 + seed);
    const IsingSamplingResult r = sample_ising(board, model, options);
    if (!r.summary.warnings.empty())
      continue;
    dof = static_cast<double>(r.summary.stderr_dof.value());
    const auto x = estimates(r);
    const auto se = stderrs(r);
    double average = 0.0;
    for (std::size_t q = 0; q < x.size(); ++q) {
      ASSERT_TRUE(std::isfinite(se[q])) << "seed " << seed << " quantity " << q;
      const double z = (x[q] - exact[q]) / se[q];
      z2[q] += z * z;
      average += z * z / static_cast<double>(x.size());
    }
    seed_means.push_back(average);
  }
  const auto passed = static_cast<double>(seed_means.size());
  ASSERT_GE(passed, seeds * 0.95) << "the diagnostics failed too often to call them good";
  ASSERT_GT(dof, 4.0);
  const double expected = dof / (dof - 2.0);
  const double kurtosis = 6.0 / (dof - 4.0);
  const double relative_sd = std::sqrt((2.0 + kurtosis) / passed);
  for (std::size_t q = 0; q < z2.size(); ++q) {
    EXPECT_NEAR(z2[q] / passed / expected, 1.0, 4.5 * relative_sd)
        << "quantity " << q << ": Var z = " << z2[q] / passed << ", expected " << expected
        << " for " << dof << " dof over " << passed << " seeds";
  }
  // The 16 quantities of one seed are correlated (the ring's magnetization moves all 8 means),
  // so their average's spread is measured, over the seeds, rather than assumed.
  double mean = 0.0, square = 0.0;
  for (const double m : seed_means) {
    mean += m / passed;
    square += m * m / passed;
  }
  const double sd_of_mean = std::sqrt((square - mean * mean) * passed / (passed - 1.0) / passed);
  EXPECT_NEAR(mean, expected, 4.5 * sd_of_mean);
  std::printf(
      "[   INFO   ] %.0f of %d seeds passed the diagnostics; Var z over the seeds averaged over "
      "the 16 quantities %.3f +- %.3f, expected %.3f (%g dof)\n",
      passed, seeds, mean, sd_of_mean, expected, dof);
}

TEST(IsingSamplingStatistics, BatchMeansErrorBarsOfOneLongChainAreHonest) {
  IsingSamplingOptions options;
  options.beta = 0.75;
  options.burn_in_sweeps = 1000;  // 10 autocorrelation times
  options.sweeps = 200000;        // batches of 10,000 sweeps, 100 autocorrelation times
  expect_honest_error_bars(options, 100);
}

TEST(IsingSamplingStatistics, BetweenChainErrorBarsAreHonest) {
  IsingSamplingOptions options;
  options.beta = 0.75;
  options.burn_in_sweeps = 1000;
  options.sweeps = 40000;  // 400 autocorrelation times per chain
  options.chains = 8;      // 7 dof
  expect_honest_error_bars(options, 100);
}

}  // namespace
}  // namespace kelvin::runtime
