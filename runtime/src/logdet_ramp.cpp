#include "logdet_ramp.hpp"

#include <algorithm>

namespace kelvin::runtime::detail {
namespace {

using driver::SymmetricCodes;

// Advances the board by `periods` sample periods and returns the state at the end, in volts.
// One decimated output sample per run (the last ADC sample of the block) reads the state with
// one round trip; without decimation, one run covers all but the last period, a second reads.
std::vector<double> advance(BoardJob& job, std::uint64_t periods, const TrajectoryPlan& plan,
                            TrajectoryCounters& counters) {
  driver::RunRequest request;
  request.samples = 1;
  driver::RunResult last;
  if (plan.max_decimation > 1) {
    for (std::uint64_t left = periods; left > 0;) {
      request.decimation =
          static_cast<std::uint32_t>(std::min<std::uint64_t>(left, plan.max_decimation));
      last = job.run(request);
      left -= request.decimation;
    }
  } else {
    if (periods > 1) {
      driver::RunRequest bulk;
      bulk.samples = periods - 1;
      job.run(bulk);
    }
    last = job.run(request);
  }
  if (last.clipped_samples > 0)
    ++counters.clipped_reads;
  std::vector<double> x(plan.n);
  for (std::uint32_t i = 0; i < plan.n; ++i)
    x[i] = job.volts(i, static_cast<double>(last.sums[i]));
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

}  // namespace

double run_trajectory(BoardJob& job, const Ramp& ramp, int steps, bool reverse,
                      const TrajectoryPlan& plan, TrajectoryCounters& counters) {
  const auto index = [&](int k) { return reverse ? steps - k : k; };
  SymmetricCodes previous = ramp.at(index(0));
  job.board().program_couplings(previous, job.deadline());
  std::vector<double> x = advance(job, plan.equilibration, plan, counters);
  double work = 0.0;
  for (int k = 1; k <= steps; ++k) {
    SymmetricCodes next = ramp.at(index(k));
    work += switch_work(previous, next, x, plan);
    ++counters.switches;
    if (k < steps) {  // the last switch needs no relaxation after it: its work is counted
      job.board().program_couplings(next, job.deadline());
      x = advance(job, plan.relaxation, plan, counters);
    }
    previous = std::move(next);
  }
  return work;
}

}  // namespace kelvin::runtime::detail
