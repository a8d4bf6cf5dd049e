#include "logdet_estimators.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace kelvin::runtime::detail {
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

}  // namespace

JarzynskiEstimate jarzynski(const Eigen::VectorXd& shifted_work) {
  const double m = static_cast<double>(shifted_work.size());
  const double shift = shifted_work.minCoeff();  // exponents <= 0: no overflow
  const Eigen::ArrayXd e = (-(shifted_work.array() - shift)).exp();
  const double mean = e.mean();
  const double var = (e - mean).square().sum() / (m - 1.0);
  JarzynskiEstimate j;
  j.logdet_dev = 2.0 * shift - 2.0 * std::log(mean);
  // Delta method: var(log mean) = var(e) / (M mean^2); log det = -2 log mean.
  const double rel = var / (m * mean * mean);
  j.stderr_ = 2.0 * std::sqrt(rel);
  // E[log mean] = log mu - rel / 2 + O(M^-2), so -2 log mean is high by rel.
  j.bias = rel;
  j.effective = e.sum() * e.sum() / e.square().sum();
  return j;
}

// Bennett's acceptance ratio (Bennett 1976; Shirts et al., PRL 91, 140601 (2003)): Delta F
// solves sum_f f(W_f - dF + M) = sum_r f(W_r + dF - M), f the Fermi function, M = ln(n_f/n_r);
// its asymptotic variance is <f^2>_f/(n_f <f>_f^2) + <f^2>_r/(n_r <f>_r^2) - 1/n_f - 1/n_r.
// Returns {Delta F, its standard error}, in units of D.
std::pair<double, double> bennett(const Eigen::VectorXd& wf, const Eigen::VectorXd& wr) {
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

}  // namespace kelvin::runtime::detail
