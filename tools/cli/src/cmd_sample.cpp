// kelvin sample --model FILE [--uri URI] [--sweeps N] [--samples M] [--burn-in N] [--chains C]
//               [--beta B | --beta-schedule SPEC] [--error-bars auto|chains|batches|none]
//               [--batches K] [--timeout-s S] [--json] [-o FILE.h5]
// kelvin sample --model FILE --tempering BMIN:BMAX:R [--exchange-every N] [--target-energy E]
//               [--uri URI] [--sweeps N] [--burn-in N] [--timeout-s S] [--json]
//
// Samples an Ising model on a p-bit board. The model file is JSON in the board's integer
// coupling units: {"nodes": n, "edges": [[i, j, J], ...], "bias": [b_0, ...]} ("bias" optional,
// default zeros); model node i is lattice node i (row-major). Every chain is sampled after
// every sample_every-th sweep, where sample_every = 1, or with --samples M,
// max(1, floor(sweeps * chains / M)) capped at sweeps, so about M samples are taken in total.
//
// Every mean and edge correlation comes with a standard error (runtime/pbit/ising_sampling.hpp):
// with 2 or more chains from the spread of the chain means (Student-t, chains - 1 dof), with one
// chain from --batches batch means (batches - 1 dof); "stderr_method" and "stderr_dof" say which.
// Split R-hat and the effective sample size (ESS) of every mean say whether the chains mixed;
// the summary warns (text and JSON "warnings") when R-hat > 1.01 or ESS < 100 per chain
// (Vehtari et al. 2021). --chains above the board's limit and a --beta that rounds to code 0 are
// usage errors, refused before any device work.
//
// --beta-schedule gives the beta of each sweep (burn-in included): a comma list "0.8,0.9,1.2"
// (sweep k uses entry min(k, size - 1), so the last one holds), or "FROM:TO:SWEEPS", a linear
// anneal whose sweep k < SWEEPS uses FROM + (TO - FROM) k / (SWEEPS - 1), then TO.
//
// --tempering BMIN:BMAX:R runs parallel tempering (runtime/pbit/parallel_tempering.hpp) with R
// replicas (= chains) on a geometric ladder from BMIN to BMAX, proposing exchanges every
// --exchange-every sweeps (default 10), for burn-in + sweeps sweeps per chain or until some
// replica reaches E <= --target-energy (E = -(sum J s_i s_j + sum b s_i), integer units). Its
// "mean" is that of the coldest replica (beta BMAX), one sample per exchange interval (no error
// bars); the JSON adds a "tempering" object (betas, acceptance, best_energy, sweeps_to_target,
// the coldest replica's energy trace in brief).
//
// -o FILE.h5 writes a run file (docs/run-files.md; the datasets in sample_run_file.hpp).
#include <cmath>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kelvin/runtime/pbit/ising_sampling.hpp"
#include "kelvin/runtime/pbit/parallel_tempering.hpp"
#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/cli/options.hpp"
#include "run_file_output.hpp"
#include "sample_model_file.hpp"
#include "sample_run_file.hpp"
#include "sample_specs.hpp"

namespace kelvin::tools::cli {
namespace {

struct SampleOptions {
  CommonOptions common;
  std::string model;
  std::uint64_t sweeps = 1000;
  std::uint64_t samples = 0;
  double beta = 1.0;
  std::string beta_schedule;
  std::uint64_t burn_in = 100;
  std::uint32_t chains = 1;
  std::string error_bars = "auto";
  std::uint32_t batches = 20;
  std::string tempering;
  std::uint32_t exchange_every = 10;
  std::optional<std::int64_t> target_energy;  // set from target_energy_value when given
  std::int64_t target_energy_value = 0;
  std::string output;
  runtime::calibration::CalibrationSelection calibration;
};

// What a run file of this command records about the run (run_file_output.hpp).
RunRecord sample_record(const SampleOptions& o, const driver::PbitBoard& board) {
  RunRecord record{"sample", o.common.uri, board.description()};
  record.settings = Json{{"model_file", o.model},
                         {"sweeps", o.sweeps},
                         {"samples", o.samples},
                         {"burn_in", o.burn_in},
                         {"chains", o.chains},
                         {"beta", o.beta},
                         {"beta_schedule", o.beta_schedule},
                         {"error_bars", o.error_bars},
                         {"batches", o.batches},
                         {"tempering", o.tempering},
                         {"exchange_every", o.exchange_every}};
  return record;
}

// A value that may be absent (NaN): JSON null.
Json number_or_null(double v) {
  return std::isfinite(v) ? Json(v) : Json(nullptr);
}

Json numbers_or_null(const std::vector<double>& values) {
  Json out = Json::array();
  for (const double v : values)
    out.push_back(number_or_null(v));
  return out;
}

// v with `digits` decimals, or "-" when absent.
std::string cell(double v, int digits) {
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : std::string("-");
}

std::string run_sampling(const SampleOptions& options, const runtime::IsingModel& model,
                         driver::PbitBoard& board) {
  runtime::IsingSamplingOptions sampling;
  sampling.sweeps = options.sweeps;
  sampling.samples = options.samples;
  sampling.burn_in_sweeps = options.burn_in;
  sampling.chains = options.chains;
  sampling.beta = options.beta;
  sampling.error_bars = parse_error_bars(options.error_bars);
  sampling.batches = options.batches;
  if (!options.beta_schedule.empty()) {
    sampling.beta_schedule =
        parse_beta_schedule(options.beta_schedule, board.pbit().max_schedule_length);
  }
  sampling.timeout = options.common.timeout();
  sampling.calibration = options.calibration;
  // What the board cannot run (more chains than it has, a beta that rounds to 0) is a usage
  // error, refused before any device work.
  try {
    sampling.validate(board.pbit());
  } catch (const std::exception& e) {
    throw UsageError(fmt::format("{} (see 'kelvin sample --help')", e.what()));
  }
  auto file = open_run_file_if(options.output, sample_record(options, board));
  const runtime::IsingSamplingResult result =
      recording_failure(file, [&] { return runtime::sample_ising(board, model, sampling); });
  const runtime::IsingSamplingSummary& s = result.summary;
  const std::string uri = board.device().address().to_string();

  {
    Json correlations = Json::array();
    for (const auto& [i, j, c] : result.edge_correlations)
      correlations.push_back(Json::array({i, j, c}));
    Json out{{"uri", uri},
             {"nodes", s.nodes},
             {"sweeps", s.sweeps},
             {"burn_in", s.burn_in_sweeps},
             {"chains", s.chains},
             {"sample_every", s.sample_every},
             {"beta", s.beta_used},
             {"beta_given", s.beta_given},
             {"beta_code", s.beta_code}};
    if (!sampling.beta_schedule.empty()) {
      out["beta_schedule"] = Json{
          {"length", s.schedule_length}, {"first", s.schedule_first_beta}, {"last", s.beta_used}};
    }
    out["samples"] = s.samples;
    out["mean"] = result.mean;
    out["mean_stderr"] = numbers_or_null(result.mean_stderr);
    out["mean_ess"] = numbers_or_null(result.mean_ess);
    out["mean_split_rhat"] = numbers_or_null(result.mean_split_rhat);
    out["edge_correlations"] = correlations;
    out["edge_correlation_stderr"] = numbers_or_null(result.edge_correlation_stderr);
    out["stderr_method"] = s.stderr_method;
    out["stderr_dof"] = s.stderr_dof ? Json(*s.stderr_dof) : Json(nullptr);
    out["warnings"] = s.warnings;
    out["summary"] = summary_json(s);
    out["energy"] = energy_json(s.energy);
    if (file) {
      write_model_data(*file, model);
      write_sampling_data(*file, result);
      finish_run_file(*file, out);
    }
    if (options.common.json)
      return write_json(out);
  }
  std::string out = fmt::format("{:>6}  {:>10}  {:>8}  {:>8}  {:>8}\n", "node", "<s_i>", "stderr",
                                "ESS", "R-hat");
  for (std::uint32_t i = 0; i < model.nodes; ++i) {
    fmt::format_to(std::back_inserter(out), "{:>6}  {:>10.4f}  {:>8}  {:>8}  {:>8}\n", i,
                   result.mean[i], cell(result.mean_stderr[i], 4), cell(result.mean_ess[i], 0),
                   cell(result.mean_split_rhat[i], 3));
  }
  if (!model.edges.empty()) {
    fmt::format_to(std::back_inserter(out), "\n{:>6}  {:>6}  {:>4}  {:>10}  {:>8}\n", "i", "j", "J",
                   "<s_i s_j>", "stderr");
    for (std::size_t k = 0; k < model.edges.size(); ++k) {
      const auto& [i, j, w] = model.edges[k];
      fmt::format_to(std::back_inserter(out), "{:>6}  {:>6}  {:>4}  {:>10.4f}  {:>8}\n", i, j, w,
                     std::get<2>(result.edge_correlations[k]),
                     cell(result.edge_correlation_stderr[k], 4));
    }
  }
  // The brief report names the board by serial; the text names its address, as it always has.
  const std::string beta_text =
      s.schedule_length == 1 ? fmt::format("beta {:g}", s.beta_used)
                             : fmt::format("a {}-entry beta schedule from {:g} to {:g}",
                                           s.schedule_length, s.schedule_first_beta, s.beta_used);
  fmt::format_to(std::back_inserter(out),
                 "\n{} samples ({} chain{} x {} sweeps, every {}; burn-in {}) at {} on {}\n",
                 s.samples, s.chains, s.chains == 1 ? "" : "s", s.sweeps, s.sample_every,
                 s.burn_in_sweeps, beta_text, uri);
  fmt::format_to(std::back_inserter(out), "stderr: {}\n", s.stderr_method);
  if (s.split_rhat_max || !s.split_rhat_worst.empty()) {
    fmt::format_to(std::back_inserter(out), "worst split R-hat: {} ({}; {} sequences)\n",
                   s.split_rhat_max ? fmt::format("{:.4f}", *s.split_rhat_max) : "infinite",
                   s.split_rhat_worst, s.split_rhat_sequences);
  }
  if (s.ess_min) {
    fmt::format_to(std::back_inserter(out), "smallest effective sample size: {:.0f} ({})\n",
                   *s.ess_min, s.ess_worst);
  }
  for (const std::string& warning : s.warnings)
    fmt::format_to(std::back_inserter(out), "warning: {}\n", warning);
  return out;
}

std::string run_tempering(const SampleOptions& options, const runtime::IsingModel& model,
                          driver::PbitBoard& board) {
  runtime::ParallelTemperingOptions pt;
  pt.betas = parse_tempering(options.tempering);
  pt.sweeps_per_exchange = options.exchange_every;
  pt.burn_in_sweeps = options.burn_in;
  pt.max_sweeps = options.burn_in + options.sweeps;
  pt.target_energy = options.target_energy;
  pt.timeout = options.common.timeout();
  pt.calibration = options.calibration;
  auto file = open_run_file_if(options.output, sample_record(options, board));
  const runtime::TemperingResult result =
      recording_failure(file, [&] { return runtime::run_parallel_tempering(board, model, pt); });
  const runtime::TemperingSummary& s = result.summary;

  std::vector<double> mean;
  Json best_state = Json::array();
  for (std::uint32_t i = 0; i < model.nodes; ++i) {
    mean.push_back(s.coldest_mean(i));
    best_state.push_back(result.best_state.at(i));
  }
  const Json json{{"uri", board.device().address().to_string()},
                  {"nodes", model.nodes},
                  {"sweeps", s.sweeps},
                  {"burn_in", s.burn_in_sweeps},
                  {"chains", s.chains},
                  {"exchange_every", s.sweeps_per_exchange},
                  {"beta", s.betas.back()},
                  {"beta_code", s.beta_codes.back()},
                  {"samples", s.coldest_samples},
                  {"mean", mean},
                  {"best_state", best_state},
                  {"tempering", summary_json(s)},
                  {"energy", energy_json(s.energy)}};
  if (file) {
    write_model_data(*file, model);
    write_tempering_data(*file, result, mean);
    finish_run_file(*file, json);
  }
  if (options.common.json)
    return write_json(json);
  std::string out = s.ladder_table();
  fmt::format_to(std::back_inserter(out), "\n{:>6}  {:>10}  {:>4}\n", "node", "<s_i>", "best");
  for (std::uint32_t i = 0; i < model.nodes; ++i) {
    fmt::format_to(std::back_inserter(out), "{:>6}  {:>10.4f}  {:>+4d}\n", i, s.coldest_mean(i),
                   result.best_state.at(i));
  }
  fmt::format_to(std::back_inserter(out), "\n{}\n", s.brief_report());
  return out;
}

}  // namespace

Command add_sample_command(CLI::App& app) {
  auto options = std::make_shared<SampleOptions>();
  CLI::App* command =
      app.add_subcommand("sample", "Sample an Ising model on a p-bit board (means, correlations)");
  add_uri_option(*command, options->common, driver::BoardFamily::kPbit);
  command
      ->add_option("--model", options->model,
                   "JSON {\"nodes\": n, \"edges\": [[i, j, J], ...], \"bias\": [...]} in the "
                   "board's integer units")
      ->required();
  command->add_option("--sweeps", options->sweeps, "Gibbs sweeps per chain after burn-in")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32))
      ->capture_default_str();
  auto* samples =
      command
          ->add_option("--samples", options->samples,
                       "About this many samples in total (sample_every = max(1, sweeps * chains "
                       "/ M)); default: every sweep of every chain")
          ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  auto* beta = command
                   ->add_option("--beta", options->beta,
                                "Inverse temperature, rounded to the board's beta step (1/256 on "
                                "the emulator: a beta below half a step is refused, one realized "
                                "more than 1% off is warned about)")
                   ->capture_default_str();
  auto* schedule = command
                       ->add_option("--beta-schedule", options->beta_schedule,
                                    "Beta per sweep, burn-in included: 'b0,b1,...' (the last "
                                    "holds) or 'FROM:TO:SWEEPS' (linear anneal)")
                       ->excludes(beta);
  command->add_option("--burn-in", options->burn_in, "Sweeps before sampling starts")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 32))
      ->capture_default_str();
  auto* chains = command
                     ->add_option("--chains", options->chains,
                                  "Independent chains, side by side on the board (at most its "
                                  "max_chains: 64 on the emulator); 2 or more give error bars from "
                                  "their spread")
                     ->check(CLI::Range(1u, 100000u))
                     ->capture_default_str();
  auto* error_bars =
      command
          ->add_option("--error-bars", options->error_bars,
                       "Standard errors from: auto (chains if 2 or more, else batches), chains "
                       "(spread of the chain means), batches (batch means within chains) or "
                       "none (no recording, no diagnostics)")
          ->check(CLI::IsMember({"auto", "chains", "batches", "none"}))
          ->capture_default_str();
  auto* batches = command
                      ->add_option("--batches", options->batches,
                                   "Batches per chain for batch-means error bars and the ESS")
                      ->check(CLI::Range(2u, 1000u))
                      ->capture_default_str();
  auto* tempering =
      command
          ->add_option("--tempering", options->tempering,
                       "Parallel tempering: R replicas (= chains) on a geometric beta ladder "
                       "BMIN:BMAX:R; the coldest (BMAX) is sampled")
          ->excludes(beta)
          ->excludes(schedule)
          ->excludes(chains)
          ->excludes(samples)
          ->excludes(error_bars)
          ->excludes(batches);
  command
      ->add_option("--exchange-every", options->exchange_every,
                   "Tempering: sweeps between replica exchange attempts")
      ->check(CLI::Range(1u, 1u << 20))
      ->needs(tempering)
      ->capture_default_str();
  auto* target = command
                     ->add_option("--target-energy", options->target_energy_value,
                                  "Tempering: stop once a replica has E = -(sum J s s + sum b s) "
                                  "<= E")
                     ->needs(tempering);
  add_calibration_option(*command, options->calibration);
  add_timeout_option(*command, options->common, runtime::IsingSamplingOptions{}.timeout,
                     "the whole command");
  add_run_file_option(*command, options->output);
  add_json_flag(*command, options->common,
                "\"mean\", \"mean_stderr\", \"edge_correlations\", \"edge_correlation_stderr\", "
                "\"stderr_method\", \"stderr_dof\", \"warnings\", \"summary\", ...");
  command->footer(addresses_footer(
      "Error bars: every mean and edge correlation gets a standard error, from the spread of the "
      "chain means with --chains 2 or more (Student-t, chains - 1 degrees of freedom), else from "
      "--batches batch means of the one chain (batches - 1 degrees of freedom). Split R-hat and "
      "the effective sample size (ESS) say whether the chains mixed: the output warns when "
      "R-hat > 1.01 or ESS < 100 per chain (Vehtari et al. 2021); then run more chains, more "
      "--burn-in and --sweeps, or --tempering. One chain cannot reveal a mode it never visited: "
      "use 4 or more "
      "chains (they run side by side, in the same device time) for a model that may have several. "
      "The job records every sample for this "
      "(ceil(lattice nodes / 8) bytes each over the link); --error-bars none skips it.\n\n"));

  return {command, [options, target] {
            if (target->count() > 0)
              options->target_energy = options->target_energy_value;
            const runtime::IsingModel model = read_model(options->model);
            driver::PbitBoard board = open_pbit_board(options->common.uri);
            if (!options->tempering.empty())
              return run_tempering(*options, model, board);
            return run_sampling(*options, model, board);
          }};
}

}  // namespace kelvin::tools::cli
