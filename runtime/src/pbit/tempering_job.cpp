#include "tempering_job.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <span>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/pbit/ising_energy.hpp"
#include "kelvin/runtime/scale_out.hpp"
#include "pbit_job.hpp"

namespace kelvin::runtime::detail {
namespace {

using common::Deadline;
using common::Error;
using common::ErrorKind;

// The ranks must agree even on refusing a timeout that is itself invalid (<= 0): they do it
// under this one.
constexpr std::chrono::milliseconds kRefusalTimeout{10000};

// A uniform double in [0, 1) from the top 53 bits of one draw: the engine's output sequence is
// fixed by the standard, a distribution object's algorithm is not, so the swaps repeat on any
// library (and every rank draws the same numbers).
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

// What every rank must have alike: the caller's model or program and every option that steers
// the job (the timeout and the calibration selection may differ).
std::uint64_t job_fingerprint(const ParallelTemperingOptions& o, bool tempering,
                              std::uint64_t input) {
  Fingerprint f;
  f.add(input).add(tempering).add(o.betas.size());
  for (const double beta : o.betas)
    f.add(beta);
  f.add(o.sweeps_per_exchange).add(o.max_sweeps).add(o.target_energy.has_value());
  f.add(o.target_energy.value_or(0)).add(o.target_in_coldest_only).add(o.swap_seed);
  f.add(o.burn_in_sweeps);
  return f.value();
}

// Refuses, on every rank alike, a rank whose inputs differ from rank 0's.
void check_same_inputs(Collective& group, std::uint64_t fingerprint, Deadline deadline,
                       const std::string& method) {
  const auto all = group.gather_all(std::span<const std::uint64_t>(&fingerprint, 1), deadline,
                                    method + ": inputs");
  for (std::size_t r = 1; r < all.size(); ++r) {
    if (all[r] != all[0]) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("{}: rank {} of {} was given another model, program or options than "
                              "rank 0 (every rank must pass the same)",
                              method, r, group.size()));
    }
  }
}

// Refuses, on every rank alike, a board whose lattice size or beta codes differ from rank 0's:
// the swap rule needs every chain at a temperature to sample the same law.
void check_same_boards(Collective& group, const TemperingSummary& s, Deadline deadline,
                       const std::string& method) {
  std::vector<double> mine = {static_cast<double>(s.nodes)};
  mine.insert(mine.end(), s.beta_codes.begin(), s.beta_codes.end());
  mine.insert(mine.end(), s.betas.begin(), s.betas.end());
  const auto all =
      group.gather_all(std::span<const double>(mine), deadline, method + ": boards' beta codes");
  const std::size_t n = mine.size();
  const std::size_t codes = s.beta_codes.size();
  const auto codes_of = [&](std::size_t r) {
    return std::vector<double>(all.begin() + static_cast<std::ptrdiff_t>(r * n + 1),
                               all.begin() + static_cast<std::ptrdiff_t>(r * n + 1 + codes));
  };
  std::vector<std::size_t> label_sizes;
  const auto labels =
      group.gather_all(std::span<const char>(group.label().data(), group.label().size()), deadline,
                       method + ": board labels", &label_sizes);
  std::vector<std::size_t> label_at = {0};
  for (const std::size_t size : label_sizes)
    label_at.push_back(label_at.back() + size);
  for (std::size_t r = 1; r * n < all.size(); ++r) {
    if (std::equal(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n),
                   all.begin() + static_cast<std::ptrdiff_t>(r * n)))
      continue;
    const std::string what =
        all[r * n] != all[0]
            ? fmt::format("has {} p-bits, rank 0's {}", all[r * n], all[0])
            : fmt::format("realizes the ladder as beta codes [{}], rank 0's as [{}]",
                          fmt::join(codes_of(r), ", "), fmt::join(codes_of(0), ", "));
    const std::string label(labels.begin() + static_cast<std::ptrdiff_t>(label_at[r]),
                            labels.begin() + static_cast<std::ptrdiff_t>(label_at[r + 1]));
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("{}: rank {} of {}{}: its board {}: every rank's board must run the "
                    "same temperatures on the same number of p-bits",
                    method, r, group.size(), label.empty() ? "" : " (" + label + ")", what));
  }
}

}  // namespace

std::uint32_t ReplicaSplit::first(int rank) const {
  const auto r = static_cast<std::uint32_t>(rank);
  const auto p = static_cast<std::uint32_t>(ranks_);
  return r * (replicas_ / p) + std::min(r, replicas_ % p);
}

std::uint32_t ReplicaSplit::count(int rank) const {
  const auto p = static_cast<std::uint32_t>(ranks_);
  return replicas_ / p + (static_cast<std::uint32_t>(rank) < replicas_ % p ? 1u : 0u);
}

int ReplicaSplit::owner(std::uint32_t chain) const {
  int r = 0;
  while (r + 1 < ranks_ && first(r + 1) <= chain)
    ++r;
  return r;
}

TemperingResult run_tempering_job(Collective& group, driver::PbitBoard& board,
                                  const ParallelTemperingOptions& options, bool tempering,
                                  std::uint64_t input_fingerprint,
                                  const std::function<TemperingProgram()>& make_program) {
  const std::string method = tempering ? "parallel tempering" : "plain Gibbs";
  const auto step = [&](const char* what) { return method + ": " + what; };
  if (group.label().empty())
    group.set_label(fmt::format("board {}", board.description().serial));
  const detail::PbitJob job(board, options.timeout.count() > 0 ? options.timeout : kRefusalTimeout);
  const Deadline deadline = job.deadline();
  group.checked(step("options"), deadline, [&] { options.validate(); });
  check_same_inputs(group, job_fingerprint(options, tempering, input_fingerprint), deadline,
                    method);
  const auto replicas = static_cast<std::uint32_t>(options.betas.size());
  if (static_cast<std::uint32_t>(group.size()) > replicas) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{}: {} ranks for {} replicas (at most one rank per replica)", method,
                            group.size(), replicas));
  }
  const ReplicaSplit split(replicas, group.size());
  const int rank = group.rank();
  const std::uint32_t first = split.first(rank);
  const std::uint32_t local = split.count(rank);

  TemperingResult result;
  TemperingSummary& s = result.summary;
  s.tempering = tempering;
  s.nodes = board.nodes();
  s.chains = replicas;
  s.first_chain = first;
  s.local_chains = local;
  s.sweeps_per_exchange = options.sweeps_per_exchange;
  s.burn_in_sweeps = options.burn_in_sweeps;
  s.target_energy = options.target_energy;
  s.target_in_coldest_only = tempering && options.target_in_coldest_only;

  std::optional<IsingEnergy> energy_of;
  TemperingProgram program;
  group.checked(step("check the board"), deadline, [&] {
    const auto& info = board.pbit();
    const auto& desc = board.description();
    if (local > info.max_chains) {
      throw Error(ErrorKind::kOutOfRange,
                  group.size() == 1
                      ? fmt::format("ParallelTemperingOptions: {} replicas, but the board runs at "
                                    "most {} chains",
                                    replicas, info.max_chains)
                      : fmt::format("ParallelTemperingOptions: {} of the {} replicas on this "
                                    "rank, but its board runs at most {} chains",
                                    local, replicas, info.max_chains));
    }
    if (!desc.has_capability(driver::capability::kSampleRecord))
      throw Error(ErrorKind::kNotSupported, "this board cannot record samples (sample_record)");
    if (tempering && !desc.has_capability(driver::capability::kPerChainBeta)) {
      throw Error(ErrorKind::kNotSupported,
                  "parallel tempering needs a board that gives each chain its own beta "
                  "(per_chain_beta, added in protocol version 4)");
    }
    program = make_program();
    energy_of.emplace(board.lattice(), program.energy);
    if (tempering) {
      realize_betas(board, options.betas, s);
    } else {
      realize_betas(board, {options.betas.back()}, s);
      s.beta_codes.assign(replicas, s.beta_codes.front());
      s.betas.assign(replicas, s.betas.front());
    }
  });
  check_same_boards(group, s, deadline, method);
  s.calibration = program.calibration;
  s.calibration_file = program.calibration_file;
  if (tempering) {
    s.swaps_proposed.assign(replicas - 1, 0);
    s.swaps_accepted.assign(replicas - 1, 0);
  }
  s.coldest_spin_sums.assign(s.nodes, 0);

  std::uint64_t codes_written = program.board.weights.size() + program.board.biases.size();
  group.checked(step("program the board"), deadline, [&] {
    board.program_lattice(program.board, deadline);
    board.set_clamps({}, deadline);
    if (!tempering) {
      const std::uint32_t schedule[] = {s.beta_codes.front()};
      board.set_beta_schedule(schedule, deadline);
    }
  });
  codes_written += tempering ? 0 : 1;

  // chain_of[k]: the (global) chain that holds temperature k in the next run.
  std::vector<std::uint32_t> chain_of(replicas);
  std::iota(chain_of.begin(), chain_of.end(), 0u);
  std::mt19937_64 rng(options.swap_seed);
  std::vector<std::int64_t> local_energies(local);
  std::vector<std::vector<std::int8_t>> states(local);
  std::uint32_t best_chain = 0;
  double host_flops = 0.0;
  const double flops_per_energy = 2.0 * static_cast<double>(energy_of->coupled_edges()) + s.nodes;
  s.best_energy = std::numeric_limits<std::int64_t>::max();
  const std::string run_step = step("run");
  const std::string energies_step = step("energies");

  while (s.sweeps < options.max_sweeps) {
    const bool first_run = s.runs == 0;
    const std::uint64_t burn_in = first_run ? options.burn_in_sweeps : 0;
    const std::uint64_t sweeps = std::min<std::uint64_t>(options.sweeps_per_exchange,
                                                         options.max_sweeps - s.sweeps - burn_in);
    driver::SamplingRequest request;
    request.sweeps = sweeps;
    request.chains = local;
    request.burn_in_sweeps = burn_in;
    request.sample_every = static_cast<std::uint32_t>(sweeps);
    request.record_samples = true;
    request.reset_state = first_run;
    if (tempering) {
      request.chain_beta_codes.resize(local);
      for (std::uint32_t k = 0; k < replicas; ++k) {
        if (split.owner(chain_of[k]) == rank)
          request.chain_beta_codes[chain_of[k] - first] = s.beta_codes[k];
      }
      codes_written += local;
    }
    group.checked(run_step, deadline, [&] {
      const driver::SamplingResult run = board.sample(request, deadline);
      if (run.recorded_samples() != local) {
        throw Error(ErrorKind::kProtocol,
                    fmt::format("a run of {} chains returned {} recorded samples", local,
                                run.recorded_samples()));
      }
      // One recorded sample per chain (chain-major): each chain's state after the run.
      for (std::uint32_t c = 0; c < local; ++c)
        local_energies[c] = energy_of->of_sample(run, c, states[c]);
    });
    host_flops += flops_per_energy * local;
    // Every chain's energy on every rank, in global chain order: the decisions below are the
    // same everywhere.
    const std::vector<std::int64_t> energies =
        group.gather_all(std::span<const std::int64_t>(local_energies), deadline, energies_step);
    s.sweeps += burn_in + sweeps;
    ++s.runs;

    for (std::uint32_t g = 0; g < replicas; ++g) {
      if (energies[g] < s.best_energy) {
        s.best_energy = energies[g];
        best_chain = g;
        if (split.owner(g) == rank)
          result.best_state = states[g - first];
      }
    }
    const std::uint32_t cold = tempering ? chain_of[replicas - 1] : 0;
    s.coldest_energy_trace.push_back(energies[cold]);
    for (std::uint32_t c = 0; c < local; ++c) {
      if (!tempering || c + first == cold) {
        for (std::uint32_t i = 0; i < s.nodes; ++i)
          s.coldest_spin_sums[i] += states[c][i];
      }
    }
    s.coldest_samples += tempering ? 1 : replicas;
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
      const bool across = split.owner(a) != split.owner(b);
      const double log_ratio =
          (s.betas[k] - s.betas[k + 1]) * static_cast<double>(energies[a] - energies[b]);
      ++s.swaps_proposed[k];
      s.cross_rank_swaps_proposed += across ? 1 : 0;
      host_flops += 4.0;
      if (log_ratio >= 0.0 || uniform01(rng) < std::exp(log_ratio)) {
        std::swap(chain_of[k], chain_of[k + 1]);
        ++s.swaps_accepted[k];
        s.cross_rank_swaps_accepted += across ? 1 : 0;
      }
    }
  }

  // The best state from the rank whose chain held it, and the target-beta spin sums of all.
  std::vector<std::uint8_t> best(result.best_state.size());
  std::memcpy(best.data(), result.best_state.data(), best.size());
  group.broadcast(best, split.owner(best_chain), deadline, step("best state"));
  result.best_state.resize(best.size());
  std::memcpy(result.best_state.data(), best.data(), best.size());
  group.sum(std::span<std::int64_t>(s.coldest_spin_sums), deadline, step("spin sums"));

  for (std::size_t k = 0; k < s.swaps_proposed.size(); ++k) {
    s.acceptance.push_back(s.swaps_proposed[k] ? static_cast<double>(s.swaps_accepted[k]) /
                                                     static_cast<double>(s.swaps_proposed[k])
                                               : 0.0);
  }
  job.finish(s, s.sweeps, std::uint64_t{s.nodes} * local * s.sweeps, codes_written,
             std::uint64_t{s.nodes} * local * s.runs, host_flops);
  s.scale_out = gather_scale_out(group, s, deadline);
  common::logger("kelvin.runtime")->info("{}", s.brief_report());
  return result;
}

}  // namespace kelvin::runtime::detail
