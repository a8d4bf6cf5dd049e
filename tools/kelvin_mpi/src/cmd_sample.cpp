// kelvin-mpi sample [--uri TEMPLATE | --uris A,B,...] [--grid ROWSxCOLS] [--coupling J]
//   [--bias B] [--model-seed S] [--schedule alternating|concurrent] [--exchange-interval N]
//   [--sweeps N] [--burn-in N] [--chains C] [--beta B] [--compare-exact] [--json]
//   [--timeout-s T]
//
// A generated grid model (runtime::grid_model) cut into strips of whole rows, one per rank
// (runtime::strip_owner), sampled by runtime::sample_partitioned with each rank's board holding
// its strip: what docs/scale-out.md measures the exchange interval and the scaling with. With
// --compare-exact (at most 24 nodes) the estimates are compared with the exact law: the largest
// |estimate - exact| / stderr (Student-t, chains - 1 dof for an unbiased sampler) and the RMS
// error, for the means and for the edge correlations.
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/pbit/exact_ising.hpp"
#include "kelvin/runtime/pbit/partitioned_sampling.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/kelvin_mpi/mpi_commands.hpp"

namespace kelvin::tools::kelvin_mpi {

namespace {

struct SampleOptions {
  RankOptions ranks;
  cli::CommonOptions common;
  std::string grid = "8x8";
  int coupling = 2;
  int bias = 1;
  std::uint64_t model_seed = 1;
  std::string schedule = "alternating";
  runtime::PartitionedSamplingOptions job;
  bool compare_exact = false;
};

// max |estimate - exact| / stderr and the RMS error of a list of estimates.
cli::Json comparison(const std::vector<double>& estimate, const std::vector<double>& se,
                     const std::vector<double>& exact) {
  double max_t = 0.0, squares = 0.0;
  for (std::size_t k = 0; k < estimate.size(); ++k) {
    const double error = estimate[k] - exact[k];
    max_t = std::max(max_t, std::abs(error) / se[k]);
    squares += error * error;
  }
  return {{"max_abs_error_over_stderr", max_t},
          {"rms_error", std::sqrt(squares / static_cast<double>(estimate.size()))}};
}

cli::Json exact_json(const runtime::IsingModel& model, double beta,
                     const runtime::PartitionedSamplingResult& r) {
  runtime::SparseIsingModel m;
  m.nodes = model.nodes;
  m.beta = beta;
  for (const auto& [i, j, w] : model.edges)
    m.edges.push_back({i, j, static_cast<double>(w)});
  m.bias.assign(model.bias.begin(), model.bias.end());
  const runtime::ExactIsingMoments exact = runtime::exact_ising(m);
  std::vector<double> correlation;
  for (const auto& [i, j, c] : r.edge_correlations)
    correlation.push_back(c);
  return {{"beta", beta},
          {"means", comparison(r.mean, r.mean_stderr, exact.mean)},
          {"correlations", comparison(correlation, r.edge_correlation_stderr, exact.correlation)}};
}

std::string run(SampleOptions& o, runtime::Collective& group) {
  std::uint32_t rows = 0, cols = 0;
  if (std::sscanf(o.grid.c_str(), "%ux%u", &rows, &cols) != 2 || rows == 0 || cols == 0)
    throw cli::UsageError(fmt::format("--grid {}: expected ROWSxCOLS, e.g. 8x8", o.grid));
  if (static_cast<std::uint32_t>(group.size()) > rows)
    throw cli::UsageError(
        fmt::format("--grid {}: {} ranks need at least {} rows (one strip of "
                    "whole rows each)",
                    o.grid, group.size(), group.size()));
  if (o.compare_exact && rows * cols > runtime::kMaxExactIsingNodes)
    throw cli::UsageError(fmt::format("--compare-exact: at most {} nodes (the grid has {})",
                                      runtime::kMaxExactIsingNodes, rows * cols));
  o.job.schedule = o.schedule == "concurrent" ? runtime::PartitionSchedule::kConcurrent
                                              : runtime::PartitionSchedule::kAlternating;
  o.job.timeout = o.common.timeout();
  try {
    o.job.validate();
  } catch (const common::Error& e) {
    throw cli::UsageError(fmt::format("{} (see 'kelvin-mpi sample --help')", e.what()));
  }
  const runtime::IsingModel model =
      runtime::grid_model(rows, cols, o.coupling, o.bias, o.model_seed);
  const std::vector<int> owner = runtime::strip_owner(rows, cols, group.size());
  const std::string uri = rank_uri(o.ranks, group);
  const common::Deadline deadline = common::Deadline::after(o.common.timeout());
  std::optional<driver::PbitBoard> board;
  group.checked("open the board", deadline, [&] {
    board.emplace(cli::open_pbit_board(uri));
    group.set_label(board_label(uri, board->description().serial));
  });
  const runtime::PartitionedSamplingResult r =
      runtime::sample_partitioned(group, *board, model, owner, o.job);
  if (o.common.json) {
    cli::Json correlation = cli::Json::array();
    for (const auto& [i, j, c] : r.edge_correlations)
      correlation.push_back({i, j, c});
    cli::Json out = {{"ranks", group.size()},
                     {"grid", o.grid},
                     {"mean", r.mean},
                     {"mean_stderr", r.mean_stderr},
                     {"edge_correlation", correlation},
                     {"edge_correlation_stderr", r.edge_correlation_stderr},
                     {"summary", cli::summary_json(r.summary)}};
    if (o.compare_exact)
      out["exact"] = exact_json(model, r.summary.beta_used, r);
    return cli::write_json(out);
  }
  std::string out = r.summary.brief_report() + "\n";
  if (o.compare_exact)
    out += exact_json(model, r.summary.beta_used, r).dump() + "\n";
  return out;
}

}  // namespace

Command add_sample_command(CLI::App& app) {
  auto o = std::make_shared<SampleOptions>();
  CLI::App* command = app.add_subcommand(
      "sample",
      "A grid Ising model cut into strips, one per rank's p-bit board, sampled with "
      "boundary exchange");
  add_rank_options(*command, o->ranks, "sim:pbit?rows=32&cols=8&degree=8&seed={rank}");
  command->add_option("--grid", o->grid, "The model: a ROWSxCOLS nearest-neighbour grid")
      ->capture_default_str();
  command->add_option("--coupling", o->coupling, "J uniform in +-{1..J} (board units)")
      ->capture_default_str()
      ->check(CLI::Range(1, 6));
  command->add_option("--bias", o->bias, "b uniform in [-B, B] (board units)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  command->add_option("--model-seed", o->model_seed, "Seed of the model's J and b")
      ->capture_default_str();
  command->add_option("--schedule", o->schedule, "alternating (exact) or concurrent")
      ->capture_default_str()
      ->check(CLI::IsMember({"alternating", "concurrent"}));
  command
      ->add_option("--exchange-interval", o->job.exchange_interval,
                   "Sweeps between boundary exchanges")
      ->capture_default_str();
  command->add_option("--sweeps", o->job.sweeps, "Sweeps per chain after the burn-in")
      ->capture_default_str();
  command->add_option("--burn-in", o->job.burn_in_sweeps, "Sweeps before sampling starts")
      ->capture_default_str();
  command->add_option("--chains", o->job.chains, "Chains (copies side by side on each lattice)")
      ->capture_default_str();
  command->add_option("--beta", o->job.beta, "Inverse temperature (board units)")
      ->capture_default_str();
  command->add_flag("--compare-exact", o->compare_exact,
                    "Compare with the exact law (at most 24 nodes)");
  cli::add_json_flag(*command, o->common, "estimates, summary (and the exact comparison)");
  cli::add_timeout_option(*command, o->common, std::chrono::seconds(60), "the whole run");
  return {command, [o](runtime::Collective& group) { return run(*o, group); }};
}

}  // namespace kelvin::tools::kelvin_mpi
