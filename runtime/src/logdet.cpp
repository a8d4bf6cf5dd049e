#include "kelvin/runtime/logdet.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include <fmt/format.h>
#include <Eigen/Cholesky>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/problem_scaling.hpp"
#include "kelvin/runtime/system_checks.hpp"

namespace kelvin::runtime {

using common::Deadline;
using common::Error;
using common::ErrorKind;
using driver::SymmetricCodes;

const char* to_string(RampStart start) noexcept {
  return start == RampStart::kDiagonal ? "diagonal" : "scaled-identity";
}

const char* to_string(LogdetEstimator estimator) noexcept {
  return estimator == LogdetEstimator::kJarzynskiForward ? "jarzynski-forward" : "bennett";
}

void LogdetOptions::validate() const {
  const auto fail = [](const std::string& what) {
    throw Error(ErrorKind::kInvalidArgument, "LogdetOptions: " + what);
  };
  if (steps < 1 || steps > 100000)
    fail(fmt::format("steps = {} (allowed 1..100000)", steps));
  if (!(step_relaxation_times > 0.0 && step_relaxation_times <= 10000.0))
    fail(fmt::format("step_relaxation_times = {} (allowed (0, 10000])", step_relaxation_times));
  if (trajectories < 8 || trajectories > 1000000)
    fail(fmt::format("trajectories = {} (allowed 8..1000000)", trajectories));
  if (!(equilibration_relaxation_times >= 1.0 && equilibration_relaxation_times <= 100000.0)) {
    fail(fmt::format("equilibration_relaxation_times = {} (allowed [1, 100000])",
                     equilibration_relaxation_times));
  }
  if (!(noise_sigmas > 0.0 && noise_sigmas <= 1000.0))
    fail(fmt::format("noise_sigmas = {} (allowed (0, 1000])", noise_sigmas));
  if (estimator == LogdetEstimator::kBennett && randomized_rounding) {
    fail(
        "randomized_rounding = true with estimator = bennett (the forward and reverse ramps "
        "must share their end points; use nearest rounding)");
  }
  if (timeout.count() <= 0)
    fail(fmt::format("timeout = {} ms (> 0)", timeout.count()));
}

namespace {

// Positive off-diagonals cannot be realized by coupling capacitors. solve() sign-doubles such a
// matrix, but that changes the determinant: the doubled matrix [[D+M, -P], [-P, D+M]] has
// det(A) det(A') with A' = D + M - P (A with its positive off-diagonals negated), so its
// log-determinant is not the one asked for.
void check_capacitive_logdet(const Eigen::MatrixXd& A) {
  Eigen::Index wi = -1, wj = -1;
  double worst = 0.0;
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    for (Eigen::Index j = i + 1; j < A.cols(); ++j) {
      if (A(i, j) > worst) {
        worst = A(i, j);
        wi = i;
        wj = j;
      }
    }
  }
  if (wi >= 0) {
    throw Error(ErrorKind::kNotSupported,
                fmt::format("the board's couplings are capacitive (off-diagonal entries <= 0 "
                            "only), but A({}, {}) = {:g} is positive; sign doubling does not help "
                            "a log-determinant (the doubled matrix has det(A) det(A'), A' being A "
                            "with its positive off-diagonals negated), so use a board with signed "
                            "couplings",
                            wi, wj, worst));
  }
}

// The ramp in code space: C_k = C_0 + round(k/K (C_K - C_0)) entry by entry, so C_K is exactly
// the programmed end point and entries equal at both ends (the diagonal, for a diagonal start;
// spare cells always) never change. Both directions index the same sequence, so the reverse
// ramp is the exact time reversal of the forward one.
class Ramp {
 public:
  Ramp(const SymmetricCodes& end, Eigen::Index n, RampStart start, int steps)
      : start_(end), end_(end), n_(static_cast<std::uint32_t>(n)), steps_(steps) {
    for (std::uint32_t i = 0; i < n_; ++i)
      for (std::uint32_t j = i + 1; j < n_; ++j)
        start_.set(i, j, 0);
    if (start == RampStart::kScaledIdentity) {
      double mean = 0.0;
      for (std::uint32_t i = 0; i < n_; ++i)
        mean += end.get(i, i);
      const auto c = static_cast<std::int16_t>(std::llround(mean / n_));
      for (std::uint32_t i = 0; i < n_; ++i)
        start_.set(i, i, c);
    }
  }

  SymmetricCodes at(int k) const {
    SymmetricCodes c = start_;
    const double t = static_cast<double>(k) / steps_;
    for (std::uint32_t i = 0; i < n_; ++i) {
      for (std::uint32_t j = i; j < n_; ++j) {
        const int delta = end_.get(i, j) - start_.get(i, j);
        if (delta != 0)
          c.set(i, j, static_cast<std::int16_t>(start_.get(i, j) + std::llround(t * delta)));
      }
    }
    return c;
  }

  // log det of the start matrix (diagonal on the used cells) in device units.
  double start_logdet(const driver::CodeScale& scale) const {
    double s = 0.0;
    for (std::uint32_t i = 0; i < n_; ++i)
      s += std::log(scale.to_physical(std::int64_t{start_.get(i, i)}));
    return s;
  }

  // Every step must be positive definite or the board runs away. Rounding each entry of a
  // convex combination of two definite matrices moves its eigenvalues by at most n/2 codes, so
  // the check is needed only when an end point's smallest eigenvalue is within a few n codes.
  void check_definite(const driver::CodeScale& scale) const {
    for (int k = 0; k <= steps_; ++k) {
      if (Eigen::LLT<Eigen::MatrixXd>(device(at(k), scale)).info() != Eigen::Success) {
        throw Error(ErrorKind::kNotSupported,
                    fmt::format("step {} of {} of the coupling ramp is not positive definite "
                                "after rounding to codes: the matrix is too ill-conditioned for "
                                "this board",
                                k, steps_));
      }
    }
  }

  Eigen::MatrixXd device(const SymmetricCodes& c, const driver::CodeScale& scale) const {
    Eigen::MatrixXd m(n_, n_);
    for (std::uint32_t i = 0; i < n_; ++i)
      for (std::uint32_t j = i; j < n_; ++j)
        m(i, j) = m(j, i) = scale.to_physical(std::int64_t{c.get(i, j)});
    return m;
  }

  const SymmetricCodes& start() const noexcept { return start_; }
  const SymmetricCodes& end() const noexcept { return end_; }

 private:
  SymmetricCodes start_;
  SymmetricCodes end_;
  std::uint32_t n_;
  int steps_;
};

struct Counters {
  std::uint64_t samples = 0;
  std::uint64_t clipped_reads = 0;
  std::uint64_t switches = 0;
};

// Everything one trajectory needs besides the ramp.
struct TrajectoryPlan {
  std::uint32_t n = 0;
  std::uint64_t equilibration = 0;  // sample periods
  std::uint64_t relaxation = 0;     // sample periods per step
  std::uint32_t max_decimation = 1;
  double diffusion = 0.0;
  driver::CodeScale coupling;
  Deadline deadline = Deadline::never();
};

// Advances the board by `periods` sample periods and returns the state at the end, in volts.
// One decimated output sample per run (the last ADC sample of the block) reads the state with
// one round trip; without decimation, one run covers all but the last period, a second reads.
std::vector<double> advance(driver::ResonatorBoard& board, std::uint64_t periods,
                            const TrajectoryPlan& plan, Counters& counters) {
  driver::RunRequest request;
  request.samples = 1;
  driver::RunResult last;
  if (plan.max_decimation > 1) {
    for (std::uint64_t left = periods; left > 0;) {
      request.decimation =
          static_cast<std::uint32_t>(std::min<std::uint64_t>(left, plan.max_decimation));
      last = board.run(request, plan.deadline);
      left -= request.decimation;
    }
  } else {
    if (periods > 1) {
      driver::RunRequest bulk;
      bulk.samples = periods - 1;
      board.run(bulk, plan.deadline);
    }
    last = board.run(request, plan.deadline);
  }
  counters.samples += periods;
  if (last.clipped_samples > 0)
    ++counters.clipped_reads;
  std::vector<double> x(plan.n);
  for (std::uint32_t i = 0; i < plan.n; ++i)
    x[i] = last.adc.to_physical(last.sums[i]);
  return x;
}

// x^T (A(to) - A(from)) x / (2 D) over the used cells, from the codes.
double switch_work(const SymmetricCodes& from, const SymmetricCodes& to,
                   const std::vector<double>& x, const TrajectoryPlan& plan) {
  double w = 0.0;
  for (std::uint32_t i = 0; i < plan.n; ++i) {
    for (std::uint32_t j = i; j < plan.n; ++j) {
      const std::int16_t a = from.get(i, j);
      const std::int16_t b = to.get(i, j);
      if (a == b)
        continue;  // exactly no work: a diagonal A ramped from diag(A) gives W == 0
      const double d =
          plan.coupling.to_physical(std::int64_t{b}) - plan.coupling.to_physical(std::int64_t{a});
      w += (i == j ? 1.0 : 2.0) * d * x[i] * x[j];
    }
  }
  return w / (2.0 * plan.diffusion);
}

// One trajectory: equilibrate under the ramp's first matrix in this direction, then switch
// through the others, adding the work at the state read before each switch. The last switch
// needs no relaxation after it: its work is already counted.
double run_trajectory(driver::ResonatorBoard& board, const Ramp& ramp, int steps, bool reverse,
                      const TrajectoryPlan& plan, Counters& counters) {
  const auto index = [&](int k) { return reverse ? steps - k : k; };
  SymmetricCodes previous = ramp.at(index(0));
  board.program_couplings(previous, plan.deadline);
  std::vector<double> x = advance(board, plan.equilibration, plan, counters);
  double work = 0.0;
  for (int k = 1; k <= steps; ++k) {
    SymmetricCodes next = ramp.at(index(k));
    work += switch_work(previous, next, x, plan);
    ++counters.switches;
    if (k < steps) {
      board.program_couplings(next, plan.deadline);
      x = advance(board, plan.relaxation, plan, counters);
    }
    previous = std::move(next);
  }
  return work;
}

struct JarzynskiEstimate {
  double logdet_dev = 0.0;  // log det A_K in device units
  double stderr_ = 0.0;
  double bias = 0.0;
  double effective = 0.0;
};

// shifted_work_m = W_m + log det(A_0,m) / 2, so that <exp(-shifted)> = det(A_K)^-1/2.
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

}  // namespace

LogdetResult logdet(driver::ResonatorBoard& board, const Eigen::MatrixXd& A,
                    const LogdetOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  const BoardSnapshot energy_start = BoardSnapshot::of(board);
  options.validate();
  const Eigen::Index n = A.rows();
  const Eigen::VectorXd zero = Eigen::VectorXd::Zero(n);
  check_symmetric_system(A, zero, 1e-10);
  check_positive_definite(A);
  const auto& desc = board.description();
  if (desc.resonator && desc.resonator->coupling_kind == driver::CouplingKind::kCapacitive)
    check_capacitive_logdet(A);
  const Deadline deadline = Deadline::after(options.timeout);

  // b = 0: no mean to make room for (mean_fraction is only required to be positive), so the
  // noise gets the whole ADC half-range.
  const CompiledSystem sys = compile_system(A, zero, desc, {1e-6, options.noise_sigmas});
  board.program_biases(sys.nearest.bias_codes, deadline);
  board.set_noise(sys.noise_code, deadline);
  if (desc.has_capability(driver::capability::kQuartic)) {
    // The board keeps J4 from earlier jobs; the Gaussian law needs linear cells.
    board.set_quartic(std::vector<std::uint16_t>(desc.cells, 0), deadline);
  }

  const double period_us = desc.sample_period_s() * 1e6;
  const double relaxation_us = 1.0 / sys.device_lambda_min;  // slowest along the whole ramp
  const auto periods = [&](double relaxation_times) {
    return static_cast<std::uint64_t>(
        std::max(1.0, std::ceil(relaxation_times * relaxation_us / period_us)));
  };
  TrajectoryPlan plan;
  plan.n = static_cast<std::uint32_t>(n);
  plan.equilibration = periods(options.equilibration_relaxation_times);
  plan.relaxation = periods(options.step_relaxation_times);
  plan.max_decimation = desc.has_capability(driver::capability::kDecimation) && desc.resonator
                            ? desc.resonator->max_decimation
                            : 1;
  plan.diffusion = sys.diffusion;
  plan.coupling = desc.coupling;
  plan.deadline = deadline;

  const auto lsb = desc.coupling.lsb;
  const bool near_floor = sys.device_lambda_min < 4.0 * static_cast<double>(n) * lsb;
  const Ramp nearest_ramp(sys.nearest.couplings, n, options.start, options.steps);
  if (near_floor)
    nearest_ramp.check_definite(desc.coupling);

  const int m = options.trajectories;
  Counters counters;
  Eigen::VectorXd forward(m);
  Eigen::VectorXd shifted(m);
  double start_logdet_sum = 0.0;
  std::uint64_t rng = options.rounding_seed;
  const auto check_deadline = [&](int done, const char* direction) {
    if (deadline.expired()) {
      throw Error(ErrorKind::kTimeout,
                  fmt::format("logdet: the deadline ({} ms) passed after {} of {} {} trajectories",
                              options.timeout.count(), done, m, direction));
    }
  };
  for (int t = 0; t < m; ++t) {
    check_deadline(t, "forward");
    double start_logdet = 0.0;
    if (options.randomized_rounding) {
      const Ramp ramp(round_randomly(sys, n, desc, rng).couplings, n, options.start, options.steps);
      if (near_floor)
        ramp.check_definite(desc.coupling);
      forward(t) = run_trajectory(board, ramp, options.steps, false, plan, counters);
      start_logdet = ramp.start_logdet(desc.coupling);
    } else {
      forward(t) = run_trajectory(board, nearest_ramp, options.steps, false, plan, counters);
      start_logdet = nearest_ramp.start_logdet(desc.coupling);
    }
    shifted(t) = forward(t) + 0.5 * start_logdet;
    start_logdet_sum += start_logdet;
  }
  const double start_logdet_dev = start_logdet_sum / m;
  const double to_user = static_cast<double>(n) * std::log(sys.coupling_scale);

  LogdetResult out;
  out.quantized_matrix = sys.nearest.matrix;
  out.forward_work = forward;
  LogdetSummary& s = out.summary;
  const JarzynskiEstimate j = jarzynski(shifted);
  s.jarzynski_logdet = j.logdet_dev - to_user;
  s.jarzynski_stderr = j.stderr_;
  s.bias_estimate = j.bias;
  s.effective_trajectories = j.effective;
  s.mean_work = forward.mean();
  s.work_stddev = std::sqrt((forward.array() - s.mean_work).square().sum() / (m - 1.0));
  const double delta_f = 0.5 * (j.logdet_dev - start_logdet_dev);
  s.dissipated_work = s.mean_work - delta_f;
  out.logdet = s.jarzynski_logdet;
  out.standard_error = s.jarzynski_stderr;

  if (options.estimator == LogdetEstimator::kBennett) {
    Eigen::VectorXd reverse(m);
    for (int t = 0; t < m; ++t) {
      check_deadline(t, "reverse");
      reverse(t) = run_trajectory(board, nearest_ramp, options.steps, true, plan, counters);
    }
    const auto [df, df_stderr] = bennett(forward, reverse);
    s.has_reverse = true;
    s.bennett_logdet = start_logdet_dev + 2.0 * df - to_user;
    s.bennett_stderr = 2.0 * df_stderr;
    s.reverse_dissipated_work = reverse.mean() + df;
    out.reverse_work = std::move(reverse);
    out.logdet = s.bennett_logdet;
    out.standard_error = s.bennett_stderr;
  }

  s.serial = desc.serial;
  s.unknowns = static_cast<std::size_t>(n);
  s.estimator = to_string(options.estimator);
  s.start = to_string(options.start);
  s.coupling_scale = sys.coupling_scale;
  s.diffusion = sys.diffusion;
  s.noise_code = sys.noise_code;
  s.lambda_min = sys.device_lambda_min / sys.coupling_scale;
  s.lambda_max = sys.device_lambda_max / sys.coupling_scale;
  s.matrix_quantization_error = sys.matrix_quantization_error;
  s.randomized_rounding = options.randomized_rounding;
  s.start_logdet = start_logdet_dev - to_user;
  s.steps = options.steps;
  s.step_samples = plan.relaxation;
  s.equilibration_samples = plan.equilibration;
  s.trajectories = m;
  s.samples = counters.samples;
  s.device_time_s = static_cast<double>(counters.samples) * desc.sample_period_s();
  s.clipped_reads = counters.clipped_reads;
  s.wall_time_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  {
    const double nd = static_cast<double>(n);
    // Host: the quadratic form per switch (~n^2 multiply-adds) and, per ramp, its start
    // determinant; GPU: one Cholesky, n^3 / 3.
    const double per_ramp = options.randomized_rounding ? static_cast<double>(m) : 1.0;
    s.energy = ledger_since(board, energy_start,
                            2.0 * nd * nd * static_cast<double>(counters.switches) +
                                per_ramp * nd * nd * (options.steps + 1.0),
                            nd * nd * nd / 3.0);
  }

  const auto log = common::logger("kelvin.runtime");
  if (s.dissipated_work > 1.0) {
    s.warning = fmt::format(
        "the ramp dissipates {:.3g} kT on average (> 1): the Jarzynski estimate is likely biased "
        "high (the rare low-work trajectories that dominate exp(-W) are undersampled) and its "
        "error bar too small; use more steps (now {}) or longer relaxation per step",
        s.dissipated_work, options.steps);
  }
  if (s.clipped_reads > 0) {
    if (!s.warning.empty())
      s.warning += "; ";
    s.warning += fmt::format(
        "{} state reads clipped at the ADC rails, which biases the work; raise noise_sigmas",
        s.clipped_reads);
  }
  if (!s.warning.empty())
    log->warn("logdet: {}", s.warning);
  log->info("logdet: {}", s.brief_report());
  return out;
}

}  // namespace kelvin::runtime
