#include "kelvin/runtime/logdet_estimators.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace kelvin::runtime {
namespace {

// log(1 / (1 + exp(z))), without overflow.
double log_fermi(double z) {
  return z > 0.0 ? -z - std::log1p(std::exp(-z)) : -std::log1p(std::exp(z));
}

// Sums sum_m f(z_m) and sum_m f(z_m)^2, scaled by exp(-top) and exp(-2 top) (ratios are all
// that is needed), for f = 1 / (1 + e^z).
struct FermiSums {
  double top = 0.0;
  double s1 = 0.0;
  double s2 = 0.0;
};
FermiSums fermi_sums(const Eigen::VectorXd& w, double offset) {
  FermiSums f;
  f.top = -INFINITY;
  std::vector<double> logs(static_cast<std::size_t>(w.size()));
  for (Eigen::Index i = 0; i < w.size(); ++i) {
    logs[static_cast<std::size_t>(i)] = log_fermi(w(i) + offset);
    f.top = std::max(f.top, logs[static_cast<std::size_t>(i)]);
  }
  for (double l : logs) {
    f.s1 += std::exp(l - f.top);
    f.s2 += std::exp(2.0 * (l - f.top));
  }
  return f;
}

// Zhang & Stephens (2009): the generalized Pareto shape of exceedances x (ascending, the largest
// > 0) by the posterior mean of their profile-likelihood grid, with Vehtari et al.'s weakly
// informative prior (10 pseudo-observations at k = 1/2). Their parametrization: theta = -k /
// sigma, k = mean log(1 - theta x).
double zhang_stephens_shape(const std::vector<double>& x) {
  const auto n = static_cast<double>(x.size());
  const int grid = 30 + static_cast<int>(std::sqrt(n));
  const double first_quartile = x[static_cast<std::size_t>(std::floor(n / 4.0 + 0.5)) - 1];
  const auto shape_at = [&](double theta) {
    double s = 0.0;
    for (const double v : x)
      s += std::log1p(-theta * v);
    return s / n;
  };
  std::vector<double> theta(static_cast<std::size_t>(grid));
  std::vector<double> log_lik(theta.size());
  double top = -INFINITY;
  for (int j = 1; j <= grid; ++j) {
    // theta_j < 1 / max(x), so every 1 - theta x > 0. A zero quartile (ties at the threshold)
    // leaves the grid at 1 / max(x) - infinity: use the largest exceedance's scale instead.
    const double scale = first_quartile > 0.0 ? first_quartile : x.back();
    double t = 1.0 / x.back() + (1.0 - std::sqrt(grid / (j - 0.5))) / 3.0 / scale;
    if (t == 0.0)
      t = 1e-12 / x.back();  // k(0) = 0 makes the likelihood 0/0
    const double k = shape_at(t);
    const auto i = static_cast<std::size_t>(j - 1);
    theta[i] = t;
    log_lik[i] = n * (std::log(-t / k) - k - 1.0);
    top = std::max(top, log_lik[i]);
  }
  double z = 0.0;
  double mean_theta = 0.0;
  for (std::size_t i = 0; i < theta.size(); ++i) {
    const double p = std::exp(log_lik[i] - top);
    z += p;
    mean_theta += p * theta[i];
  }
  const double k = shape_at(mean_theta / z);
  return (n * k + 10.0 * 0.5) / (n + 10.0);
}

}  // namespace

std::optional<ParetoTail> pareto_tail(const Eigen::VectorXd& log_weights) {
  const auto m = static_cast<double>(log_weights.size());
  const int count = static_cast<int>(std::ceil(std::min(0.2 * m, 3.0 * std::sqrt(m))));
  if (count < kMinParetoTail || count >= log_weights.size())
    return std::nullopt;
  std::vector<double> w(log_weights.data(), log_weights.data() + log_weights.size());
  const double top = *std::max_element(w.begin(), w.end());
  for (double& v : w)
    v = std::exp(v - top);  // the shape does not depend on the weights' scale
  std::sort(w.begin(), w.end());
  const std::size_t first = w.size() - static_cast<std::size_t>(count);
  const double threshold = w[first - 1];
  std::vector<double> exceedances(w.begin() + static_cast<std::ptrdiff_t>(first), w.end());
  for (double& v : exceedances)
    v -= threshold;
  if (!(exceedances.back() > 0.0))
    return std::nullopt;
  ParetoTail tail;
  tail.count = count;
  tail.shape = zhang_stephens_shape(exceedances);
  // The maximum-likelihood shape's asymptotic deviation (1 + k) / sqrt(count), shrunk as the
  // prior shrinks the shape: count / (count + 10).
  const double c = static_cast<double>(count);
  tail.shape_stderr = (1.0 + std::max(tail.shape, -0.5)) / std::sqrt(c) * c / (c + 10.0);
  return tail;
}

JarzynskiEstimate jarzynski(const Eigen::VectorXd& work) {
  const Eigen::Index m = work.size();
  const double md = static_cast<double>(m);
  const Eigen::VectorXd log_w = -work;
  Eigen::Index argmax = 0;
  const double top = log_w.maxCoeff(&argmax);
  const Eigen::ArrayXd w = (log_w.array() - top).exp();  // the largest is exactly 1
  const double sum = w.sum();
  JarzynskiEstimate j;
  j.delta_f = -(top + std::log(sum / md));
  j.effective = sum * sum / w.square().sum();
  j.tail = pareto_tail(log_w);
  if (work.minCoeff() == work.maxCoeff())
    return j;  // every leave-one-out estimate is the estimate: no spread, no bias

  // Leave-one-out: delta_f_(i) - delta_f = -log((sum - w_i) / sum) - log(M / (M - 1)). For the
  // largest weight the rest is summed on its own scale, so a weight that dwarfs all the others
  // (their share below 1e-16) still gives a finite leave-one-out estimate.
  double rest_top = -INFINITY;
  for (Eigen::Index i = 0; i < m; ++i) {
    if (i != argmax)
      rest_top = std::max(rest_top, log_w(i));
  }
  double rest = 0.0;
  for (Eigen::Index i = 0; i < m; ++i) {
    if (i != argmax)
      rest += std::exp(log_w(i) - rest_top);
  }
  const double shift = std::log(md / (md - 1.0));
  Eigen::ArrayXd loo(m);
  for (Eigen::Index i = 0; i < m; ++i) {
    const double log_share =
        i == argmax ? rest_top + std::log(rest) - top - std::log(sum) : std::log1p(-w(i) / sum);
    loo(i) = -log_share - shift;  // delta_f_(i) - delta_f
  }
  const double loo_mean = loo.mean();
  j.standard_error = std::sqrt((md - 1.0) / md * (loo - loo_mean).square().sum());
  j.bias = std::max(0.0, (md - 1.0) * loo_mean);  // >= 0 by the concavity of log
  return j;
}

// Delta F solves sum_f f(W_f - dF + M) = sum_r f(W_r + dF - M), f the Fermi function,
// M = ln(n_f/n_r); its asymptotic variance is <f^2>_f/(n_f <f>_f^2) + <f^2>_r/(n_r <f>_r^2) -
// 1/n_f - 1/n_r.
BennettEstimate bennett(const Eigen::VectorXd& wf, const Eigen::VectorXd& wr) {
  const double nf = static_cast<double>(wf.size());
  const double nr = static_cast<double>(wr.size());
  const double m = std::log(nf / nr);
  // g increases with dF: the forward sum grows, the reverse one shrinks.
  const auto g = [&](double df) {
    const FermiSums f = fermi_sums(wf, -df + m);
    const FermiSums r = fermi_sums(wr, df - m);
    return (f.top + std::log(f.s1)) - (r.top + std::log(r.s1));
  };
  double lo = std::min(wf.minCoeff(), -wr.maxCoeff()) - 1.0;
  double hi = std::max(wf.maxCoeff(), -wr.minCoeff()) + 1.0;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * std::max(1.0, std::abs(hi)); ++i) {
    const double mid = 0.5 * (lo + hi);
    (g(mid) < 0.0 ? lo : hi) = mid;
  }
  const double df = 0.5 * (lo + hi);
  const FermiSums f = fermi_sums(wf, -df + m);
  const FermiSums r = fermi_sums(wr, df - m);
  const double var =
      f.s2 / (f.s1 * f.s1) + r.s2 / (r.s1 * r.s1) - 1.0 / nf - 1.0 / nr;  // scale-free ratios
  return {df, std::sqrt(std::max(var, 0.0))};
}

}  // namespace kelvin::runtime
