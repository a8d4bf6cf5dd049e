// run_sweep(): the library enforces hard limits (a point outside refuses the sweep before any
// write) and step limits (ramps), measures means that follow the board's law within their error
// bars (resonator: A^-1 b and D A^-1; p-bit: tanh(beta b)), and keeps finished points when
// cancelled.
//
// Error bars: each point's standard error comes from 20 batch means (19 dof), batches much longer
// than the correlation time (1000 samples against about 3 samples on the resonator, independent
// sweeps on an uncoupled p-bit). The checks allow 5 standard errors: a Student-t(19) deviation
// that large has probability about 1e-4 per comparison, so the few dozen comparisons below fail
// by chance with probability below 1% (and the seeds are fixed).
#include "kelvin/runtime/sweep/sweep.hpp"

#include <cmath>
#include <stop_token>

#include <gtest/gtest.h>
#include <Eigen/Dense>

#include "kelvin/common/error.hpp"
#include "kelvin/testing/boards.hpp"
#include "kelvin/testing/errors.hpp"

namespace kelvin::runtime::sweep {
namespace {

using common::ErrorKind;
using kelvin::testing::kind_of;
using kelvin::testing::message_of;

constexpr double kSigmas = 5.0;  // see the file comment

SweepOptions bias_sweep(double from, double to, std::uint32_t points) {
  SweepOptions o;
  o.axes = {Axis{"bias:0", from, to, points, 0.0}};
  o.samples = 2000;
  o.settle = 100;
  return o;
}

TEST(Sweep, RefusesAPointOutsideTheHardLimitsBeforeAnyWrite) {
  auto board = kelvin::testing::open_resonator_board(4, 1);
  const auto base = ResonatorBase::independent_cells(4, 9830, 2000);
  SweepOptions user = bias_sweep(0.0, 0.3, 4);
  user.limits = {{"bias:0", -0.25, 0.25}};
  const std::string message =
      message_of([&] { run_sweep(board, base, user); }, ErrorKind::kOutOfRange);
  EXPECT_NE(message.find("bias:0 = 0.3"), std::string::npos) << message;
  // The board's own range: bias codes reach 32767 * 2^-13 = 4 V/us.
  SweepOptions beyond_board = bias_sweep(0.0, 5.0, 2);
  EXPECT_EQ(kind_of([&] { run_sweep(board, base, beyond_board); }), ErrorKind::kOutOfRange);
  EXPECT_EQ(board.activity().dac_codes, 0u);  // not even the base was written
  EXPECT_EQ(board.activity().cell_sample_periods, 0u);
}

TEST(Sweep, RefusesSettingsTheBoardDoesNotHave) {
  auto board = kelvin::testing::open_resonator_board(4, 1);
  const auto base = ResonatorBase::independent_cells(4, 9830, 2000);
  SweepOptions beta = bias_sweep(0.0, 1.0, 2);
  beta.axes[0].setting = "beta";
  EXPECT_EQ(kind_of([&] { run_sweep(board, base, beta); }), ErrorKind::kInvalidArgument);
  SweepOptions cell = bias_sweep(0.0, 1.0, 2);
  cell.axes[0].setting = "bias:4";
  EXPECT_NE(message_of([&] { run_sweep(board, base, cell); }).find("cell 4"), std::string::npos);
  EXPECT_EQ(board.activity().dac_codes, 0u);
}

TEST(Sweep, RampsEveryChangeLargerThanTheStepLimit) {
  auto board = kelvin::testing::open_resonator_board(4, 1);
  const auto base = ResonatorBase::independent_cells(4, 9830, 2000);
  SweepOptions o = bias_sweep(0.0, 0.4, 3);
  o.max_steps = {{"bias:0", 0.05}};
  const SweepSummary s = run_sweep(board, base, o);
  const double lsb = board.description().bias.lsb;
  const auto max_codes = static_cast<std::int64_t>(std::floor(0.05 / lsb));
  ASSERT_EQ(s.points.size(), 3u);
  std::int64_t previous = 0;  // the base's bias code
  std::vector<std::int64_t> point_codes;
  for (const AppliedWrite& w : s.applied) {
    ASSERT_EQ(w.setting, "bias:0");
    EXPECT_LE(std::abs(w.code - previous), max_codes) << "write at " << w.wall_s << " s";
    previous = w.code;
    if (w.point >= 0)
      point_codes.push_back(w.code);
  }
  EXPECT_EQ(previous, 0);  // restored to the base
  EXPECT_TRUE(s.restored);
  // Points 1 and 2 (0.2 and 0.4 V/us); point 0 is the base value and needs no write.
  ASSERT_EQ(point_codes.size(), 2u);
  EXPECT_EQ(point_codes[0], s.points[1].set_codes[0]);
  EXPECT_EQ(point_codes[1], s.points[2].set_codes[0]);
  // 0 -> 0.2 -> 0.4 -> 0 V/us in equal steps of at most max_codes: ceil(distance / max_codes)
  // writes per change, all but the last of each a ramp step.
  const std::int64_t c1 = s.points[1].set_codes[0];
  const std::int64_t c2 = s.points[2].set_codes[0];
  const auto steps = [&](std::int64_t distance) {
    return static_cast<std::uint64_t>((distance + max_codes - 1) / max_codes);
  };
  EXPECT_EQ(s.writes, steps(c1) + steps(c2 - c1) + steps(c2));
  EXPECT_EQ(s.ramp_writes, s.writes - 3);
  EXPECT_GT(s.ramp_writes, 10u);
  // The board saw exactly those writes: the base (couplings' upper triangle, biases, noise) and
  // then every write of all 4 bias codes.
  EXPECT_EQ(board.activity().dac_codes, (10u + 4u + 1u) + s.writes * 4u);
}

TEST(Sweep, BiasSweepOnAnIdealResonatorFollowsTheInverseOfA) {
  auto board = kelvin::testing::open_resonator_board(3, 7);
  auto base = ResonatorBase::independent_cells(3, 9830, 2000);  // A_ii = 0.6/us
  base.couplings.set(0, 1, -3277);                              // A_01 = -0.2/us
  base.couplings.set(1, 2, 1638);                               // A_12 = 0.1/us
  SweepOptions o = bias_sweep(-0.2, 0.2, 5);
  o.samples = 20000;
  o.settle = 1000;
  const SweepSummary s = run_sweep(board, base, o);
  ASSERT_EQ(s.points.size(), 5u);
  const auto& d = board.description();
  Eigen::Matrix3d a;
  for (std::uint32_t i = 0; i < 3; ++i) {
    for (std::uint32_t j = 0; j < 3; ++j)
      a(i, j) = d.coupling.to_physical(std::int64_t{base.couplings.get(i, j)});
  }
  const double noise = d.noise.to_physical(std::int64_t{base.noise});
  const Eigen::Matrix3d covariance = noise * a.inverse();  // stationary law: D A^-1
  for (const SweepPoint& p : s.points) {
    Eigen::Vector3d b = Eigen::Vector3d::Zero();
    b(0) = d.bias.to_physical(p.set_codes[0]);
    EXPECT_NEAR(p.set_values[0], b(0), 1e-12);
    const Eigen::Vector3d expected = a.ldlt().solve(b);
    for (int i = 0; i < 3; ++i) {
      EXPECT_NEAR(p.mean[i], expected(i), kSigmas * p.mean_stderr[i])
          << "cell " << i << " at b0 = " << b(0);
      EXPECT_NEAR(p.variance[i], covariance(i, i), kSigmas * p.variance_stderr[i])
          << "cell " << i << " at b0 = " << b(0);
      EXPECT_GT(p.mean_stderr[i], 0.0);
    }
  }
}

TEST(Sweep, PbitBiasSweepFollowsTheSigmoid) {
  auto board = kelvin::testing::open_pbit_board();
  PbitBase base;
  base.beta_code = 64;  // beta = 0.25
  SweepOptions o;
  o.axes = {Axis{"bias:5", -3.0, 3.0, 7, 0.0}};
  o.samples = 2000;
  o.chains = 4;
  o.observe = {5, 6};
  const SweepSummary s = run_sweep(board, base, o);
  ASSERT_EQ(s.points.size(), 7u);
  for (const SweepPoint& p : s.points) {
    // Uncoupled p-bit: P(+1) = sigmoid(2 beta b), so <s> = tanh(beta b).
    const double expected = std::tanh(0.25 * static_cast<double>(p.set_codes[0]));
    EXPECT_NEAR(p.mean[0], expected, kSigmas * p.mean_stderr[0]) << "b = " << p.set_codes[0];
    EXPECT_NEAR(p.mean[1], 0.0, kSigmas * p.mean_stderr[1]);  // node 6 keeps bias 0
    EXPECT_NEAR(p.magnetization, expected / 2.0, kSigmas * p.magnetization_stderr);
    EXPECT_EQ(p.samples, 2000u * 4u);
  }
}

TEST(Sweep, CancellationKeepsTheFinishedPointsAndRestores) {
  auto board = kelvin::testing::open_resonator_board(2, 3);
  const auto base = ResonatorBase::independent_cells(2, 9830, 2000);
  std::stop_source stop;
  SweepOptions o = bias_sweep(0.0, 0.9, 10);
  o.on_point = [&](const SweepProgress& p) {
    EXPECT_EQ(p.points_total, 10u);
    if (p.points_done == 3)
      stop.request_stop();
  };
  const SweepSummary s = run_sweep(board, base, o, stop.get_token());
  EXPECT_TRUE(s.interrupted);
  EXPECT_EQ(s.points_done, 3u);
  ASSERT_EQ(s.points.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k)
    EXPECT_EQ(s.points[k].index, k);
  EXPECT_TRUE(s.restored);
  ASSERT_FALSE(s.applied.empty());
  EXPECT_EQ(s.applied.back().code, 0);
  EXPECT_NE(s.brief_report().find("interrupted"), std::string::npos);
}

TEST(Sweep, TwoAxesVisitTheGridOuterFirst) {
  auto board = kelvin::testing::open_resonator_board(2, 3);
  const auto base = ResonatorBase::independent_cells(2, 9830, 2000);
  SweepOptions o = bias_sweep(0.0, 0.1, 2);
  o.axes.push_back(Axis{"noise", 0.01, 0.03, 3, 0.0});
  const SweepSummary s = run_sweep(board, base, o);
  ASSERT_EQ(s.points.size(), 6u);
  EXPECT_EQ(s.points[2].set_codes[0], 0);
  EXPECT_EQ(s.points[3].set_codes[0], s.points[5].set_codes[0]);
  EXPECT_EQ(s.points[0].set_codes[1], s.points[3].set_codes[1]);
  EXPECT_NEAR(s.points[4].set_values[1], 0.02, board.description().noise.lsb);
}

}  // namespace
}  // namespace kelvin::runtime::sweep
