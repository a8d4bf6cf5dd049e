// kelvin-mpi temper [--uri TEMPLATE | --uris A,B,...] [--spin-glass M] [--model-seed S]
//                   [--beta-min B] [--beta-max B] [--replicas R] [--betas b0,b1,...]
//                   [--sweeps N] [--burn-in N] [--exchange-every N] [--swap-seed S]
//                   [--target-energy E] [--timeout-s S] [--json]
//
// Parallel tempering with its replicas spread over the ranks' p-bit boards
// (runtime/pbit/parallel_tempering.hpp, the distributed overload): R replicas on the geometric
// ladder BMIN..BMAX (or the explicit --betas), dealt to the ranks in contiguous ranges, exchanging
// every N sweeps through MPI. The model is a +-J spin glass on every edge of the boards' lattice
// (|J| uniform in 1..M, signs and sizes from std::mt19937 seeded with S, no biases), built by
// every rank from its own board's lattice: boards of different lattices are refused as different
// models. Rank 0 prints the ladder with its swap acceptance and the summary (--json: the
// summary's fields, "scale_out" included, and "best_state").
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/pbit/parallel_tempering.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/kelvin_mpi/mpi_commands.hpp"

namespace kelvin::tools::kelvin_mpi {

namespace {

struct TemperOptions {
  RankOptions ranks;
  cli::CommonOptions common;
  int magnitude = 3;
  std::uint32_t model_seed = 1;
  double beta_min = 0.1;
  double beta_max = 2.0;
  int replicas = 8;
  std::vector<double> betas;
  std::uint64_t sweeps = 1000;
  std::uint64_t burn_in = 0;
  std::uint32_t exchange_every = 10;
  std::uint64_t swap_seed = 1;
  std::optional<std::int64_t> target_energy;
};

// The +-J spin glass of --spin-glass M --model-seed S on every edge of `lattice`.
runtime::IsingModel spin_glass(const firmware_protocol::PbitLattice& lattice, int magnitude,
                               std::uint32_t seed) {
  std::mt19937 gen(seed);
  runtime::IsingModel m;
  m.nodes = lattice.nodes();
  for (const auto& edge : lattice.edges()) {
    const auto size = static_cast<int>(gen() % static_cast<std::uint32_t>(magnitude)) + 1;
    m.edges.emplace_back(edge.first, edge.second, (gen() >> 31) != 0 ? size : -size);
  }
  return m;
}

// The job's options; a refusal is a usage error (every rank parsed the same line).
runtime::ParallelTemperingOptions job_options(const TemperOptions& o) {
  runtime::ParallelTemperingOptions pt;
  try {
    pt.betas =
        o.betas.empty() ? runtime::geometric_ladder(o.beta_min, o.beta_max, o.replicas) : o.betas;
    pt.sweeps_per_exchange = o.exchange_every;
    pt.burn_in_sweeps = o.burn_in;
    pt.max_sweeps = o.burn_in + o.sweeps;
    pt.swap_seed = o.swap_seed;
    pt.target_energy = o.target_energy;
    pt.timeout = o.common.timeout();
    pt.validate();
  } catch (const std::exception& e) {
    throw cli::UsageError(fmt::format("{} (see 'kelvin-mpi temper --help')", e.what()));
  }
  return pt;
}

std::string run(const TemperOptions& o, runtime::Collective& group) {
  const runtime::ParallelTemperingOptions pt = job_options(o);
  const common::Deadline deadline = common::Deadline::after(pt.timeout);
  const std::string uri = rank_uri(o.ranks, group);
  std::unique_ptr<driver::PbitBoard> board;
  group.checked("open the board", deadline, [&] {
    board = std::make_unique<driver::PbitBoard>(driver::backends::open(uri));
    group.set_label(board_label(uri, board->description().serial));
  });
  const runtime::IsingModel model = spin_glass(board->lattice(), o.magnitude, o.model_seed);
  const runtime::TemperingResult result = runtime::run_parallel_tempering(group, *board, model, pt);
  const runtime::TemperingSummary& s = result.summary;
  if (o.common.json) {
    cli::Json json = cli::summary_json(s);
    json["best_state"] = result.best_state;
    return cli::write_json(json);
  }
  std::string out = s.ladder_table();
  out += fmt::format("swaps across ranks: {} of {} proposed accepted\n",
                     s.cross_rank_swaps_accepted, s.cross_rank_swaps_proposed);
  out += fmt::format("{}\n{}\n", s.brief_report(), s.scale_out.brief());
  return out;
}

}  // namespace

Command add_temper_command(CLI::App& app) {
  auto o = std::make_shared<TemperOptions>();
  CLI::App* command = app.add_subcommand(
      "temper", "Parallel tempering with the replicas spread over the ranks' p-bit boards");
  add_rank_options(*command, o->ranks, "sim:pbit?rows=8&cols=8&degree=8&seed={rank}");
  command
      ->add_option("--spin-glass", o->magnitude,
                   "The model: a +-J spin glass on every lattice edge, |J| uniform in 1..M")
      ->capture_default_str()
      ->check(CLI::Range(1, 127));
  command->add_option("--model-seed", o->model_seed, "Seed of the spin glass's couplings")
      ->capture_default_str();
  auto* bmin = command->add_option("--beta-min", o->beta_min, "Hottest beta of the ladder")
                   ->capture_default_str();
  auto* bmax = command->add_option("--beta-max", o->beta_max, "Target (coldest) beta")
                   ->capture_default_str();
  auto* replicas =
      command
          ->add_option("--replicas", o->replicas,
                       "Replicas on a geometric ladder from --beta-min to --beta-max, dealt to the "
                       "ranks in contiguous ranges")
          ->capture_default_str()
          ->check(CLI::Range(2, 4096));
  command
      ->add_option("--betas", o->betas, "The ladder itself, ascending (instead of the geometric)")
      ->delimiter(',')
      ->excludes(bmin)
      ->excludes(bmax)
      ->excludes(replicas);
  command->add_option("--sweeps", o->sweeps, "Sweeps per chain after burn-in")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32));
  command->add_option("--burn-in", o->burn_in, "Sweeps before the first exchange")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 32));
  command->add_option("--exchange-every", o->exchange_every, "Sweeps between exchange attempts")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 20));
  command->add_option("--swap-seed", o->swap_seed, "Seed of the swap decisions (every rank's)")
      ->capture_default_str();
  command->add_option("--target-energy", o->target_energy,
                      "Stop once a replica has E = -sum J s s <= E");
  cli::add_json_flag(*command, o->common,
                     "the summary's fields (\"scale_out\" included) and \"best_state\"");
  cli::add_timeout_option(*command, o->common, runtime::ParallelTemperingOptions{}.timeout,
                          "the whole job, board work and collectives");
  return {command, [o](runtime::Collective& group) { return run(*o, group); }};
}

}  // namespace kelvin::tools::kelvin_mpi
