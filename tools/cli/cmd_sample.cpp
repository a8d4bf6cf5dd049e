// kelvin sample --model FILE [--uri URI] [--sweeps N] [--samples M] [--beta B] [--burn-in N]
//               [--chains C] [--timeout-s S] [--json]
//
// Samples an Ising model on a p-bit board. The model file is JSON in the board's integer
// coupling units: {"nodes": n, "edges": [[i, j, J], ...], "bias": [b_0, ...]} ("bias" optional,
// default zeros); model node i is lattice node i (row-major). Every chain is sampled after
// every sample_every-th sweep, where sample_every = 1, or with --samples M,
// max(1, floor(sweeps * chains / M)) capped at sweeps, so about M samples are taken in total.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "cli.hpp"
#include "kelvin/driver/backends.hpp"
#include "kelvin/driver/pbit/ising_model.hpp"

namespace kelvin::cli {
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

}  // namespace

Command add_sample_command(CLI::App& app) {
  struct Options {
    std::string uri = kDefaultPbitUri;
    std::string model;
    std::uint64_t sweeps = 1000;
    std::uint64_t samples = 0;
    double beta = 1.0;
    std::uint64_t burn_in = 100;
    std::uint32_t chains = 1;
    double timeout_s = 60.0;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
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
  command
      ->add_option("--samples", options->samples,
                   "About this many samples in total (sample_every = max(1, sweeps * chains "
                   "/ M)); default: every sweep of every chain")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  command->add_option("--beta", options->beta, "Inverse temperature (rounded to the board's code)")
      ->capture_default_str();
  command->add_option("--burn-in", options->burn_in, "Sweeps before sampling starts")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 32))
      ->capture_default_str();
  command->add_option("--chains", options->chains, "Independent chains")
      ->check(CLI::Range(1u, 1024u))
      ->capture_default_str();
  command->add_option("--timeout-s", options->timeout_s, "Deadline for the whole command, seconds")
      ->check(CLI::Range(1e-3, 1e7))
      ->capture_default_str();
  command->add_flag("--json", options->json,
                    "Print one JSON object {\"mean\", \"edge_correlations\", \"samples\", ...}");
  command->footer(fmt::format("Device addresses:\n  {}", driver::kSimUriHelp));

  return {command, [options] {
            const driver::IsingModel model = read_model(options->model);
            const auto deadline =
                driver::Deadline::after(std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::duration<double>(options->timeout_s)));
            driver::PbitBoard board(driver::open(options->uri));
            const driver::LatticeProgram program = driver::map_to_lattice(model, board.pbit());
            const std::uint32_t beta_code = board.beta_code(options->beta);
            const double beta = board.pbit().beta.to_physical(std::int64_t{beta_code});

            driver::SamplingRequest request;
            request.sweeps = options->sweeps;
            request.chains = options->chains;
            request.burn_in_sweeps = options->burn_in;
            request.sample_every = 1;
            if (options->samples > 0) {
              const std::uint64_t every =
                  std::max<std::uint64_t>(1, options->sweeps * options->chains / options->samples);
              request.sample_every = static_cast<std::uint32_t>(
                  std::min<std::uint64_t>({every, options->sweeps, UINT32_MAX}));
            }
            request.accumulate_moments = true;
            request.reset_state = true;

            const auto link_before = board.device().stats();
            board.program_lattice(program, deadline);
            board.set_clamps({}, deadline);
            const std::uint32_t schedule[] = {beta_code};
            board.set_beta_schedule(schedule, deadline);
            const driver::SamplingResult result = board.sample(request, deadline);
            const auto link_after = board.device().stats();
            const auto& lattice_info = *board.description().pbit;
            const std::uint64_t nodes = lattice_info.nodes();
            const runtime::EnergyLedger energy = runtime::make_pbit_ledger(
                nodes * request.chains * (request.burn_in_sweeps + request.sweeps),
                lattice_info.edge_count + nodes + 1,  // weights, biases, one beta code
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
            if (options->json) {
              return dump_json(json{{"uri", board.device().address().to_string()},
                                    {"nodes", model.nodes},
                                    {"sweeps", request.sweeps},
                                    {"burn_in", request.burn_in_sweeps},
                                    {"chains", request.chains},
                                    {"sample_every", request.sample_every},
                                    {"beta", beta},
                                    {"beta_code", beta_code},
                                    {"samples", result.sample_count},
                                    {"mean", mean},
                                    {"edge_correlations", correlations},
                                    {"energy", energy_json(energy)}});
            }
            std::string out = fmt::format("{:>6}  {:>10}\n", "node", "<s_i>");
            for (std::uint32_t i = 0; i < model.nodes; ++i)
              fmt::format_to(std::back_inserter(out), "{:>6}  {:>10.4f}\n", i, result.mean(i));
            if (!model.edges.empty()) {
              fmt::format_to(std::back_inserter(out), "\n{:>6}  {:>6}  {:>4}  {:>10}\n", "i", "j",
                             "J", "<s_i s_j>");
              for (std::size_t k = 0; k < model.edges.size(); ++k) {
                const auto& [i, j, w] = model.edges[k];
                fmt::format_to(std::back_inserter(out), "{:>6}  {:>6}  {:>4}  {:>10.4f}\n", i, j, w,
                               correlations[k][2].get<double>());
              }
            }
            fmt::format_to(std::back_inserter(out),
                           "\n{} samples ({} chain{} x {} sweeps, every {}; burn-in {}) at beta "
                           "{:g} on {}\n",
                           result.sample_count, request.chains, request.chains == 1 ? "" : "s",
                           request.sweeps, request.sample_every, request.burn_in_sweeps, beta,
                           board.device().address().to_string());
            return out;
          }};
}

}  // namespace kelvin::cli
