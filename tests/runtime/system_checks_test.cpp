#include "kelvin/runtime/system_checks.hpp"

#include <limits>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/testing/errors.hpp"

namespace kelvin::runtime {
namespace {

using common::ErrorKind;
using kelvin::testing::message_of;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(SystemChecks, AcceptsASymmetricSystem) {
  Eigen::MatrixXd a(2, 2);
  a << 2, -1, -1, 2;
  EXPECT_NO_THROW(check_symmetric_system(a, Eigen::VectorXd::Ones(2), 1e-12));
  EXPECT_NO_THROW(check_positive_definite(a));
}

TEST(SystemChecks, NamesWrongSizes) {
  EXPECT_TRUE(contains(
      message_of(
          [] { check_symmetric_system(Eigen::MatrixXd::Ones(2, 3), Eigen::VectorXd::Ones(2), 0); },
          ErrorKind::kInvalidArgument),
      "2x3, not square"));
  EXPECT_TRUE(contains(message_of(
                           [] {
                             check_symmetric_system(Eigen::MatrixXd::Identity(3, 3),
                                                    Eigen::VectorXd::Ones(2), 0);
                           },
                           ErrorKind::kInvalidArgument),
                       "2 entries"));
  EXPECT_TRUE(contains(
      message_of([] { check_symmetric_system(Eigen::MatrixXd(0, 0), Eigen::VectorXd(0), 0); },
                 ErrorKind::kInvalidArgument),
      "empty"));
}

TEST(SystemChecks, NamesTheFirstNonFiniteEntry) {
  Eigen::MatrixXd a = Eigen::MatrixXd::Identity(3, 3);
  a(1, 2) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(contains(message_of([&] { check_symmetric_system(a, Eigen::VectorXd::Ones(3), 0); },
                                  ErrorKind::kInvalidArgument),
                       "(1, 2) is nan"));
  Eigen::VectorXd b = Eigen::VectorXd::Ones(3);
  b(2) = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(
      contains(message_of([&] { check_symmetric_system(Eigen::MatrixXd::Identity(3, 3), b, 0); },
                          ErrorKind::kInvalidArgument),
               "entry 2 is inf"));
}

TEST(SystemChecks, NamesTheWorstAsymmetricPair) {
  Eigen::MatrixXd a = Eigen::MatrixXd::Identity(3, 3);
  a(0, 2) = 0.5;
  a(2, 0) = 0.25;
  const auto msg = message_of([&] { check_symmetric_system(a, Eigen::VectorXd::Ones(3), 1e-10); },
                              ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(msg, "not symmetric")) << msg;
  EXPECT_TRUE(contains(msg, "0.5")) << msg;
}

TEST(SystemChecks, ToleratesRoundingLevelAsymmetry) {
  Eigen::MatrixXd a = Eigen::MatrixXd::Identity(2, 2);
  a(0, 1) = 0.3;
  a(1, 0) = 0.3 + 1e-15;
  EXPECT_NO_THROW(check_symmetric_system(a, Eigen::VectorXd::Ones(2), 1e-10));
}

TEST(SystemChecks, RejectsAnIndefiniteMatrixNamingItsSmallestEigenvalue) {
  Eigen::MatrixXd a(2, 2);
  a << 1, 2, 2, 1;  // eigenvalues 3 and -1
  const auto msg = message_of([&] { check_positive_definite(a); }, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(contains(msg, "not positive definite")) << msg;
  EXPECT_TRUE(contains(msg, "-1")) << msg;
}

}  // namespace
}  // namespace kelvin::runtime
