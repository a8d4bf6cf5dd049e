#include "kelvin/runtime/pbit/parallel_tempering.hpp"

#include <cmath>
#include <cstdint>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/calibration/calibration_file.hpp"
#include "tempering_job.hpp"

namespace kelvin::runtime {
namespace {

using common::Error;
using common::ErrorKind;

constexpr std::uint32_t kMaxSweepsPerExchange = std::uint32_t{1} << 20;
constexpr std::uint64_t kMaxSweepBudget = std::uint64_t{1} << 40;
constexpr std::uint64_t kMaxBurnIn = std::uint64_t{1} << 32;  // one board run's limit

std::uint64_t fingerprint(const driver::LatticeProgram& p) {
  detail::Fingerprint f;
  f.add(p.weights.size()).add(p.biases.size());
  for (const std::int8_t w : p.weights)
    f.add(w);
  for (const std::int8_t b : p.biases)
    f.add(b);
  return f.value();
}

std::uint64_t fingerprint(const IsingModel& m) {
  detail::Fingerprint f;
  f.add(m.nodes).add(m.edges.size()).add(m.bias.size());
  for (const auto& [i, j, w] : m.edges)
    f.add(i).add(j).add(w);
  for (const int b : m.bias)
    f.add(b);
  return f.value();
}

// A program the caller gives: written to the board as it is, no calibration.
TemperingResult run_program(Collective& group, driver::PbitBoard& board,
                            const driver::LatticeProgram& program,
                            const ParallelTemperingOptions& options, bool tempering) {
  return detail::run_tempering_job(group, board, options, tempering, fingerprint(program), [&] {
    detail::TemperingProgram p;
    p.board = program;
    p.energy = program;
    return p;
  });
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

TemperingResult run_parallel_tempering(Collective& group, driver::PbitBoard& board,
                                       const driver::LatticeProgram& program,
                                       const ParallelTemperingOptions& options) {
  return run_program(group, board, program, options, true);
}

TemperingResult run_parallel_tempering(Collective& group, driver::PbitBoard& board,
                                       const IsingModel& model,
                                       const ParallelTemperingOptions& options) {
  // Each rank maps the model on its own board and corrects with that board's calibration; the
  // energies are the model's own on every rank.
  return detail::run_tempering_job(group, board, options, true, fingerprint(model), [&] {
    const calibration::AppliedCalibration applied =
        calibration::resolve_calibration(options.calibration, board.description());
    detail::TemperingProgram p;
    p.energy = map_to_lattice(model, board.pbit());
    p.board = p.energy;
    applied.correct_pbit_biases(p.board, board.pbit());
    p.calibration = applied.id();
    p.calibration_file = applied.file.string();
    return p;
  });
}

TemperingResult run_parallel_tempering(driver::PbitBoard& board,
                                       const driver::LatticeProgram& program,
                                       const ParallelTemperingOptions& options) {
  LocalCollective one;
  return run_parallel_tempering(one, board, program, options);
}

TemperingResult run_parallel_tempering(driver::PbitBoard& board, const IsingModel& model,
                                       const ParallelTemperingOptions& options) {
  LocalCollective one;
  return run_parallel_tempering(one, board, model, options);
}

TemperingResult run_plain_gibbs(driver::PbitBoard& board, const driver::LatticeProgram& program,
                                const ParallelTemperingOptions& options) {
  LocalCollective one;
  return run_program(one, board, program, options, false);
}

}  // namespace kelvin::runtime
