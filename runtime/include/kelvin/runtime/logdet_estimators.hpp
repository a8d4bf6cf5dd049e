// The estimators of a free-energy difference from nonequilibrium work that logdet() uses
// (logdet.hpp), public so that their statistics can be checked on synthetic work:
//   - Jarzynski's equality over one direction, Delta F = -log <exp(-W)>, estimated by
//     -log mean exp(-W) over M trajectories, with a jackknife standard error and bias estimate
//     over the trajectories and the Pareto shape of the weights' tail;
//   - Bennett's acceptance ratio over both directions.
// Works and free energies are dimensionless (units of kT, the board's D).
//
// Why the tail shape. The weights w = exp(-W) of a coupling ramp are heavy-tailed: the work of a
// Gaussian state is a quadratic form, W = sum_j nu_j z_j^2 / 2 with z_j standard normal, so
// P(w > t) falls as t^(-1/k) with k = max(0, -min nu_j) (a power law, not the log-normal tail
// of near-Gaussian work). k < 1 always (Jarzynski's average exists), but for k >= 1/2 the
// weights have infinite variance: the mean of M weights then converges slower than 1/sqrt(M),
// its distribution is skewed (the rare low-work trajectories that carry the average are
// usually missing, so the estimate sits high; occasionally one shows up and pulls it far down),
// and no error bar computed from the sample is a standard error. Short ramps (a few switches)
// on ill-conditioned matrices reach k = 0.6-0.85 while dissipating only 0.4-1 kT, where a
// dissipation threshold does not see it. The tail shape is estimated as in Pareto-smoothed
// importance sampling (Vehtari, Simpson, Gelman, Yao & Gabry 2024, "Pareto smoothed importance
// sampling", JMLR 25(72); the generalized Pareto fit of Zhang & Stephens 2009 to the largest
// ceil(min(M/5, 3 sqrt M)) weights); Koopman, Shephard & Creal (2009) test the same k against
// 1/2 to decide whether an importance-sampling variance exists.
//
// Why the jackknife. The delta method's standard error of -log mean w, sqrt(var(w) / M) / mean w,
// and its bias estimate var(w) / (2 M mean^2) are first order in the largest weights' share of
// the sum; the jackknife (leave one trajectory out) keeps the logarithm's nonlinearity in that
// share, which matters exactly when a few weights dominate. Over seeds the root mean square of
// its standard error matches the estimate's spread at every tail shape tested (k = 0.1-0.84:
// ratios 0.94-1.04), where the delta method's is 1.2-1.6x too small from k = 0.6 on
// (logdet_estimators_test.cpp). That is calibration on average only: for k > 1/2 the runs
// whose sample misses the tail report a small error bar and sit high by several of it, the
// others a large one. Its bias estimate, (M - 1) (mean of the leave-one-out estimates - the
// estimate), is the measured bias while k < 1/2 (M >= 50) and falls short beyond, by 1.5-2x at
// k = 0.6-0.7 and 2-3.5x at k = 0.77-0.84: the bias there comes from trajectories the sample
// does not contain, which no statistic of the sample can see. Hence the warning threshold
// kInfiniteVarianceShape, and Bennett's estimator (bounded weights) as the remedy.
//
// Thread contract: pure functions, safe from any thread.
#pragma once

#include <optional>

#include <Eigen/Core>

namespace kelvin::runtime {

// Above this tail shape the weights exp(-W) have infinite variance: the error bar is not a
// standard error and the bias can exceed both it and the bias estimate.
inline constexpr double kInfiniteVarianceShape = 0.5;
// The fewest weights a tail fit uses, 10 (ceil(M / 5) from M = 46 trajectories): with fewer the
// fit's prior (10 pseudo-observations at k = 1/2) would outweigh the data.
inline constexpr int kMinParetoTail = 10;
inline constexpr int kMinTailTrajectories = 46;

// The generalized Pareto fit to the largest weights.
struct ParetoTail {
  double shape = 0.0;  // k: P(w > t) ~ t^(-1/k); the variance is infinite for k >= 1/2
  // The fit's asymptotic standard error, (1 + k) sqrt(count) / (count + 10): the maximum-
  // likelihood shape's (1 + k) / sqrt(count), shrunk as the prior shrinks the shape.
  double shape_stderr = 0.0;
  int count = 0;  // the largest weights fitted, ceil(min(M / 5, 3 sqrt(M)))
};

// The tail of the weights exp(log_weights): empty with fewer than kMinParetoTail weights in the
// tail (M < kMinTailTrajectories) or a tail without spread (its weights all equal, as W == 0).
std::optional<ParetoTail> pareto_tail(const Eigen::VectorXd& log_weights);

struct JarzynskiEstimate {
  double delta_f = 0.0;         // -log mean exp(-W)
  double standard_error = 0.0;  // jackknife over trajectories
  double bias = 0.0;            // jackknife estimate of E[delta_f] - Delta F (>= 0)
  double effective = 0.0;       // Kish's effective sample size (sum w)^2 / sum w^2
  std::optional<ParetoTail> tail;
};

// Forward Jarzynski from M >= 2 works.
JarzynskiEstimate jarzynski(const Eigen::VectorXd& work);

struct BennettEstimate {
  double delta_f = 0.0;
  double standard_error = 0.0;  // asymptotic (Shirts, Bair, Hooker & Pande 2003)
};

// Bennett's acceptance ratio (Bennett 1976; Shirts et al., PRL 91, 140601 (2003)) from the
// forward works and the reverse works (whose average is -Delta F plus their dissipation).
BennettEstimate bennett(const Eigen::VectorXd& forward_work, const Eigen::VectorXd& reverse_work);

}  // namespace kelvin::runtime
