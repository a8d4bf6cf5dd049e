#include "kelvin/sim_backend/quartic_stepper.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kelvin/sim_backend/exact_discretization.hpp"
#include "row_major.hpp"

namespace kelvin::sim_backend {
namespace {

using detail::row_major;

std::string shape(const Eigen::MatrixXd& m) {
  return std::to_string(m.rows()) + "x" + std::to_string(m.cols());
}

// Exact flow of dx/dt = -k x^3 over a time t, with c = 2 k t.
double cubic_flow(double x, double c) {
  return x / std::sqrt(1.0 + c * (x * x));
}

}  // namespace

QuarticStepper::QuarticStepper(const Eigen::MatrixXd& drift, const Eigen::MatrixXd& noise_shape,
                               const Eigen::VectorXd& cubic, double period_us,
                               std::uint32_t substeps)
    : n_(static_cast<std::size_t>(drift.rows())), substeps_(substeps), period_us_(period_us) {
  const Eigen::Index n = drift.rows();
  if (n == 0) {
    throw std::invalid_argument("QuarticStepper: needs at least one cell");
  }
  if (drift.cols() != n || noise_shape.rows() != n || noise_shape.cols() != n ||
      cubic.size() != n) {
    throw std::invalid_argument(
        "QuarticStepper: drift and noise shape must be n x n and cubic "
        "n values, got drift " +
        shape(drift) + ", noise shape " + shape(noise_shape) + " and cubic of " +
        std::to_string(cubic.size()));
  }
  if (!drift.allFinite() || !noise_shape.allFinite()) {
    throw std::invalid_argument("QuarticStepper: drift and noise shape must be finite");
  }
  for (Eigen::Index i = 0; i < n; ++i) {
    if (!std::isfinite(cubic(i)) || cubic(i) < 0.0) {
      throw std::invalid_argument("QuarticStepper: cubic coefficient " + std::to_string(i) +
                                  " must be finite and >= 0, got " + std::to_string(cubic(i)));
    }
  }
  if (!std::isfinite(period_us) || period_us <= 0.0) {
    throw std::invalid_argument("QuarticStepper: period must be finite and > 0, got " +
                                std::to_string(period_us));
  }
  if (substeps == 0) {
    throw std::invalid_argument("QuarticStepper: substeps must be >= 1");
  }

  const double tau = period_us / substeps;
  const Eigen::MatrixXd unit_diffusion = noise_shape * noise_shape.transpose();
  const Discretization d = discretize_lti(drift, unit_diffusion, tau);
  const CovarianceFactor factor = factor_covariance(d.q);
  phi_ = row_major(d.phi);
  gamma_ = row_major(d.gamma);
  unit_factor_ = row_major(factor.l);
  cubic_tau_.resize(n_);
  for (std::size_t i = 0; i < n_; ++i)
    cubic_tau_[i] = cubic(static_cast<Eigen::Index>(i)) * tau;
  offset_.assign(n_, 0.0);
}

void QuarticStepper::set_input(const Eigen::VectorXd& u) {
  if (static_cast<std::size_t>(u.size()) != n_ || !u.allFinite()) {
    throw std::invalid_argument("QuarticStepper: input must be " + std::to_string(n_) +
                                " finite values, got " + std::to_string(u.size()));
  }
  for (std::size_t i = 0; i < n_; ++i) {
    const double* gamma_row = gamma_.data() + i * n_;
    double sum = 0.0;
    for (std::size_t j = 0; j < n_; ++j)
      sum += gamma_row[j] * u(static_cast<Eigen::Index>(j));
    offset_[i] = sum;
  }
}

void QuarticStepper::set_diffusion(double d) {
  if (!std::isfinite(d) || d < 0.0) {
    throw std::invalid_argument("QuarticStepper: diffusion must be finite and >= 0, got " +
                                std::to_string(d));
  }
  diffusion_ = d;
  factor_.clear();
  if (d > 0.0) {
    const double scale = std::sqrt(2.0 * d);
    factor_.resize(unit_factor_.size());
    for (std::size_t i = 0; i < unit_factor_.size(); ++i)
      factor_[i] = scale * unit_factor_[i];
  }
}

void QuarticStepper::advance(std::span<double> x, std::uint64_t sample_index,
                             const GaussianStream& noise, double rail) const {
  if (x.size() != n_) {
    throw std::invalid_argument("QuarticStepper::advance: state must have " + std::to_string(n_) +
                                " values, got " + std::to_string(x.size()));
  }
  if (!(rail >= 0.0)) {
    throw std::invalid_argument("QuarticStepper::advance: rail must be >= 0, got " +
                                std::to_string(rail));
  }
  const std::size_t n = n_;
  const bool noisy = !factor_.empty();
  std::vector<double> scratch(2 * n, 0.0);
  const std::span<double> next(scratch.data(), n);
  const std::span<double> xi(scratch.data() + n, n);

  for (std::uint32_t s = 0; s < substeps_; ++s) {
    for (std::size_t i = 0; i < n; ++i)
      x[i] = cubic_flow(x[i], cubic_tau_[i]);
    if (noisy)
      noise.fill(sample_index, s, xi);
    for (std::size_t i = 0; i < n; ++i) {
      const double* phi_row = phi_.data() + i * n;
      double drift = 0.0;
      for (std::size_t j = 0; j < n; ++j)
        drift += phi_row[j] * x[j];
      double value = drift + offset_[i];
      if (noisy) {
        const double* l_row = factor_.data() + i * n;
        double kick = 0.0;
        for (std::size_t j = 0; j < n; ++j)
          kick += l_row[j] * xi[j];
        value += kick;
      }
      next[i] = value;
    }
    for (std::size_t i = 0; i < n; ++i)
      x[i] = std::clamp(cubic_flow(next[i], cubic_tau_[i]), -rail, rail);
  }
}

}  // namespace kelvin::sim_backend
