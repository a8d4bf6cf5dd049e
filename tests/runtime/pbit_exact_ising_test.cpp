// exact_ising.hpp: enumeration against closed forms (a single bond, a free spin), the marginal
// against the means, conditioning, and KL divergence's edge cases.
#include "kelvin/runtime/pbit/exact_ising.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/testing/errors.hpp"

namespace kelvin::runtime {
namespace {

using kelvin::testing::kind_of;

SparseIsingModel bond(double j, double b0, double beta) {
  SparseIsingModel m;
  m.nodes = 2;
  m.edges = {{0, 1, j}};
  m.bias = {b0, 0.0};
  m.beta = beta;
  return m;
}

TEST(ExactIsing, ASingleBondHasTheClosedFormLaw) {
  // Without bias: <s0 s1> = tanh(beta J), <s_i> = 0, Z = 4 cosh(beta J).
  const ExactIsingMoments e = exact_ising(bond(1.5, 0.0, 0.7));
  EXPECT_NEAR(e.correlation[0], std::tanh(0.7 * 1.5), 1e-15);
  EXPECT_NEAR(e.mean[0], 0.0, 1e-15);
  EXPECT_NEAR(e.log_z, std::log(4.0 * std::cosh(0.7 * 1.5)), 1e-14);
}

TEST(ExactIsing, LogZIsExactAtLargeBeta) {
  // beta E_max = 3000: a naive sum of exp() overflows; Z = 2 e^{beta J} (1 + e^{-2 beta J}).
  const ExactIsingMoments e = exact_ising(bond(2.0, 0.0, 1500.0));
  EXPECT_NEAR(e.log_z, 3000.0 + std::log(2.0), 1e-9);
  EXPECT_NEAR(e.correlation[0], 1.0, 1e-15);
}

TEST(ExactIsing, ConditioningFixesNodesAndLeavesTheRestToTheirField) {
  // s0 fixed to -1: s1 sees field -J, so <s1> = tanh(-beta J).
  const std::uint32_t fixed[] = {0};
  const int values[] = {-1};
  const ExactIsingMoments e = exact_conditional(bond(1.5, 0.3, 0.7), fixed, values);
  EXPECT_EQ(e.mean[0], -1.0);
  EXPECT_NEAR(e.mean[1], std::tanh(-0.7 * 1.5), 1e-15);
  EXPECT_NEAR(e.correlation[0], -e.mean[1], 1e-15);
  const int bad[] = {0};
  EXPECT_EQ(kind_of([&] { exact_conditional(bond(1, 0, 1), fixed, bad); }),
            common::ErrorKind::kInvalidArgument);
}

TEST(ExactIsing, MarginalSumsToOneAndReproducesTheMeans) {
  SparseIsingModel m;
  m.nodes = 5;
  m.edges = {{0, 1, 0.8}, {1, 2, -0.6}, {2, 3, 1.1}, {3, 4, 0.4}, {0, 4, -0.9}};
  m.bias = {0.2, -0.5, 0.1, 0.0, 0.3};
  const ExactIsingMoments e = exact_ising(m);
  const std::uint32_t subset[] = {3, 0};
  const std::vector<double> p = exact_marginal(m, subset);
  ASSERT_EQ(p.size(), 4u);
  double total = 0.0, mean3 = 0.0, mean0 = 0.0;
  for (std::size_t x = 0; x < 4; ++x) {
    total += p[x];
    mean3 += p[x] * ((x & 1) ? 1 : -1);  // bit 0 = subset[0] = node 3
    mean0 += p[x] * ((x & 2) ? 1 : -1);
  }
  EXPECT_NEAR(total, 1.0, 1e-14);
  EXPECT_NEAR(mean3, e.mean[3], 1e-14);
  EXPECT_NEAR(mean0, e.mean[0], 1e-14);
  const std::uint32_t twice[] = {1, 1};
  EXPECT_EQ(kind_of([&] { exact_marginal(m, twice); }), common::ErrorKind::kInvalidArgument);
}

TEST(ExactIsing, KlDivergenceIsZeroForEqualLawsAndInfiniteOffSupport) {
  const std::vector<double> p = {0.5, 0.5, 0.0}, q = {0.25, 0.25, 0.5}, r = {1.0, 0.0, 0.0};
  EXPECT_EQ(kl_divergence(p, p), 0.0);
  EXPECT_NEAR(kl_divergence(p, q), std::log(2.0), 1e-15);
  EXPECT_EQ(kl_divergence(p, r), std::numeric_limits<double>::infinity());
  EXPECT_EQ(kind_of([&] { kl_divergence(p, std::vector<double>{1.0}); }),
            common::ErrorKind::kInvalidArgument);
}

TEST(ExactIsing, RefusesModelsTooLargeToEnumerate) {
  SparseIsingModel m;
  m.nodes = kMaxExactIsingNodes + 1;
  EXPECT_EQ(kind_of([&] { exact_ising(m); }), common::ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace kelvin::runtime
