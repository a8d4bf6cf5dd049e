// Betas to the board's beta codes, refusing what the board would silently change: a beta outside
// the code range, and a positive beta that rounds to code 0 (the uniform law). The p-bit jobs'
// options validation uses it before any device work.
//
// Thread contract: pure functions, safe from any thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kelvin/driver/code_scale.hpp"
#include "option_checks.hpp"

namespace kelvin::runtime::detail {

// The realized code of one beta; check.fail() (common::Error(kInvalidArgument), prefixed with
// the options' name) for a beta outside the range or a positive one that rounds to 0, naming the
// step and the smallest positive beta.
inline std::uint32_t realize_beta(const driver::CodeScale& scale, double beta,
                                  const std::string& name, const OptionChecks& check) {
  if (!(beta >= scale.min_value() - scale.lsb / 2) ||
      !(beta <= scale.max_value() + scale.lsb / 2)) {
    check.fail(fmt::format("{} = {:g} is outside the board's beta range [{:g}, {:g}]", name, beta,
                           scale.min_value(), scale.max_value()));
  }
  const auto code = static_cast<std::uint32_t>(scale.to_code(beta));
  if (beta > 0.0 && scale.to_physical(std::int64_t{code}) <= 0.0) {
    check.fail(fmt::format(
        "{} = {:g} rounds to beta code {}, which samples the uniform law: the board's beta step "
        "is {:g} (1/{:g}), so the smallest positive beta is {:g} and any beta below {:g} rounds "
        "to 0 (ask for beta 0 to sample uniformly)",
        name, beta, code, scale.lsb, 1.0 / scale.lsb, scale.to_physical(std::int64_t{code + 1}),
        scale.to_physical(std::int64_t{code}) + scale.lsb / 2));
  }
  return code;
}

struct RealizedBetas {
  std::vector<std::uint32_t> codes;  // one per schedule entry (one without a schedule)
  std::vector<double> given;
  double worst_error = 0.0;  // largest |realized - given| / given
  std::size_t worst = 0;     // its entry
};

// `beta`, or every entry of `schedule` when it is not empty ("beta_schedule[k]" in messages).
inline RealizedBetas realize_betas(const driver::CodeScale& scale, double beta,
                                   const std::vector<double>& schedule, const OptionChecks& check) {
  RealizedBetas out;
  out.given = schedule.empty() ? std::vector<double>{beta} : schedule;
  for (std::size_t k = 0; k < out.given.size(); ++k) {
    const double b = out.given[k];
    const std::uint32_t code = realize_beta(
        scale, b, schedule.empty() ? std::string("beta") : fmt::format("beta_schedule[{}]", k),
        check);
    const double error = b > 0.0 ? std::abs(scale.to_physical(std::int64_t{code}) - b) / b : 0.0;
    if (error > out.worst_error) {
      out.worst_error = error;
      out.worst = k;
    }
    out.codes.push_back(code);
  }
  return out;
}

}  // namespace kelvin::runtime::detail
