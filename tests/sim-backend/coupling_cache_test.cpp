// ResonatorSteppers remembers the steps of the last two coupling matrices (quartic generation
// alternates between two): a step taken from the cache is bit-identical to a fresh one, for the
// linear and the quartic stepper, on an ideal and a flawed board.
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/sim_backend/board_imperfections.hpp"
#include "kelvin/sim_backend/gaussian_stream.hpp"
#include "kelvin/sim_backend/resonator_register_file.hpp"
#include "kelvin/sim_backend/resonator_steppers.hpp"

namespace kelvin::sim_backend {
namespace {

constexpr std::uint32_t kCells = 5;

Eigen::MatrixXd coupling(double off_diagonal) {
  Eigen::MatrixXd a = Eigen::MatrixXd::Constant(kCells, kCells, off_diagonal);
  a.diagonal().setConstant(-0.5);
  return a;
}

void install(ResonatorSteppers& s, ResonatorRegisters& r, const Eigen::MatrixXd& a) {
  r.coupling = a;
  r.programmed = true;
  s.install_overdamped(s.discretize_overdamped(a), r);
}

// Five periods from a fixed state with the noise of sample indices 100..104.
std::vector<double> trajectory(ResonatorSteppers& s, const ResonatorRegisters& r) {
  s.prepare(Dynamics::kOverdamped, r);
  const GaussianStream noise(7);
  std::vector<double> z(2 * kCells, 0.0);
  for (std::uint32_t i = 0; i < kCells; ++i)
    z[i] = 0.1 * (static_cast<double>(i) - 2.0);
  std::vector<double> out;
  for (std::uint64_t k = 100; k < 105; ++k) {
    s.step(Dynamics::kOverdamped, z, k, noise);
    out.insert(out.end(), z.begin(), z.begin() + kCells);
  }
  return out;
}

void expect_cached_steps_equal_fresh_ones(const BoardImperfections& flaws, bool quartic) {
  ResonatorRegisters r(kCells);
  r.noise_code = 1000;
  r.bias = Eigen::VectorXd::LinSpaced(kCells, -0.2, 0.3);
  if (quartic)
    r.j4 = Eigen::VectorXd::Constant(kCells, 0.75);
  ResonatorSteppers fresh(kCells, flaws);
  install(fresh, r, coupling(0.05));
  const std::vector<double> expected = trajectory(fresh, r);

  ResonatorSteppers reused(kCells, flaws);
  install(reused, r, coupling(0.05));
  trajectory(reused, r);              // builds (and caches) the quartic stepper
  install(reused, r, coupling(0.0));  // the other matrix
  trajectory(reused, r);
  install(reused, r, coupling(0.05));  // from the cache
  EXPECT_EQ(trajectory(reused, r), expected);
  // A third matrix pushes the first out; it is discretized again and still the same.
  install(reused, r, coupling(-0.1));
  install(reused, r, coupling(0.0));
  install(reused, r, coupling(0.05));
  EXPECT_EQ(trajectory(reused, r), expected);
  // A J4 change with the same couplings rebuilds the quartic stepper.
  if (quartic) {
    ResonatorRegisters other = r;
    other.j4 = Eigen::VectorXd::Constant(kCells, 0.25);
    reused.drop_quartic();
    EXPECT_NE(trajectory(reused, other), expected);
    reused.drop_quartic();
    EXPECT_EQ(trajectory(reused, r), expected);
  }
}

TEST(CouplingCache, CachedLinearStepsAreBitIdenticalToFreshOnes) {
  expect_cached_steps_equal_fresh_ones(
      draw_imperfections("SIM-RES-5-1", kCells, ImperfectionModel::ideal()), false);
  expect_cached_steps_equal_fresh_ones(
      draw_imperfections("SIM-RES-5-1", kCells, ImperfectionModel::typical()), false);
}

TEST(CouplingCache, CachedQuarticSteppersAreBitIdenticalToFreshOnes) {
  expect_cached_steps_equal_fresh_ones(
      draw_imperfections("SIM-RES-5-1", kCells, ImperfectionModel::ideal()), true);
  expect_cached_steps_equal_fresh_ones(
      draw_imperfections("SIM-RES-5-1", kCells, ImperfectionModel::typical()), true);
}

}  // namespace
}  // namespace kelvin::sim_backend
