#include "kelvin/runtime/pbit/parallel_tempering.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/calibration/calibration_file.hpp"
#include "kelvin/runtime/pbit/ising_energy.hpp"
#include "pbit_job.hpp"

namespace kelvin::runtime {
namespace {

using common::Deadline;
using common::Error;
using common::ErrorKind;

constexpr std::uint32_t kMaxSweepsPerExchange = std::uint32_t{1} << 20;
constexpr std::uint64_t kMaxSweepBudget = std::uint64_t{1} << 40;
constexpr std::uint64_t kMaxBurnIn = std::uint64_t{1} << 32;  // one board run's limit

// A uniform double in [0, 1) from the top 53 bits of one draw: the engine's output sequence is
// fixed by the standard, a distribution object's algorithm is not, so the swaps repeat on any
// library.
double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// The codes and realized betas of the replicas; refuses betas the board cannot tell apart.
void realize_betas(const driver::PbitBoard& board, const std::vector<double>& betas,
                   TemperingSummary& s) {
  for (std::size_t k = 0; k < betas.size(); ++k) {
    s.beta_codes.push_back(board.beta_code(betas[k]));
    s.betas.push_back(board.pbit().beta.to_physical(std::int64_t{s.beta_codes.back()}));
    if (betas[k] > 0.0 && s.betas.back() <= 0.0) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("ParallelTemperingOptions: betas[{}] = {:g} rounds to beta code {}, "
                              "the uniform law (the board's step, and smallest positive beta, is "
                              "{:g})",
                              k, betas[k], s.beta_codes.back(), board.pbit().beta.lsb));
    }
    if (k > 0 && s.beta_codes[k] == s.beta_codes[k - 1]) {
      throw Error(
          ErrorKind::kInvalidArgument,
          fmt::format("ParallelTemperingOptions: betas[{}] = {:g} and betas[{}] = {:g} "
                      "round to the same beta code {} (the board's step is {:g})",
                      k - 1, betas[k - 1], k, betas[k], s.beta_codes[k], board.pbit().beta.lsb));
    }
  }
}

TemperingResult run_job(driver::PbitBoard& board, const driver::LatticeProgram& program,
                        const ParallelTemperingOptions& options, bool tempering) {
  options.validate();
  const detail::PbitJob job(board, options.timeout);
  const Deadline deadline = job.deadline();
  const auto& info = board.pbit();
  const auto& desc = board.description();
  const auto replicas = static_cast<std::uint32_t>(options.betas.size());
  if (replicas > info.max_chains) {
    throw Error(ErrorKind::kOutOfRange,
                fmt::format("ParallelTemperingOptions: {} replicas, but the board runs at most {} "
                            "chains",
                            replicas, info.max_chains));
  }
  if (!desc.has_capability(driver::capability::kSampleRecord))
    throw Error(ErrorKind::kNotSupported, "this board cannot record samples (sample_record)");
  if (tempering && !desc.has_capability(driver::capability::kPerChainBeta)) {
    throw Error(ErrorKind::kNotSupported,
                "parallel tempering needs a board that gives each chain its own beta "
                "(per_chain_beta, added in protocol version 4)");
  }
  const IsingEnergy energy_of(board.lattice(), program);

  TemperingResult result;
  TemperingSummary& s = result.summary;
  s.tempering = tempering;
  s.nodes = board.nodes();
  s.chains = replicas;
  s.sweeps_per_exchange = options.sweeps_per_exchange;
  s.burn_in_sweeps = options.burn_in_sweeps;
  s.target_energy = options.target_energy;
  s.target_in_coldest_only = tempering && options.target_in_coldest_only;
  if (tempering) {
    realize_betas(board, options.betas, s);
    s.swaps_proposed.assign(replicas - 1, 0);
    s.swaps_accepted.assign(replicas - 1, 0);
  } else {
    realize_betas(board, {options.betas.back()}, s);
    s.beta_codes.assign(replicas, s.beta_codes.front());
    s.betas.assign(replicas, s.betas.front());
  }
  s.coldest_spin_sums.assign(s.nodes, 0);

  board.program_lattice(program, deadline);
  board.set_clamps({}, deadline);
  std::uint64_t codes_written = program.weights.size() + program.biases.size();
  if (!tempering) {
    const std::uint32_t schedule[] = {s.beta_codes.front()};
    board.set_beta_schedule(schedule, deadline);
    codes_written += 1;
  }

  // chain_of[k]: the chain that holds temperature k in the next run.
  std::vector<std::uint32_t> chain_of(replicas);
  std::iota(chain_of.begin(), chain_of.end(), 0u);
  std::mt19937_64 rng(options.swap_seed);
  std::vector<std::int64_t> energies(replicas);
  std::vector<std::vector<std::int8_t>> states(replicas);
  double host_flops = 0.0;
  const double flops_per_energy = 2.0 * static_cast<double>(energy_of.coupled_edges()) + s.nodes;
  s.best_energy = std::numeric_limits<std::int64_t>::max();

  while (s.sweeps < options.max_sweeps) {
    const bool first = s.runs == 0;
    const std::uint64_t burn_in = first ? options.burn_in_sweeps : 0;
    const std::uint64_t sweeps = std::min<std::uint64_t>(options.sweeps_per_exchange,
                                                         options.max_sweeps - s.sweeps - burn_in);
    driver::SamplingRequest request;
    request.sweeps = sweeps;
    request.chains = replicas;
    request.burn_in_sweeps = burn_in;
    request.sample_every = static_cast<std::uint32_t>(sweeps);
    request.record_samples = true;
    request.reset_state = first;
    if (tempering) {
      request.chain_beta_codes.resize(replicas);
      for (std::uint32_t k = 0; k < replicas; ++k)
        request.chain_beta_codes[chain_of[k]] = s.beta_codes[k];
      codes_written += replicas;
    }
    const driver::SamplingResult run = board.sample(request, deadline);
    if (run.recorded_samples() != replicas) {
      throw Error(ErrorKind::kProtocol,
                  fmt::format("a run of {} chains returned {} recorded samples", replicas,
                              run.recorded_samples()));
    }
    s.sweeps += burn_in + sweeps;
    ++s.runs;

    // One recorded sample per chain (chain-major): each chain's state after the run.
    for (std::uint32_t c = 0; c < replicas; ++c) {
      energies[c] = energy_of.of_sample(run, c, states[c]);
      if (energies[c] < s.best_energy) {
        s.best_energy = energies[c];
        result.best_state = states[c];
      }
    }
    host_flops += flops_per_energy * replicas;
    const std::uint32_t cold = tempering ? chain_of[replicas - 1] : 0;
    s.coldest_energy_trace.push_back(energies[cold]);
    for (std::uint32_t c = 0; c < replicas; ++c) {
      if (!tempering || c == cold) {
        for (std::uint32_t i = 0; i < s.nodes; ++i)
          s.coldest_spin_sums[i] += states[c][i];
        ++s.coldest_samples;
      }
    }
    const std::int64_t judged =
        tempering && options.target_in_coldest_only ? energies[cold] : s.best_energy;
    if (options.target_energy && judged <= *options.target_energy) {
      s.sweeps_to_target = s.sweeps;
      break;
    }
    if (!tempering)
      continue;
    // Deterministic even/odd alternation of the proposed pairs.
    for (std::uint32_t k = (s.runs - 1) % 2; k + 1 < replicas; k += 2) {
      const std::uint32_t a = chain_of[k];
      const std::uint32_t b = chain_of[k + 1];
      const double log_ratio =
          (s.betas[k] - s.betas[k + 1]) * static_cast<double>(energies[a] - energies[b]);
      ++s.swaps_proposed[k];
      host_flops += 4.0;
      if (log_ratio >= 0.0 || uniform01(rng) < std::exp(log_ratio)) {
        std::swap(chain_of[k], chain_of[k + 1]);
        ++s.swaps_accepted[k];
      }
    }
  }

  for (std::size_t k = 0; k < s.swaps_proposed.size(); ++k) {
    s.acceptance.push_back(s.swaps_proposed[k] ? static_cast<double>(s.swaps_accepted[k]) /
                                                     static_cast<double>(s.swaps_proposed[k])
                                               : 0.0);
  }
  job.finish(s, s.sweeps, std::uint64_t{s.nodes} * replicas * s.sweeps, codes_written,
             std::uint64_t{s.nodes} * replicas * s.runs, host_flops);
  common::logger("kelvin.runtime")->info("{}", s.brief_report());
  return result;
}

}  // namespace

std::vector<double> geometric_ladder(double beta_min, double beta_max, int replicas) {
  if (!(beta_min > 0.0) || !std::isfinite(beta_min) || !(beta_max > beta_min) ||
      !std::isfinite(beta_max)) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("geometric_ladder: needs 0 < beta_min < beta_max, got beta_min = {} "
                            "and beta_max = {}",
                            beta_min, beta_max));
  }
  if (replicas < 2) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("geometric_ladder: replicas = {} (at least 2)", replicas));
  }
  std::vector<double> betas(static_cast<std::size_t>(replicas));
  const double ratio = beta_max / beta_min;
  for (int k = 0; k < replicas; ++k)
    betas[static_cast<std::size_t>(k)] = beta_min * std::pow(ratio, double(k) / (replicas - 1));
  betas.back() = beta_max;  // exactly, not up to pow's rounding
  return betas;
}

void ParallelTemperingOptions::validate() const {
  const auto fail = [](const std::string& what) {
    throw Error(ErrorKind::kInvalidArgument, "ParallelTemperingOptions: " + what);
  };
  if (betas.size() < 2)
    fail(fmt::format("betas holds {} values (at least 2 replicas)", betas.size()));
  for (std::size_t k = 0; k < betas.size(); ++k) {
    if (!(betas[k] >= 0.0) || !std::isfinite(betas[k]))
      fail(fmt::format("betas[{}] = {} (finite, >= 0)", k, betas[k]));
    if (k > 0 && !(betas[k] > betas[k - 1])) {
      fail(fmt::format("betas[{}] = {} is not above betas[{}] = {} (strictly ascending)", k,
                       betas[k], k - 1, betas[k - 1]));
    }
  }
  if (sweeps_per_exchange < 1 || sweeps_per_exchange > kMaxSweepsPerExchange) {
    fail(fmt::format("sweeps_per_exchange = {} (allowed 1..{})", sweeps_per_exchange,
                     kMaxSweepsPerExchange));
  }
  if (max_sweeps < 1 || max_sweeps > kMaxSweepBudget)
    fail(fmt::format("max_sweeps = {} (allowed 1..{})", max_sweeps, kMaxSweepBudget));
  if (burn_in_sweeps > kMaxBurnIn)
    fail(fmt::format("burn_in_sweeps = {} (allowed 0..{})", burn_in_sweeps, kMaxBurnIn));
  if (burn_in_sweeps >= max_sweeps) {
    fail(fmt::format("burn_in_sweeps = {} leaves no sweep of max_sweeps = {}", burn_in_sweeps,
                     max_sweeps));
  }
  if (timeout.count() <= 0)
    fail(fmt::format("timeout = {} ms (> 0)", timeout.count()));
  calibration.validate();
}

TemperingResult run_parallel_tempering(driver::PbitBoard& board,
                                       const driver::LatticeProgram& program,
                                       const ParallelTemperingOptions& options) {
  return run_job(board, program, options, true);
}

TemperingResult run_parallel_tempering(driver::PbitBoard& board, const IsingModel& model,
                                       const ParallelTemperingOptions& options) {
  options.validate();
  const calibration::AppliedCalibration applied =
      calibration::resolve_calibration(options.calibration, board.description());
  driver::LatticeProgram program = map_to_lattice(model, board.pbit());
  applied.correct_pbit_biases(program, board.pbit());
  TemperingResult out = run_job(board, program, options, true);
  out.summary.calibration = applied.id();
  out.summary.calibration_file = applied.file.string();
  return out;
}

TemperingResult run_plain_gibbs(driver::PbitBoard& board, const driver::LatticeProgram& program,
                                const ParallelTemperingOptions& options) {
  return run_job(board, program, options, false);
}

}  // namespace kelvin::runtime
