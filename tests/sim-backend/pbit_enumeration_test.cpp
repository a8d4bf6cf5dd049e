// Statistical truth of the p-bit board: empirical state frequencies from recorded samples
// against exact state probabilities by enumerating all 2^n states of small models,
//     P(s) ~ exp(beta (sum_edges J_ij s_i s_j + sum_i b_i s_i)),
// whose conditionals are P(s_i = +1 | rest) = sigmoid(2 beta h_i), h_i = b_i + sum_j J_ij s_j,
// the board's update rule (pbit_registers.hpp). The LUT and saturation are exact to 1e-7, far
// below the statistical tolerance, so any real deviation is a sampler bug.
//
// Tolerance (derived, not tuned). With N samples, the frequency p^ of a state of probability p
// has relative standard error sqrt((1 - p) / (N p)) if samples are independent. We require a
// maximum relative error below 0.02 and want that to be a 5-sigma bound with margin: the
// compared states satisfy 5 sqrt((1 - p) / (N p)) <= 0.0125, i.e.
//     p >= p_min = 1 / (1 + N (0.0125 / 5)^2) = 1 / (1 + N * 6.25e-6),
// about 0.0204 for N = 7.68e6 (64 chains x 120,000 samples, 11 to 17 states per model). Over at
// most 25 compared states per model, a false failure needs a > 8-sigma event (0.02 / 0.0125 * 5).
// Samples of one chain are autocorrelated, so the test also measures the real standard error from
// the 64 chains, which are exactly independent (batch means with one batch per chain), and asserts
// that 5 of those standard errors still fit under 0.02 p for every compared state: the tolerance is
// then honest for the data at hand. sample_every = 5 sweeps keeps the autocorrelation small at beta
// = 0.5 (|J| <= 2). The couplings are moderate so that enough states carry p >= p_min (a model
// whose mass sits on two ground states would compare only those).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kelvin/firmware_protocol/pbit_lattice.hpp"
#include "pbit_client.hpp"

namespace kelvin::sim_backend::testing {
namespace {

constexpr std::uint32_t kBetaCode = 128;  // beta = 0.5
constexpr double kBeta = 0.5;
constexpr std::uint32_t kChains = 64;
constexpr double kMaxRelativeError = 0.02;
constexpr double kFiveSigmaBudget = 0.0125;

struct Model {
  std::uint32_t rows = 0;
  std::uint32_t cols = 0;
  std::vector<int> weights;  // per lattice edge (degree 8: the nearest-neighbour grid)
  std::vector<int> biases;
  std::vector<std::uint32_t> clamp_nodes;
  std::vector<int> clamp_values;
};

std::vector<double> exact_probabilities(const Model& m) {
  const auto lattice = firmware_protocol::make_pbit_lattice(m.rows, m.cols, 8);
  const std::uint32_t n = lattice.nodes();
  std::vector<double> p(std::size_t{1} << n, 0.0);
  double z = 0.0;
  for (std::size_t state = 0; state < p.size(); ++state) {
    const auto spin = [state](std::uint32_t i) { return (state >> i) & 1 ? 1 : -1; };
    bool allowed = true;
    for (std::size_t c = 0; c < m.clamp_nodes.size(); ++c)
      allowed = allowed && spin(m.clamp_nodes[c]) == m.clamp_values[c];
    if (!allowed)
      continue;
    double energy = 0.0;
    for (std::size_t e = 0; e < lattice.edges().size(); ++e) {
      const auto [u, v] = lattice.edges()[e];
      energy += m.weights[e] * spin(u) * spin(v);
    }
    for (std::uint32_t i = 0; i < n; ++i)
      energy += m.biases[i] * spin(i);
    p[state] = std::exp(kBeta * energy);
    z += p[state];
  }
  for (double& x : p)
    x /= z;
  return p;
}

struct Comparison {
  std::size_t compared = 0;
  double p_min = 0.0;
  double max_relative_error = 0.0;
  double max_batch_sigmas = 0.0;  // max over compared states of 5 se_batch / p
  std::uint64_t samples = 0;
};

Comparison compare(const Model& m, std::uint32_t runs, std::uint64_t samples_per_chain_per_run) {
  PbitConfig config;
  config.rows = m.rows;
  config.cols = m.cols;
  config.degree = 8;
  config.seed = 11;
  PbitClient board(config);
  const std::uint32_t n = m.rows * m.cols;
  EXPECT_TRUE(board.program_lattice(m.weights, m.biases).has_ack());
  EXPECT_TRUE(board.set_clamps(m.clamp_nodes, m.clamp_values).has_ack());
  EXPECT_TRUE(board.set_beta_schedule({kBetaCode}).has_ack());

  const std::size_t states = std::size_t{1} << n;
  const std::size_t bytes = (n + 7) / 8;
  std::vector<std::vector<std::uint64_t>> counts(kChains, std::vector<std::uint64_t>(states, 0));
  SamplingOptions o;
  o.chains = kChains;
  o.sample_every = 5;
  o.sweeps = samples_per_chain_per_run * o.sample_every;
  o.record = true;
  Comparison out;
  for (std::uint32_t r = 0; r < runs; ++r) {
    o.reset = r == 0;
    o.burn_in = r == 0 ? 200 : 0;  // later runs continue the chains
    const auto results = board.sample(o);
    const std::string& bits = results.samples_bits();
    EXPECT_EQ(bits.size(), kChains * samples_per_chain_per_run * bytes);
    for (std::uint32_t c = 0; c < kChains; ++c) {
      for (std::uint64_t k = 0; k < samples_per_chain_per_run; ++k) {
        const std::size_t base = (c * samples_per_chain_per_run + k) * bytes;
        std::size_t state = 0;
        for (std::size_t b = 0; b < bytes; ++b)
          state |= std::size_t{static_cast<std::uint8_t>(bits[base + b])} << (8 * b);
        ++counts[c][state];
      }
    }
  }
  const std::uint64_t per_chain = runs * samples_per_chain_per_run;
  out.samples = per_chain * kChains;
  const double big_n = static_cast<double>(out.samples);
  out.p_min = 1.0 / (1.0 + big_n * std::pow(kFiveSigmaBudget / 5.0, 2));

  const std::vector<double> exact = exact_probabilities(m);
  for (std::size_t s = 0; s < states; ++s) {
    if (exact[s] < out.p_min)
      continue;
    ++out.compared;
    double total = 0.0;
    std::vector<double> chain_p(kChains);
    for (std::uint32_t c = 0; c < kChains; ++c) {
      chain_p[c] = static_cast<double>(counts[c][s]) / static_cast<double>(per_chain);
      total += static_cast<double>(counts[c][s]);
    }
    const double p_hat = total / big_n;
    double var = 0.0;
    for (const double x : chain_p)
      var += (x - p_hat) * (x - p_hat);
    var /= (kChains - 1);
    const double se_batch = std::sqrt(var / kChains);
    const double rel = std::abs(p_hat - exact[s]) / exact[s];
    out.max_relative_error = std::max(out.max_relative_error, rel);
    out.max_batch_sigmas = std::max(out.max_batch_sigmas, 5.0 * se_batch / exact[s]);
    EXPECT_LT(rel, kMaxRelativeError)
        << "state " << s << ": exact " << exact[s] << ", board " << p_hat;
  }
  return out;
}

void expect_truthful(const Model& m, std::uint32_t runs, std::uint64_t samples_per_chain) {
  const Comparison c = compare(m, runs, samples_per_chain);
  EXPECT_GE(c.compared, 4u) << "too few states above p_min = " << c.p_min;
  EXPECT_LT(c.max_relative_error, kMaxRelativeError);
  // The 5-sigma claim holds for the autocorrelated samples too.
  EXPECT_LT(c.max_batch_sigmas, kMaxRelativeError);
  std::printf(
      "[ stats    ] N = %llu samples, p_min = %.4f, %zu states compared, max relative "
      "error %.4f, max 5 se_batch / p = %.4f\n",
      static_cast<unsigned long long>(c.samples), c.p_min, c.compared, c.max_relative_error,
      c.max_batch_sigmas);
}

// 2x3 nearest-neighbour grid; canonical edges (0,3) (0,1) (1,4) (1,2) (2,5) (3,4) (4,5).
// Plaquettes {0,1,4,3} and {1,2,5,4}.
TEST(PbitEnumeration, MixedCouplingsWithBiasesMatchExactProbabilities) {
  Model m;
  m.rows = 2;
  m.cols = 3;
  m.weights = {1, 1, 1, -1, 1, 1, -1};  // both plaquette products positive: unfrustrated
  m.biases = {1, 0, 0, 1, 0, -1};
  expect_truthful(m, 8, 15000);
}

TEST(PbitEnumeration, FrustratedCyclesMatchExactProbabilities) {
  Model m;
  m.rows = 2;
  m.cols = 3;
  m.weights = {2, 1, -1, 1, 1, 1, 2};  // J_14 < 0: both plaquette products negative
  m.biases = {0, 0, 1, 0, 0, 0};
  const auto lattice = firmware_protocol::make_pbit_lattice(2, 3, 8);
  const auto j = [&](std::uint32_t u, std::uint32_t v) {
    return m.weights[*lattice.edge_index(u, v)];
  };
  ASSERT_LT(j(0, 1) * j(1, 4) * j(4, 3) * j(3, 0), 0);
  ASSERT_LT(j(1, 2) * j(2, 5) * j(5, 4) * j(4, 1), 0);
  expect_truthful(m, 8, 15000);
}

// 3x3 grid with node 0 clamped to +1 and node 8 to -1: the exact law is conditioned on them.
TEST(PbitEnumeration, ClampedNodesAndBiasesMatchExactConditionalProbabilities) {
  Model m;
  m.rows = 3;
  m.cols = 3;
  m.weights = {1, -1, 1, 1, -1, 1, 1, -1, 1, 1, 1, -1};
  m.biases = {0, 1, 0, 0, 1, 0, -1, 0, 0};
  m.clamp_nodes = {0, 8};
  m.clamp_values = {1, -1};
  expect_truthful(m, 16, 7500);
}

}  // namespace
}  // namespace kelvin::sim_backend::testing
