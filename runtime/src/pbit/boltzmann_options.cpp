// BoltzmannOptions::validate(), the enums' names and BoltzmannStepSummary's report.
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "../option_checks.hpp"
#include "beta_codes.hpp"
#include "kelvin/runtime/pbit/boltzmann_learning.hpp"

namespace kelvin::runtime {

namespace {
constexpr std::uint32_t kMaxCopies = 4096;
constexpr std::uint64_t kMaxSweeps = std::numeric_limits<std::uint32_t>::max();
}  // namespace

const char* to_string(Rounding rounding) noexcept {
  return rounding == Rounding::kStochastic ? "stochastic" : "nearest";
}

const char* to_string(LearningRateSchedule schedule) noexcept {
  switch (schedule) {
    case LearningRateSchedule::kConstant:
      return "constant";
    case LearningRateSchedule::kInverseTime:
      return "inverse-time";
    case LearningRateSchedule::kCosine:
      return "cosine";
  }
  return "?";
}

void BoltzmannOptions::validate() const {
  const detail::OptionChecks check("BoltzmannOptions");
  check.at_least("beta", beta, 0.0);
  for (std::size_t k = 0; k < beta_schedule.size(); ++k)
    check.at_least(fmt::format("beta_schedule[{}]", k), beta_schedule[k], 0.0);
  check.in_range("batch", batch, 1u, kMaxCopies);
  check.in_range("free_copies", free_copies, 2u, kMaxCopies);
  check.in_range("chains", chains, 1u, kMaxCopies);
  check.in_range("burn_in_sweeps", burn_in_sweeps, std::uint64_t{0}, kMaxSweeps);
  check.in_range("sweeps", sweeps, std::uint64_t{1}, kMaxSweeps);
  check.in_range("sample_every", std::uint64_t{sample_every}, std::uint64_t{1}, sweeps);
  check.positive("learning_rate", learning_rate);
  if (static_cast<int>(schedule) < 0 || static_cast<int>(schedule) > 2)
    check.fail(fmt::format("schedule = {} (constant, inverse-time or cosine)",
                           static_cast<int>(schedule)));
  check.in_range("decay_steps", decay_steps, std::uint64_t{1},
                 std::numeric_limits<std::uint64_t>::max());
  check.in_interval("momentum", momentum, 0.0, 1.0, false);
  if (momentum >= 1.0)
    check.fail(fmt::format("momentum = {} (allowed [0, 1))", momentum));
  check.at_least("weight_decay", weight_decay, 0.0);
  if (static_cast<int>(rounding) < 0 || static_cast<int>(rounding) > 1)
    check.fail(fmt::format("rounding = {} (nearest or stochastic)", static_cast<int>(rounding)));
  check.timeout(timeout);
}

void BoltzmannOptions::validate(const driver::PbitDescription& board) const {
  validate();
  const detail::OptionChecks check("BoltzmannOptions");
  check.in_range("chains", chains, 1u, board.max_chains);
  if (beta_schedule.size() > board.max_schedule_length) {
    check.fail(fmt::format("beta_schedule has {} entries (the board holds at most {})",
                           beta_schedule.size(), board.max_schedule_length));
  }
  const auto betas = detail::realize_betas(board.beta, beta, beta_schedule, check);
  if (betas.codes.back() == 0)
    check.fail("the sampled law's beta is 0 (a uniform law has no gradient)");
}

ReportFields BoltzmannStepSummary::fields() const {
  return with_job_fields({
      field("step", "step", step, "", "steps done after this call"),
      field("updated", "updated", updated, "", "false: moments only (estimate)"),
      field("learning_rate", "learning rate", learning_rate, "", "after the schedule"),
      field("gradient_norm", "gradient norm", gradient_norm, "",
            "||beta (clamped - free) - decay||, trainable parameters"),
      field("beta", "beta", beta, "", "realized, of the sampled law"),
      field("weights_clipped", "weights clipped", weights_clipped, "", "to the board's |J| cap"),
      field("biases_clipped", "biases clipped", biases_clipped, "", "to the bias range"),
      field("codes_changed", "codes changed", codes_changed, "", "one copy's, since last written"),
      field("clamped_copies", "clamped copies", clamped_copies),
      field("free_copies", "free copies", free_copies),
      field("chains", "chains", chains),
      field("sweeps", "sweeps per run", sweeps, "", "burn-in included"),
      field("samples_per_copy", "samples per copy", samples_per_copy, "", "over chains"),
      field("runs", "runs", runs),
      field("rounding", "rounding", rounding),
      field("placement", "placement", placement, "", "given or embedded"),
  });
}

std::string BoltzmannStepSummary::brief_report() const {
  return fmt::format(
             "Boltzmann step {}{} on {}: lr {:.3g}, |g| {:.3g}, {} codes changed, {} "
             "clipped, {}+{} copies x {} chains x {} sweeps; energy {}",
             step, updated ? "" : " (estimate)", serial, learning_rate, gradient_norm,
             codes_changed, weights_clipped + biases_clipped, clamped_copies, free_copies, chains,
             sweeps, energy.brief()) +
         warnings_suffix();
}

std::string BoltzmannStepSummary::full_report() const {
  return render_report("Boltzmann learning step", fields());
}

}  // namespace kelvin::runtime
