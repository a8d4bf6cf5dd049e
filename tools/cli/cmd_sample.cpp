// kelvin sample --model FILE [--uri URI] [--sweeps N] [--samples M] [--burn-in N] [--chains C]
//               [--beta B | --beta-schedule SPEC] [--timeout-s S] [--json]
// kelvin sample --model FILE --tempering BMIN:BMAX:R [--exchange-every N] [--target-energy E]
//               [--uri URI] [--sweeps N] [--burn-in N] [--timeout-s S] [--json]
//
// Samples an Ising model on a p-bit board. The model file is JSON in the board's integer
// coupling units: {"nodes": n, "edges": [[i, j, J], ...], "bias": [b_0, ...]} ("bias" optional,
// default zeros); model node i is lattice node i (row-major). Every chain is sampled after
// every sample_every-th sweep, where sample_every = 1, or with --samples M,
// max(1, floor(sweeps * chains / M)) capped at sweeps, so about M samples are taken in total.
//
// --beta-schedule gives the beta of each sweep (burn-in included): a comma list "0.8,0.9,1.2"
// (sweep k uses entry min(k, size - 1), so the last one holds), or "FROM:TO:SWEEPS", a linear
// anneal whose sweep k < SWEEPS uses FROM + (TO - FROM) k / (SWEEPS - 1), then TO.
//
// --tempering BMIN:BMAX:R runs parallel tempering (runtime/pbit/parallel_tempering.hpp) with R
// replicas (= chains) on a geometric ladder from BMIN to BMAX, proposing exchanges every
// --exchange-every sweeps (default 10), for burn-in + sweeps sweeps per chain or until some
// replica reaches E <= --target-energy (E = -(sum J s_i s_j + sum b s_i), integer units). Its
// "mean" is that of the coldest replica (beta BMAX), one sample per exchange interval; the
// JSON adds a "tempering" object (betas, acceptance, best_energy, sweeps_to_target, the coldest
// replica's energy trace in brief).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "cli.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/pbit/ising_model.hpp"
#include "kelvin/runtime/pbit/parallel_tempering.hpp"

namespace kelvin::tools::cli {

namespace {

using json = nlohmann::ordered_json;

driver::IsingModel read_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(fmt::format("cannot read model file '{}'", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  json doc;
  try {
    doc = json::parse(buffer.str());
  } catch (const json::parse_error& e) {
    throw std::runtime_error(fmt::format("model file '{}' is not valid JSON: {}", path, e.what()));
  }
  const auto fail = [&path](const std::string& what) -> std::runtime_error {
    return std::runtime_error(fmt::format("model file '{}': {}", path, what));
  };
  const auto as_int = [&](const json& value, const std::string& where) -> long long {
    if (!value.is_number_integer())
      throw fail(fmt::format("{} must be an integer, got {}", where, value.dump()));
    return value.get<long long>();
  };
  if (!doc.is_object())
    throw fail("the model must be a JSON object {\"nodes\", \"edges\", \"bias\"}");
  if (!doc.contains("nodes"))
    throw fail("\"nodes\" is missing");
  const long long nodes = as_int(doc["nodes"], "\"nodes\"");
  if (nodes < 1 || nodes > 65536)
    throw fail(fmt::format("\"nodes\" must be in [1, 65536], got {}", nodes));

  driver::IsingModel model;
  model.nodes = static_cast<std::uint32_t>(nodes);
  const json edges = doc.value("edges", json::array());
  if (!edges.is_array())
    throw fail("\"edges\" must be an array of [i, j, J]");
  for (std::size_t k = 0; k < edges.size(); ++k) {
    const json& e = edges[k];
    const std::string where = fmt::format("edges[{}]", k);
    if (!e.is_array() || e.size() != 3)
      throw fail(fmt::format("{} must be [i, j, J], got {}", where, e.dump()));
    const long long i = as_int(e[0], where + "[0]");
    const long long j = as_int(e[1], where + "[1]");
    const long long w = as_int(e[2], where + "[2]");
    if (i < 0 || i >= nodes || j < 0 || j >= nodes)
      throw fail(fmt::format("{} = {} names a node outside [0, {})", where, e.dump(), nodes));
    if (w < -1000 || w > 1000)
      throw fail(fmt::format("{}: weight {} is far outside any board's range", where, w));
    model.edges.emplace_back(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j),
                             static_cast<int>(w));
  }
  if (doc.contains("bias")) {
    const json& bias = doc["bias"];
    if (!bias.is_array() || bias.size() != static_cast<std::size_t>(nodes))
      throw fail(fmt::format("\"bias\" must be an array of {} integers", nodes));
    for (std::size_t i = 0; i < bias.size(); ++i) {
      const long long b = as_int(bias[i], fmt::format("bias[{}]", i));
      if (b < -100000 || b > 100000)
        throw fail(fmt::format("bias[{}] = {} is far outside any board's range", i, b));
      model.bias.push_back(static_cast<int>(b));
    }
  }
  return model;
}

// A double or an integer that must fill all of `text`.
double parse_double(const std::string& text, const std::string& what) {
  std::size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !std::isfinite(value))
    throw UsageError(fmt::format("{}: '{}' is not a number", what, text));
  return value;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string::size_type begin = 0;
  for (;;) {
    const auto end = text.find(separator, begin);
    parts.push_back(text.substr(begin, end - begin));
    if (end == std::string::npos)
      return parts;
    begin = end + 1;
  }
}

// --tempering BMIN:BMAX:R -> the geometric ladder.
std::vector<double> parse_tempering(const std::string& spec) {
  const auto parts = split(spec, ':');
  if (parts.size() != 3)
    throw UsageError(fmt::format("--tempering: '{}' is not BMIN:BMAX:R", spec));
  const double beta_min = parse_double(parts[0], "--tempering BMIN");
  const double beta_max = parse_double(parts[1], "--tempering BMAX");
  const double replicas = parse_double(parts[2], "--tempering R");
  if (!(beta_min > 0.0 && beta_max > beta_min))
    throw UsageError(fmt::format("--tempering: needs 0 < BMIN < BMAX, got '{}'", spec));
  if (replicas != std::floor(replicas) || replicas < 2 || replicas > 1024)
    throw UsageError(fmt::format("--tempering: R = {} must be an integer in [2, 1024]", parts[2]));
  return runtime::geometric_ladder(beta_min, beta_max, static_cast<int>(replicas));
}

// --beta-schedule: "b0,b1,..." or "FROM:TO:SWEEPS" -> beta per sweep (the last one holds).
std::vector<double> parse_beta_schedule(const std::string& spec, std::size_t max_length) {
  std::vector<double> betas;
  if (spec.find(':') != std::string::npos) {
    const auto parts = split(spec, ':');
    if (parts.size() != 3)
      throw UsageError(fmt::format("--beta-schedule: '{}' is not FROM:TO:SWEEPS", spec));
    const double from = parse_double(parts[0], "--beta-schedule FROM");
    const double to = parse_double(parts[1], "--beta-schedule TO");
    const double sweeps = parse_double(parts[2], "--beta-schedule SWEEPS");
    if (sweeps != std::floor(sweeps) || sweeps < 1 || sweeps > static_cast<double>(max_length)) {
      throw UsageError(fmt::format("--beta-schedule: SWEEPS = {} must be an integer in [1, {}]",
                                   parts[2], max_length));
    }
    const auto n = static_cast<std::size_t>(sweeps);
    for (std::size_t k = 0; k < n; ++k)
      betas.push_back(n == 1 ? to : from + (to - from) * double(k) / double(n - 1));
  } else {
    for (const std::string& part : split(spec, ','))
      betas.push_back(parse_double(part, "--beta-schedule"));
    if (betas.size() > max_length) {
      throw UsageError(fmt::format("--beta-schedule: {} betas, the board holds at most {}",
                                   betas.size(), max_length));
    }
  }
  for (const double b : betas) {
    if (b < 0.0)
      throw UsageError(fmt::format("--beta-schedule: beta {} is negative", b));
  }
  return betas;
}

// {"points", "first", "last", "min", "mean_last_half"} of the coldest replica's energies.
json trace_json(const std::vector<std::int64_t>& trace) {
  if (trace.empty())
    return json{{"points", 0}};
  const std::size_t half = trace.size() / 2;
  double tail = 0.0;
  for (std::size_t k = half; k < trace.size(); ++k)
    tail += static_cast<double>(trace[k]);
  return json{{"points", trace.size()},
              {"first", trace.front()},
              {"last", trace.back()},
              {"min", *std::min_element(trace.begin(), trace.end())},
              {"mean_last_half", tail / static_cast<double>(trace.size() - half)}};
}

struct SampleOptions {
  std::string uri = kDefaultPbitUri;
  std::string model;
  std::uint64_t sweeps = 1000;
  std::uint64_t samples = 0;
  double beta = 1.0;
  std::string beta_schedule;
  std::uint64_t burn_in = 100;
  std::uint32_t chains = 1;
  std::string tempering;
  std::uint32_t exchange_every = 10;
  std::optional<std::int64_t> target_energy;  // set from target_energy_value when given
  std::int64_t target_energy_value = 0;
  double timeout_s = 60.0;
  bool json = false;
};

std::string run_sampling(const SampleOptions& options, const driver::IsingModel& model,
                         driver::PbitBoard& board, common::Deadline deadline) {
  const driver::LatticeProgram program = driver::map_to_lattice(model, board.pbit());
  std::vector<std::uint32_t> schedule;
  if (options.beta_schedule.empty()) {
    schedule.push_back(board.beta_code(options.beta));
  } else {
    for (const double b :
         parse_beta_schedule(options.beta_schedule, board.pbit().max_schedule_length))
      schedule.push_back(board.beta_code(b));
  }
  const auto realized = [&board](std::uint32_t code) {
    return board.pbit().beta.to_physical(std::int64_t{code});
  };
  const std::uint32_t beta_code = schedule.back();  // the beta that holds
  const double beta = realized(beta_code);

  driver::SamplingRequest request;
  request.sweeps = options.sweeps;
  request.chains = options.chains;
  request.burn_in_sweeps = options.burn_in;
  request.sample_every = 1;
  if (options.samples > 0) {
    const std::uint64_t every =
        std::max<std::uint64_t>(1, options.sweeps * options.chains / options.samples);
    request.sample_every =
        static_cast<std::uint32_t>(std::min<std::uint64_t>({every, options.sweeps, UINT32_MAX}));
  }
  request.accumulate_moments = true;
  request.reset_state = true;

  const auto link_before = board.device().stats();
  board.program_lattice(program, deadline);
  board.set_clamps({}, deadline);
  board.set_beta_schedule(schedule, deadline);
  const driver::SamplingResult result = board.sample(request, deadline);
  const auto link_after = board.device().stats();
  const auto& lattice_info = *board.description().pbit;
  const std::uint64_t nodes = lattice_info.nodes();
  const runtime::EnergyLedger energy = runtime::make_pbit_ledger(
      nodes * request.chains * (request.burn_in_sweeps + request.sweeps),
      lattice_info.edge_count + nodes + schedule.size(),  // weights, biases, beta codes
      result.sample_count * nodes,
      (link_after.bytes_sent + link_after.bytes_received) -
          (link_before.bytes_sent + link_before.bytes_received),
      lattice_info.degree);

  json mean = json::array();
  for (std::uint32_t i = 0; i < model.nodes; ++i)
    mean.push_back(result.mean(i));
  json correlations = json::array();
  for (const auto& [i, j, w] : model.edges) {
    const auto edge = board.lattice().edge_index(i, j);
    correlations.push_back(json::array({i, j, result.edge_correlation(*edge)}));
  }
  if (options.json) {
    json out{{"uri", board.device().address().to_string()},
             {"nodes", model.nodes},
             {"sweeps", request.sweeps},
             {"burn_in", request.burn_in_sweeps},
             {"chains", request.chains},
             {"sample_every", request.sample_every},
             {"beta", beta},
             {"beta_code", beta_code}};
    if (!options.beta_schedule.empty()) {
      out["beta_schedule"] = json{{"length", schedule.size()},
                                  {"first", realized(schedule.front())},
                                  {"last", realized(schedule.back())}};
    }
    out["samples"] = result.sample_count;
    out["mean"] = mean;
    out["edge_correlations"] = correlations;
    out["energy"] = energy_json(energy);
    return dump_json(out);
  }
  std::string out = fmt::format("{:>6}  {:>10}\n", "node", "<s_i>");
  for (std::uint32_t i = 0; i < model.nodes; ++i)
    fmt::format_to(std::back_inserter(out), "{:>6}  {:>10.4f}\n", i, result.mean(i));
  if (!model.edges.empty()) {
    fmt::format_to(std::back_inserter(out), "\n{:>6}  {:>6}  {:>4}  {:>10}\n", "i", "j", "J",
                   "<s_i s_j>");
    for (std::size_t k = 0; k < model.edges.size(); ++k) {
      const auto& [i, j, w] = model.edges[k];
      fmt::format_to(std::back_inserter(out), "{:>6}  {:>6}  {:>4}  {:>10.4f}\n", i, j, w,
                     correlations[k][2].get<double>());
    }
  }
  const std::string beta_text =
      schedule.size() == 1 ? fmt::format("beta {:g}", beta)
                           : fmt::format("a {}-entry beta schedule from {:g} to {:g}",
                                         schedule.size(), realized(schedule.front()), beta);
  fmt::format_to(std::back_inserter(out),
                 "\n{} samples ({} chain{} x {} sweeps, every {}; burn-in {}) at {} on {}\n",
                 result.sample_count, request.chains, request.chains == 1 ? "" : "s",
                 request.sweeps, request.sample_every, request.burn_in_sweeps, beta_text,
                 board.device().address().to_string());
  return out;
}

std::string run_tempering(const SampleOptions& options, const driver::IsingModel& model,
                          driver::PbitBoard& board) {
  runtime::ParallelTemperingOptions pt;
  pt.betas = parse_tempering(options.tempering);
  pt.sweeps_per_exchange = options.exchange_every;
  pt.burn_in_sweeps = options.burn_in;
  pt.max_sweeps = options.burn_in + options.sweeps;
  pt.target_energy = options.target_energy;
  pt.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(options.timeout_s));
  const runtime::TemperingResult result = runtime::run_parallel_tempering(board, model, pt);
  const runtime::TemperingSummary& s = result.summary;

  json mean = json::array();
  json best_state = json::array();
  for (std::uint32_t i = 0; i < model.nodes; ++i) {
    mean.push_back(s.coldest_mean(i));
    best_state.push_back(result.best_state.at(i));
  }
  if (options.json) {
    const json target = s.target_energy ? json(*s.target_energy) : json(nullptr);
    const json to_target = s.sweeps_to_target ? json(*s.sweeps_to_target) : json(nullptr);
    return dump_json(
        json{{"uri", board.device().address().to_string()},
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
             {"tempering", json{{"betas", s.betas},
                                {"beta_codes", s.beta_codes},
                                {"acceptance", s.acceptance},
                                {"swaps_proposed", s.swaps_proposed},
                                {"best_energy", s.best_energy},
                                {"target_energy", target},
                                {"sweeps_to_target", to_target},
                                {"runs", s.runs},
                                {"coldest_energy_trace", trace_json(s.coldest_energy_trace)},
                                {"brief", s.brief_report()}}},
             {"energy", energy_json(s.energy)}});
  }
  std::string out =
      fmt::format("{:>4}  {:>10}  {:>6}  {:>12}\n", "k", "beta", "code", "swap k,k+1");
  for (std::size_t k = 0; k < s.betas.size(); ++k) {
    const std::string swap = k < s.acceptance.size() && s.swaps_proposed[k] > 0
                                 ? fmt::format("{:.3f}", s.acceptance[k])
                                 : std::string("-");
    fmt::format_to(std::back_inserter(out), "{:>4}  {:>10.5g}  {:>6}  {:>12}\n", k, s.betas[k],
                   s.beta_codes[k], swap);
  }
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
  command->add_option("--uri", options->uri, "Device address of a p-bit board")
      ->capture_default_str();
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
  auto* beta =
      command
          ->add_option("--beta", options->beta, "Inverse temperature (rounded to the board's code)")
          ->capture_default_str();
  auto* schedule = command
                       ->add_option("--beta-schedule", options->beta_schedule,
                                    "Beta per sweep, burn-in included: 'b0,b1,...' (the last "
                                    "holds) or 'FROM:TO:SWEEPS' (linear anneal)")
                       ->excludes(beta);
  command->add_option("--burn-in", options->burn_in, "Sweeps before sampling starts")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 32))
      ->capture_default_str();
  auto* chains = command->add_option("--chains", options->chains, "Independent chains")
                     ->check(CLI::Range(1u, 1024u))
                     ->capture_default_str();
  auto* tempering =
      command
          ->add_option("--tempering", options->tempering,
                       "Parallel tempering: R replicas (= chains) on a geometric beta ladder "
                       "BMIN:BMAX:R; the coldest (BMAX) is sampled")
          ->excludes(beta)
          ->excludes(schedule)
          ->excludes(chains)
          ->excludes(samples);
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
  command->add_option("--timeout-s", options->timeout_s, "Deadline for the whole command, seconds")
      ->check(CLI::Range(1e-3, 1e7))
      ->capture_default_str();
  command->add_flag("--json", options->json,
                    "Print one JSON object {\"mean\", \"edge_correlations\", \"samples\", ...}");
  command->footer(fmt::format("Device addresses:\n  {}", driver::backends::uri_help()));

  return {command, [options, target] {
            if (target->count() > 0)
              options->target_energy = options->target_energy_value;
            const driver::IsingModel model = read_model(options->model);
            const auto deadline =
                common::Deadline::after(std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::duration<double>(options->timeout_s)));
            driver::PbitBoard board(driver::backends::open(options->uri));
            if (!options->tempering.empty())
              return run_tempering(*options, model, board);
            return run_sampling(*options, model, board, deadline);
          }};
}

}  // namespace kelvin::tools::cli
