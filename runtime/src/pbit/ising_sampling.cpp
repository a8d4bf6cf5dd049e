#include "kelvin/runtime/pbit/ising_sampling.hpp"

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "option_checks.hpp"
#include "pbit_job.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

void IsingSamplingOptions::validate() const {
  const detail::OptionChecks check("IsingSamplingOptions");
  check.in_range("sweeps", sweeps, std::uint64_t{1}, std::uint64_t{1} << 32);
  check.in_range("burn_in_sweeps", burn_in_sweeps, std::uint64_t{0}, std::uint64_t{1} << 32);
  check.in_range("chains", chains, 1u, 100000u);
  check.at_least("beta", beta, 0.0);
  for (const double b : beta_schedule)
    check.at_least("beta_schedule entry", b, 0.0);
  check.timeout(timeout);
}

IsingSamplingResult sample_ising(driver::PbitBoard& board, const IsingModel& model,
                                 const IsingSamplingOptions& options) {
  options.validate();
  const detail::PbitJob job(board, options.timeout);
  const driver::LatticeProgram program = map_to_lattice(model, board.pbit());
  std::vector<std::uint32_t> schedule;
  if (options.beta_schedule.empty()) {
    schedule.push_back(board.beta_code(options.beta));
  } else {
    if (options.beta_schedule.size() > board.pbit().max_schedule_length) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("a beta schedule of {} sweeps; the board holds at most {}",
                              options.beta_schedule.size(), board.pbit().max_schedule_length));
    }
    for (const double b : options.beta_schedule)
      schedule.push_back(board.beta_code(b));
  }
  const auto realized = [&board](std::uint32_t code) {
    return board.pbit().beta.to_physical(std::int64_t{code});
  };

  driver::SamplingRequest request;
  request.sweeps = options.sweeps;
  request.chains = options.chains;
  request.burn_in_sweeps = options.burn_in_sweeps;
  request.sample_every = 1;
  if (options.samples > 0) {
    const std::uint64_t every =
        std::max<std::uint64_t>(1, options.sweeps * options.chains / options.samples);
    request.sample_every =
        static_cast<std::uint32_t>(std::min<std::uint64_t>({every, options.sweeps, UINT32_MAX}));
  }
  request.accumulate_moments = true;
  request.reset_state = true;

  board.program_lattice(program, job.deadline());
  board.set_clamps({}, job.deadline());
  board.set_beta_schedule(schedule, job.deadline());
  const driver::SamplingResult run = board.sample(request, job.deadline());

  IsingSamplingResult out;
  for (std::uint32_t i = 0; i < model.nodes; ++i)
    out.mean.push_back(run.mean(i));
  for (const auto& [i, j, w] : model.edges)
    out.edge_correlations.emplace_back(i, j,
                                       run.edge_correlation(*board.lattice().edge_index(i, j)));

  IsingSamplingSummary& s = out.summary;
  s.nodes = model.nodes;
  s.sweeps = request.sweeps;
  s.burn_in_sweeps = request.burn_in_sweeps;
  s.chains = request.chains;
  s.sample_every = request.sample_every;
  s.beta_code = schedule.back();  // the beta that holds
  s.beta = realized(s.beta_code);
  s.schedule_length = schedule.size();
  s.schedule_first_beta = realized(schedule.front());
  s.samples = run.sample_count;
  const std::uint64_t nodes = board.pbit().nodes();
  job.finish(s, request.burn_in_sweeps + request.sweeps,
             nodes * request.chains * (request.burn_in_sweeps + request.sweeps),
             board.pbit().edge_count + nodes + schedule.size(),  // weights, biases, beta codes
             run.sample_count * nodes, 0.0);
  common::logger("kelvin.runtime")->info("sample: {}", s.brief_report());
  return out;
}

ReportFields IsingSamplingSummary::fields() const {
  return with_job_fields({
      field("nodes", "model nodes", nodes),
      field("sweeps", "sweeps per chain", sweeps, "", "after the burn-in"),
      field("burn_in", "burn-in sweeps", burn_in_sweeps),
      field("chains", "chains", chains),
      field("sample_every", "sampled every", sample_every, "sweeps"),
      field("beta", "beta (realized)", beta, "", "the one that holds"),
      field("beta_code", "beta code", beta_code),
      field("schedule_length", "beta schedule length", schedule_length, "sweeps",
            "1: one beta throughout"),
      field("schedule_first_beta", "first beta of the schedule", schedule_first_beta),
      field("samples", "samples", samples, "", "over all chains"),
  });
}

std::string IsingSamplingSummary::brief_report() const {
  const std::string beta_text = schedule_length == 1
                                    ? fmt::format("beta {:g}", beta)
                                    : fmt::format("a {}-entry beta schedule from {:g} to {:g}",
                                                  schedule_length, schedule_first_beta, beta);
  return fmt::format("{} samples ({} chain{} x {} sweeps, every {}; burn-in {}) at {} on {}",
                     samples, chains, chains == 1 ? "" : "s", sweeps, sample_every, burn_in_sweeps,
                     beta_text, serial) +
         warnings_suffix();
}

std::string IsingSamplingSummary::full_report() const {
  return render_report("Sampling summary", fields());
}

}  // namespace kelvin::runtime
