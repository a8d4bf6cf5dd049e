// The estimators of the log-determinant from the work of the ramp's trajectories (logdet.hpp):
// Jarzynski's equality over the forward ramp, and Bennett's acceptance ratio over both.
//
// Thread contract: pure functions, safe from any thread.
#pragma once

#include <utility>

#include <Eigen/Core>

namespace kelvin::runtime::detail {

struct JarzynskiEstimate {
  double logdet_dev = 0.0;  // log det A_K in device units
  double stderr_ = 0.0;
  double bias = 0.0;
  double effective = 0.0;
};

// shifted_work_m = W_m + log det(A_0,m) / 2, so that <exp(-shifted)> = det(A_K)^-1/2.
JarzynskiEstimate jarzynski(const Eigen::VectorXd& shifted_work);

// Bennett's acceptance ratio (Bennett 1976; Shirts et al., PRL 91, 140601 (2003)) from the
// forward and reverse works: {Delta F, its standard error}, in units of D.
std::pair<double, double> bennett(const Eigen::VectorXd& wf, const Eigen::VectorXd& wr);

}  // namespace kelvin::runtime::detail
