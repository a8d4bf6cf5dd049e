#include "kelvin/runtime/inverse.hpp"

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <Eigen/Dense>

#include "kelvin/common/error.hpp"
#include "kelvin/testing/boards.hpp"
#include "spd_fixtures.hpp"

namespace kelvin::runtime {
namespace {

using kelvin::testing::open_resonator_board;

// Two-sided Student-t quantile for 19 degrees of freedom (20 batches) at probability 1e-3,
// Bonferroni-corrected over the 42 upper-triangle entries of two 6 x 6 systems (numerical
// integration of the t density).
constexpr double kT19Over42 = 5.55;

TEST(Inverse, SecondMomentsGiveTheInverseWithinTheirErrorBars) {
  for (std::uint64_t s = 0; s < 2; ++s) {
    const Eigen::MatrixXd a = testing::random_spd(6, 10.0 + 10.0 * static_cast<double>(s), 40 + s);
    const Eigen::MatrixXd exact = a.inverse();
    auto board = open_resonator_board(8, 20 + s);
    const auto r = inverse(board, a);
    double worst = 0.0;
    for (Eigen::Index i = 0; i < 6; ++i) {
      for (Eigen::Index j = i; j < 6; ++j) {
        ASSERT_GT(r.standard_error(i, j), 0.0);
        const double z = std::abs(r.inverse(i, j) - exact(i, j)) / r.standard_error(i, j);
        worst = std::max(worst, z);
        EXPECT_LE(z, kT19Over42) << "system " << s << " entry (" << i << ", " << j
                                 << "): " << r.inverse(i, j) << " vs " << exact(i, j) << "\n"
                                 << r.summary.full_report();
      }
    }
    EXPECT_EQ(r.summary.clipped_samples, 0u);
    EXPECT_TRUE(r.inverse.isApprox(r.inverse.transpose()));
    std::printf(
        "[   INFO   ] system %d (cond %.0f): relative Frobenius error %.4f, worst entry "
        "%.2f se, %.3g ms device time\n",
        static_cast<int>(s), 10.0 + 10.0 * static_cast<double>(s),
        (r.inverse - exact).norm() / exact.norm(), worst, r.summary.device_time_s * 1e3);
  }
}

TEST(Inverse, RefusesBadInputBeforeTouchingTheBoard) {
  auto board = open_resonator_board(8, 3);
  const auto requests = board.device().stats().requests;
  Eigen::Matrix2d indefinite;
  indefinite << 1, 2, 2, 1;
  try {
    inverse(board, indefinite);
    ADD_FAILURE() << "an indefinite matrix was accepted";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.kind(), common::ErrorKind::kInvalidArgument);
  }
  InverseOptions bad;
  bad.batches = 2;
  EXPECT_THROW(inverse(board, Eigen::Matrix2d::Identity(), bad), common::Error);
  EXPECT_EQ(board.device().stats().requests, requests);
}

}  // namespace
}  // namespace kelvin::runtime
