// The hybrid loop's training task, shared by the TNGD tests and the pipeline benchmark: logistic
// regression on 8 features whose scales spread over two decades (10^(-j/3.5)), so the loss is
// ill-conditioned (the covariance's condition number is about 1e4): SGD's step must stay below
// 2 / lambda_max and crawls along the flat directions, which the GGN curvature corrects.
// Deterministic: the same seed gives the same data bit for bit.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <Eigen/Dense>

namespace kelvin::runtime::testing {

inline constexpr int kLogisticFeatures = 8;

struct LogisticDataset {
  Eigen::MatrixXd x;  // examples x kLogisticFeatures
  Eigen::VectorXd y;  // 0 or 1
};

// Feature j has standard deviation 10^(-j/3.5); labels follow a logistic model with fixed true
// weights. The default (1024 examples, seed 2024) is the dataset of docs/hybrid-loop.md.
inline LogisticDataset make_logistic_dataset(int examples = 1024, std::uint64_t seed = 2024) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform;
  Eigen::VectorXd w_true(kLogisticFeatures);
  for (int j = 0; j < kLogisticFeatures; ++j)
    w_true(j) = (j % 2 == 0 ? 1.0 : -1.0) * 2.0 * std::pow(10.0, j / 3.5);
  LogisticDataset d{Eigen::MatrixXd(examples, kLogisticFeatures), Eigen::VectorXd(examples)};
  for (int i = 0; i < examples; ++i) {
    for (int j = 0; j < kLogisticFeatures; ++j)
      d.x(i, j) = normal(rng) * std::pow(10.0, -j / 3.5);
    const double p = 1.0 / (1.0 + std::exp(-d.x.row(i).dot(w_true)));
    d.y(i) = uniform(rng) < p ? 1.0 : 0.0;
  }
  return d;
}

inline Eigen::VectorXd sigmoid(const Eigen::VectorXd& z) {
  return (1.0 + (-z.array()).exp()).inverse().matrix();
}

// Mean cross-entropy over the whole dataset.
inline double logistic_loss(const LogisticDataset& d, const Eigen::VectorXd& w) {
  const Eigen::VectorXd p = sigmoid(d.x * w);
  double total = 0.0;
  for (Eigen::Index i = 0; i < d.x.rows(); ++i) {
    const double q = std::clamp(p(i), 1e-12, 1.0 - 1e-12);
    total -= d.y(i) * std::log(q) + (1.0 - d.y(i)) * std::log(1.0 - q);
  }
  return total / static_cast<double>(d.x.rows());
}

struct LogisticBatch {
  Eigen::VectorXd gradient;
  Eigen::MatrixXd ggn;  // X^T diag(p (1 - p)) X / batch: the Gauss-Newton matrix (= Fisher here)
};

// Gradient and GGN of the mean cross-entropy over mini-batch `step` (batches of `batch`
// consecutive examples, cycling through the data; batch must divide the number of examples).
inline LogisticBatch logistic_batch(const LogisticDataset& d, const Eigen::VectorXd& w, int step,
                                    int batch) {
  const auto start = static_cast<Eigen::Index>(step) * batch % d.x.rows();
  const Eigen::MatrixXd x = d.x.middleRows(start, batch);
  const Eigen::VectorXd p = sigmoid(x * w);
  const Eigen::VectorXd h = p.array() * (1.0 - p.array());
  LogisticBatch b;
  b.gradient = x.transpose() * (p - d.y.segment(start, batch)) / batch;
  b.ggn = x.transpose() * h.asDiagonal() * x / batch;
  return b;
}

// Plain gradient descent on the same batches: the loss before step 0 and after every step.
inline std::vector<double> train_logistic_sgd(const LogisticDataset& d, double rate, int steps,
                                              int batch) {
  Eigen::VectorXd w = Eigen::VectorXd::Zero(kLogisticFeatures);
  std::vector<double> losses{logistic_loss(d, w)};
  for (int step = 0; step < steps; ++step) {
    w -= rate * logistic_batch(d, w, step, batch).gradient;
    losses.push_back(logistic_loss(d, w));
  }
  return losses;
}

}  // namespace kelvin::runtime::testing
