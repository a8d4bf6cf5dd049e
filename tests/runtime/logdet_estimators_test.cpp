// The log-determinant's work estimators (logdet_estimators.hpp) on synthetic work with a known
// answer, over thousands of seeds. W = sum_j nu_j z_j^2 / 2 with z_j standard normal is the
// exact law of a coupling ramp's work on an ideal board (a quadratic form of Gaussian states):
// <exp(-W)> = prod_j (1 + nu_j)^-1/2, so Delta F = sum_j log(1 + nu_j) / 2, and the weights
// exp(-W) have a Pareto tail of shape k = -min_j nu_j (variance infinite for k >= 1/2). The
// spectra below span the ramps of logdet_short_ramp_test.cpp: k = 0.2 (a long ramp), 0.4, 0.6
// and 0.8 (two steps on an ill-conditioned matrix).
//
// Tolerances. Each comparison is a difference of two means over S seeds, held to
// kZ = 3.29 standard errors (two-sided 1e-3). The spread test compares log(sample variance of
// the estimates) with log(mean reported variance): for normal estimates the first is
// chi-square (variance 2 / (S - 1)); the heavier tails here are taken into account by the
// measured kurtosis kappa (variance (kappa - 1) / S) and by the spread of the reported
// variances, both added.
#include "kelvin/runtime/logdet_estimators.hpp"

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <Eigen/Core>

namespace kelvin::runtime {
namespace {

constexpr double kZ = 3.29;

struct Spectrum {
  double k;                // the tail shape, -min nu
  std::vector<double> nu;  // the quadratic form's eigenvalues
};

const std::vector<Spectrum>& spectra() {
  static const std::vector<Spectrum> s = {
      {0.2, {-0.2, -0.15, -0.1, -0.1, 0.05, 0.05}},
      {0.4, {-0.4, -0.25, -0.1, 0.1, 0.2}},
      {0.6, {-0.6, -0.3, -0.1, 0.2, 0.3}},
      {0.8, {-0.8, -0.4, -0.2, 0.3, 0.5}},
  };
  return s;
}

double exact_delta_f(const Spectrum& s) {
  double f = 0.0;
  for (const double v : s.nu)
    f += 0.5 * std::log1p(v);
  return f;
}

Eigen::VectorXd draw_work(const Spectrum& s, int m, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  Eigen::VectorXd w(m);
  for (int t = 0; t < m; ++t) {
    double x = 0.0;
    for (const double v : s.nu) {
      const double z = normal(rng);
      x += 0.5 * v * z * z;
    }
    w(t) = x;
  }
  return w;
}

// Mean, variance (S - 1) and kurtosis of a sample.
struct Moments {
  double mean = 0.0;
  double variance = 0.0;
  double kurtosis = 0.0;
};
Moments moments(const std::vector<double>& x) {
  const double n = static_cast<double>(x.size());
  Moments m;
  for (const double v : x)
    m.mean += v / n;
  double m2 = 0.0;
  double m4 = 0.0;
  for (const double v : x) {
    m2 += (v - m.mean) * (v - m.mean) / n;
    m4 += std::pow(v - m.mean, 4) / n;
  }
  m.variance = m2 * n / (n - 1.0);
  m.kurtosis = m4 / (m2 * m2);
  return m;
}

// log(spread of the estimates / mean reported variance), and its standard error.
struct SpreadRatio {
  double log_ratio = 0.0;
  double stderr_ = 0.0;
};
SpreadRatio spread_ratio(const std::vector<double>& estimates,
                         const std::vector<double>& reported_variances) {
  const double s = static_cast<double>(estimates.size());
  const Moments e = moments(estimates);
  const Moments v = moments(reported_variances);
  return {std::log(e.variance / v.mean),
          std::sqrt((e.kurtosis - 1.0) / s + v.variance / (s * v.mean * v.mean))};
}

// The jackknife error bar matches the spread over seeds at every tail shape; the delta method's
// (the error bar logdet reported before: sqrt(var(w) / M) / mean w) is too small from k = 0.6
// on, and this test tells them apart (M = 50 keeps the estimates' kurtosis, and so the band,
// small enough; S = 4000 seeds).
TEST(LogdetEstimators, JackknifeErrorBarMatchesTheSpreadOverSeedsAtEveryTailShape) {
  constexpr int kSeeds = 4000;
  constexpr int kTrajectories = 50;
  for (const Spectrum& sp : spectra()) {
    std::mt19937_64 rng(1000 + static_cast<std::uint64_t>(10 * sp.k));
    std::vector<double> estimates;
    std::vector<double> jackknife;
    std::vector<double> delta;
    for (int seed = 0; seed < kSeeds; ++seed) {
      const Eigen::VectorXd w = draw_work(sp, kTrajectories, rng);
      const JarzynskiEstimate j = jarzynski(w);
      estimates.push_back(j.delta_f);
      jackknife.push_back(j.standard_error * j.standard_error);
      const Eigen::ArrayXd e = (-(w.array() - w.minCoeff())).exp();
      delta.push_back((e - e.mean()).square().sum() / (kTrajectories - 1.0) /
                      (kTrajectories * e.mean() * e.mean()));
    }
    const SpreadRatio jk = spread_ratio(estimates, jackknife);
    const SpreadRatio dm = spread_ratio(estimates, delta);
    EXPECT_LE(std::abs(jk.log_ratio), kZ * jk.stderr_)
        << "k = " << sp.k << ": spread / jackknife error bar " << std::exp(0.5 * jk.log_ratio);
    if (sp.k >= 0.6) {
      EXPECT_GT(dm.log_ratio, kZ * dm.stderr_)
          << "k = " << sp.k << ": the band no longer tells the delta method apart";
    }
    std::printf(
        "[   INFO   ] k = %.1f, M = %d: spread / error bar %.3f jackknife (%.1f sigma), %.3f "
        "delta method (%.1f sigma)\n",
        sp.k, kTrajectories, std::exp(0.5 * jk.log_ratio), jk.log_ratio / jk.stderr_,
        std::exp(0.5 * dm.log_ratio), dm.log_ratio / dm.stderr_);
  }
}

// While the weights' variance is finite (k < 1/2) the jackknife's bias estimate is the measured
// bias E[estimate] - Delta F. S = 20000 seeds of M = 50 resolve a bias of 0.0007-0.004 kT to
// about 0.0003-0.0007, so an estimate of 0 would fail (the bias is 2.6-6 of those).
TEST(LogdetEstimators, BiasEstimateIsTheMeasuredBiasWhileTheVarianceIsFinite) {
  constexpr int kSeeds = 20000;
  constexpr int kTrajectories = 50;
  for (const Spectrum& sp : spectra()) {
    if (sp.k >= kInfiniteVarianceShape)
      continue;
    std::mt19937_64 rng(2000 + static_cast<std::uint64_t>(10 * sp.k));
    std::vector<double> errors;
    std::vector<double> biases;
    for (int seed = 0; seed < kSeeds; ++seed) {
      const JarzynskiEstimate j = jarzynski(draw_work(sp, kTrajectories, rng));
      errors.push_back(j.delta_f - exact_delta_f(sp));
      biases.push_back(j.bias);
    }
    const Moments e = moments(errors);
    const Moments b = moments(biases);
    const double se = std::sqrt((e.variance + b.variance) / kSeeds);
    EXPECT_LE(std::abs(e.mean - b.mean), kZ * se) << "k = " << sp.k;
    EXPECT_GT(e.mean, 2.0 * std::sqrt(e.variance / kSeeds)) << "k = " << sp.k << ": no bias to see";
    std::printf("[   INFO   ] k = %.1f, M = %d: bias %.5f +- %.5f measured, %.5f estimated\n", sp.k,
                kTrajectories, e.mean, std::sqrt(e.variance / kSeeds), b.mean);
  }
}

// Where the weights' variance is infinite the bias comes from trajectories the sample does not
// contain, and the jackknife misses most of it; the tail shape is what says so, above 1/2 in
// most runs at k = 0.8 (M = 1000, as logdet's default) and almost never at k = 0.2.
TEST(LogdetEstimators, TailShapeWarnsWhereTheBiasEstimateFallsShort) {
  constexpr int kSeeds = 1000;
  constexpr int kTrajectories = 1000;
  for (const Spectrum& sp : spectra()) {
    if (sp.k != 0.2 && sp.k != 0.8)
      continue;
    std::mt19937_64 rng(3000 + static_cast<std::uint64_t>(10 * sp.k));
    std::vector<double> errors;
    std::vector<double> biases;
    int heavy = 0;
    for (int seed = 0; seed < kSeeds; ++seed) {
      const JarzynskiEstimate j = jarzynski(draw_work(sp, kTrajectories, rng));
      errors.push_back(j.delta_f - exact_delta_f(sp));
      biases.push_back(j.bias);
      ASSERT_TRUE(j.tail.has_value());
      heavy += j.tail->shape > kInfiniteVarianceShape ? 1 : 0;
    }
    const Moments e = moments(errors);
    const Moments b = moments(biases);
    const double se = std::sqrt((e.variance + b.variance) / kSeeds);
    const double fraction = static_cast<double>(heavy) / kSeeds;
    if (sp.k > kInfiniteVarianceShape) {
      EXPECT_GT(e.mean - b.mean, kZ * se) << "the jackknife now sees the unseen tail?";
      EXPECT_GT(fraction, 0.8);
    } else {
      EXPECT_LT(fraction, 0.02);
    }
    std::printf(
        "[   INFO   ] k = %.1f, M = %d: bias %.4f +- %.4f measured, %.4f estimated; tail shape "
        "> 1/2 in %.1f%% of runs\n",
        sp.k, kTrajectories, e.mean, std::sqrt(e.variance / kSeeds), b.mean, 100.0 * fraction);
  }
}

// On exact Pareto weights (log w = -k log U) the fitted shape is the prior-shrunk k,
// (count k + 5) / (count + 10), and its reported standard error is its spread over seeds. The
// shrunk mean is held to kZ standard errors of a mean over S seeds; the standard error to kZ
// of the sample deviation's own relative error, 1 / sqrt(2 (S - 1)).
TEST(LogdetEstimators, TailShapeOfParetoWeightsIsTheShapeWithItsReportedSpread) {
  constexpr int kSeeds = 500;
  constexpr int kTrajectories = 1000;
  for (const double k : {0.3, 0.7}) {
    std::mt19937_64 rng(4000 + static_cast<std::uint64_t>(10 * k));
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<double> shapes;
    std::vector<double> reported;
    int count = 0;
    for (int seed = 0; seed < kSeeds; ++seed) {
      Eigen::VectorXd log_w(kTrajectories);
      for (int t = 0; t < kTrajectories; ++t)
        log_w(t) = -k * std::log1p(-uniform(rng));
      const auto tail = pareto_tail(log_w);
      ASSERT_TRUE(tail.has_value());
      shapes.push_back(tail->shape);
      reported.push_back(tail->shape_stderr);
      count = tail->count;
    }
    EXPECT_EQ(count, 95);  // ceil(min(1000 / 5, 3 sqrt(1000)))
    const Moments s = moments(shapes);
    const double shrunk = (count * k + 5.0) / (count + 10.0);
    EXPECT_LE(std::abs(s.mean - shrunk), kZ * std::sqrt(s.variance / kSeeds)) << "k = " << k;
    const double sd = std::sqrt(s.variance);
    EXPECT_LE(std::abs(moments(reported).mean / sd - 1.0), kZ / std::sqrt(2.0 * (kSeeds - 1)))
        << "k = " << k << ": reported " << moments(reported).mean << ", spread " << sd;
  }
}

TEST(LogdetEstimators, TailIsNotFittedBelowTenTailWeightsOrWithoutSpread) {
  EXPECT_FALSE(
      pareto_tail(Eigen::VectorXd::LinSpaced(kMinTailTrajectories - 1, 0.0, 1.0)).has_value());
  const auto tail = pareto_tail(Eigen::VectorXd::LinSpaced(kMinTailTrajectories, 0.0, 1.0));
  ASSERT_TRUE(tail.has_value());
  EXPECT_EQ(tail->count, kMinParetoTail);
  EXPECT_FALSE(pareto_tail(Eigen::VectorXd::Zero(1000)).has_value());
  const JarzynskiEstimate j = jarzynski(Eigen::VectorXd::Constant(100, 0.25));
  EXPECT_DOUBLE_EQ(j.delta_f, 0.25);
  EXPECT_EQ(j.standard_error, 0.0);
  EXPECT_EQ(j.bias, 0.0);
  EXPECT_FALSE(j.tail.has_value());
}

// One weight that dwarfs the others (by more than exp(745), where their sum underflows against
// it) still gives finite leave-one-out estimates: the error bar is huge, not infinite or NaN.
TEST(LogdetEstimators, OneDominantTrajectoryGivesAFiniteErrorBar) {
  Eigen::VectorXd w = Eigen::VectorXd::Zero(100);
  w(17) = -1000.0;
  const JarzynskiEstimate j = jarzynski(w);
  EXPECT_NEAR(j.delta_f, -1000.0 + std::log(100.0), 1e-9);
  EXPECT_TRUE(std::isfinite(j.standard_error));
  EXPECT_GT(j.standard_error, 100.0);
  EXPECT_TRUE(std::isfinite(j.bias));
}

}  // namespace
}  // namespace kelvin::runtime
