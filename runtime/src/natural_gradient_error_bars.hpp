// The natural gradient's time and error-bar bookkeeping (natural_gradient.hpp explains the
// quantities): the analog time in whole sample periods (refusing a nonzero time that rounds to
// none, choosing it from transient_tolerance), the Student-t factor of the standard error, and
// the transient bound with its warning.
//
// Thread contract: pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "kelvin/runtime/natural_gradient.hpp"

namespace kelvin::runtime::detail {

// The longest analog time (and upload delay) an estimate runs, in device microseconds.
inline constexpr double kMaxAnalogTimeUs = 65536.0;

// q with P(|T| <= q) = level for T Student-t with dof >= 1 degrees of freedom (0 < level < 1).
double student_t_two_sided_quantile(double level, int dof);

// Whole sample periods in `us` microseconds of device time (nearest). Throws
// common::Error(kInvalidArgument) naming `name`, the sample period and the smallest nonzero time
// when a nonzero `us` rounds to no period at all.
std::uint32_t whole_periods(double us, double period_us, std::string_view name);

struct AnalogTime {
  std::uint32_t periods = 0;
  std::vector<std::string> warnings;  // time run far from the time given; tolerance not reached
};

// The analog time of one estimate: from options.transient_tolerance when set (the shortest whole
// number of periods with exp(-device_lambda_min t) <= it, capped at kMaxAnalogTimeUs), else
// options.time_us rounded to whole periods (warning when that is more than 1% off).
AnalogTime choose_analog_time(const NaturalGradientOptions& options, double device_lambda_min,
                              double period_us);

// "name run X us differs from the Y us given by Z% (...)" when |run - given| > 1% of given.
std::vector<std::string> rounding_warning(std::string_view name, double given_us, double run_us,
                                          double period_us);

// Fills degrees_of_freedom, t95 and transient_bound of `summary` (remaining_transient,
// lambda_min, coupling_scale and time_us already set) and adds the transient warning when the
// bound exceeds a component's standard error. scale: S (ones without Jacobi); start_norm: the
// largest ||y0|| over the repeats; rhs_norm: ||S g||; both in the board's coordinates, user units.
void assess_error_bars(NaturalGradientSummary& summary, const Eigen::VectorXd& standard_error,
                       const Eigen::VectorXd& scale, double start_norm, double rhs_norm);

}  // namespace kelvin::runtime::detail
