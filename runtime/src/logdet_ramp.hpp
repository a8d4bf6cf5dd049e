// The log-determinant's coupling ramp and its trajectories (logdet.hpp): the ramp in code space
// from the start matrix A_0 to the programmed A, and one trajectory through it on the board
// with the work it picks up at each switch.
//
// Thread contract: a Ramp is immutable after construction; run_trajectory() uses the job's
// board exclusively while it runs.
#pragma once

#include <cstdint>
#include <vector>

#include <fmt/format.h>
#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "board_job.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/driver/code_scale.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/logdet.hpp"

namespace kelvin::runtime::detail {

using driver::SymmetricCodes;

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
        throw common::Error(
            common::ErrorKind::kNotSupported,
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

// Everything one trajectory needs besides the ramp.
struct TrajectoryPlan {
  std::uint32_t n = 0;
  std::uint64_t equilibration = 0;  // sample periods
  std::uint64_t relaxation = 0;     // sample periods per step
  std::uint32_t max_decimation = 1;
  double diffusion = 0.0;
  driver::CodeScale coupling;
};

// Reads during which a cell hit the ADC rails, and switches made.
struct TrajectoryCounters {
  std::uint64_t clipped_reads = 0;
  std::uint64_t switches = 0;
};

// One trajectory: equilibrate under the ramp's first matrix in this direction, then switch
// through the others, adding the work at the state read before each switch. Returns the work
// in units of D.
double run_trajectory(BoardJob& job, const Ramp& ramp, int steps, bool reverse,
                      const TrajectoryPlan& plan, TrajectoryCounters& counters);

}  // namespace kelvin::runtime::detail
