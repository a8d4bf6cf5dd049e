// Maximum-likelihood fit of a linear Gaussian discrete step x_{k+1} = M x_k + c + e,
// e ~ N(0, Sigma_e), from one long trajectory: least squares on consecutive samples (the ML
// estimate, conditional on the first sample), the least-squares covariance Sigma_e kron
// (X^T X)^-1, and the drift F = log(M) / h with standard errors by the delta method.
//
// Thread contract: a LinearStepFit is used by one thread; drift_of() is a pure function.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <Eigen/Dense>

namespace kelvin::runtime::calibration::detail {

// The current UTC time in a fmt chrono format (calibration dates and ids).
inline std::string utc_now(std::string_view format) {
  const auto now =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  return fmt::format(fmt::runtime(format), now);
}

struct StepEstimate {
  Eigen::MatrixXd m;                  // M
  Eigen::VectorXd c;                  // c
  Eigen::MatrixXd m_stderr;           // per entry
  Eigen::MatrixXd noise;              // Sigma_e
  Eigen::MatrixXd regressor_inverse;  // (X^T X)^-1 of the state part (n x n)
  std::uint64_t pairs = 0;
};

class LinearStepFit {
 public:
  explicit LinearStepFit(Eigen::Index n);
  // Adds a sample; pairs it with the previous one (if any) as one regression row.
  void add(std::span<const double> x);
  // Throws std::runtime_error with fewer than n + 2 pairs.
  StepEstimate estimate() const;

 private:
  Eigen::Index n_;
  Eigen::MatrixXd zz_;  // sum z z^T, z = [x_k; 1]
  Eigen::MatrixXd zy_;  // sum z x_{k+1}^T
  Eigen::MatrixXd yy_;  // sum x_{k+1} x_{k+1}^T
  Eigen::VectorXd previous_;
  bool has_previous_ = false;
  std::uint64_t pairs_ = 0;
};

struct DriftEstimate {
  Eigen::MatrixXd f;         // log(M) / h
  Eigen::MatrixXd f_stderr;  // delta method
};

// F = log(M) / h. Throws std::runtime_error if M has a non-positive real eigenvalue (no real
// logarithm: the data did not come from a stable linear drift).
DriftEstimate drift_of(const StepEstimate& step, double h);

}  // namespace kelvin::runtime::calibration::detail
