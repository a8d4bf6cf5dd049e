#include "natural_gradient_error_bars.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <boost/math/distributions/students_t.hpp>

#include "kelvin/common/error.hpp"

namespace kelvin::runtime::detail {

using common::Error;
using common::ErrorKind;

double student_t_two_sided_quantile(double level, int dof) {
  const boost::math::students_t t(static_cast<double>(dof));
  return boost::math::quantile(boost::math::complement(t, 0.5 * (1.0 - level)));
}

std::uint32_t whole_periods(double us, double period_us, std::string_view name) {
  const auto periods = static_cast<std::uint32_t>(std::llround(us / period_us));
  if (us > 0.0 && periods == 0) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} = {:g} us rounds to 0 sample periods{}: the board runs analog "
                            "time in whole sample periods of {:g} us, so the smallest nonzero "
                            "time is {:g} us; pass 0 for none",
                            name, us,
                            name == "time_us" ? " (none would return the start, g, with a zero "
                                                "standard error)"
                                              : "",
                            period_us, 0.5 * period_us));
  }
  return periods;
}

std::vector<std::string> rounding_warning(std::string_view name, double given_us, double run_us,
                                          double period_us) {
  if (!(given_us > 0.0) || std::abs(run_us - given_us) <= 0.01 * given_us)
    return {};
  return {
      fmt::format("{} run {:g} us differs from the {:g} us given by {:+.0f}% (whole sample "
                  "periods of {:g} us)",
                  name, run_us, given_us, 100.0 * (run_us - given_us) / given_us, period_us)};
}

AnalogTime choose_analog_time(const NaturalGradientOptions& options, double device_lambda_min,
                              double period_us) {
  AnalogTime out;
  if (!options.transient_tolerance) {
    out.periods = whole_periods(options.time_us, period_us, "time_us");
    out.warnings =
        rounding_warning("analog time", options.time_us, out.periods * period_us, period_us);
    return out;
  }
  const double eps = *options.transient_tolerance;
  const double needed_us = std::log(1.0 / eps) / device_lambda_min;
  const double max_periods = std::floor(kMaxAnalogTimeUs / period_us);
  // The shortest whole number of periods at or above needed_us (the 1e-9 spares a period lost to
  // rounding in the division), at least one.
  const double periods = std::max(1.0, std::ceil(needed_us / period_us - 1e-9));
  if (periods > max_periods) {
    out.periods = static_cast<std::uint32_t>(max_periods);
    out.warnings.push_back(fmt::format(
        "transient_tolerance = {:g} needs t = {:.4g} us (ln(1/{:g}) / lambda_min,dev = {:.3g}/us), "
        "more than the longest analog time, {:g} us, which leaves exp(-lambda_min,dev t) = "
        "{:.2g}; more damping raises lambda_min",
        eps, needed_us, eps, device_lambda_min, kMaxAnalogTimeUs,
        std::exp(-device_lambda_min * max_periods * period_us)));
  } else {
    out.periods = static_cast<std::uint32_t>(periods);
  }
  return out;
}

void assess_error_bars(NaturalGradientSummary& summary, const Eigen::VectorXd& standard_error,
                       const Eigen::VectorXd& scale, double start_norm, double rhs_norm) {
  summary.degrees_of_freedom = summary.repeats - 1;
  summary.t95 = student_t_two_sided_quantile(0.95, summary.degrees_of_freedom);
  // transient_bound_i = S_i * r * start_to_target, with ||y0 - y*|| <= ||y0|| + ||S g|| /
  // lambda_min.
  const double start_to_target = start_norm + rhs_norm / summary.lambda_min;
  const double r = summary.remaining_transient;
  const Eigen::VectorXd bound = (r * start_to_target) * scale;
  summary.transient_bound = bound.size() > 0 ? bound.maxCoeff() : 0.0;
  Eigen::Index over = 0;
  // The transient_tolerance that would bring every bound below its standard error.
  double wanted = 1.0;
  for (Eigen::Index i = 0; i < bound.size(); ++i) {
    if (bound(i) > standard_error(i))
      ++over;
    wanted = std::min(wanted, standard_error(i) / (scale(i) * start_to_target));
  }
  if (over == 0)
    return;
  const double eps =
      wanted > 0.0 ? std::clamp(std::pow(10.0, std::floor(std::log10(wanted))), 1e-15, 0.1) : 1e-6;
  const double lambda_dev = summary.lambda_min * summary.coupling_scale;
  const double t_eps = std::log(1.0 / eps) / lambda_dev;
  summary.warnings.push_back(fmt::format(
      "the transient is a bias outside the standard error: exp(-lambda_min,dev t) = {:.2g} of the "
      "start is left at t = {:g} us, which can move the estimate up to {:.3g} from the natural "
      "gradient (transient_bound), more than the standard error in {} of {} components; the "
      "estimate is the TNGD interpolation between the start and the natural gradient at this t, "
      "not the natural gradient. For the natural gradient set transient_tolerance (kelvin natgrad "
      "--transient-tolerance EPS): {:g} runs about {:.3g} us{}",
      r, summary.time_us, summary.transient_bound, over, bound.size(), eps, t_eps,
      t_eps > kMaxAnalogTimeUs
          ? fmt::format(", more than the longest analog time ({:g} us), so also raise damping",
                        kMaxAnalogTimeUs)
          : std::string()));
}

}  // namespace kelvin::runtime::detail
