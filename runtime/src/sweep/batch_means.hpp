// Batch means for a sweep point: the mean of per-batch values and its standard error, the
// batches' sample standard deviation / sqrt(batches) (valid when batches are longer than the
// correlation time, so that batch values are nearly independent).
//
// Thread contract: a plain value type.
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

namespace kelvin::runtime::sweep::detail {

class BatchMeans {
 public:
  explicit BatchMeans(std::size_t n) : sum_(n, 0.0), squares_(n, 0.0) {}
  void add(const std::vector<double>& batch) {
    for (std::size_t i = 0; i < sum_.size(); ++i) {
      sum_[i] += batch[i];
      squares_[i] += batch[i] * batch[i];
    }
    ++batches_;
  }
  double mean(std::size_t i) const { return sum_[i] / static_cast<double>(batches_); }
  double stderr_of(std::size_t i) const {
    const double b = static_cast<double>(batches_);
    const double m = mean(i);
    const double variance = std::max(0.0, (squares_[i] - b * m * m) / (b - 1.0));
    return std::sqrt(variance / b);
  }
  std::vector<double> means() const { return each(&BatchMeans::mean); }
  std::vector<double> stderrs() const { return each(&BatchMeans::stderr_of); }

 private:
  std::vector<double> each(double (BatchMeans::*f)(std::size_t) const) const {
    std::vector<double> out(sum_.size());
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = (this->*f)(i);
    return out;
  }
  std::vector<double> sum_;
  std::vector<double> squares_;
  std::size_t batches_ = 0;
};

}  // namespace kelvin::runtime::sweep::detail
