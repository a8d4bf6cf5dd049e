#include "kelvin/runtime/pbit/dtm_chain.hpp"

#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "pbit_job.hpp"

namespace kelvin::runtime {

using common::Deadline;
using common::Error;
using common::ErrorKind;

namespace {

constexpr std::uint64_t kMaxSweeps = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint32_t kMaxChains = 100'000;

// Checks every step against the board before anything is sent, so that a bad step T-3 does not
// surface after steps T..T-2 ran. Returns the width (nodes per x_t).
std::size_t check_steps(const driver::PbitBoard& board, std::span<const DenoisingStep> steps) {
  if (steps.empty())
    throw Error(ErrorKind::kInvalidArgument, "a denoising chain needs at least one step");
  const auto& p = board.pbit();
  const std::uint32_t nodes = board.nodes();
  const std::size_t edges = board.lattice().edges().size();
  const std::size_t width = steps.front().input_nodes.size();
  for (std::size_t k = 0; k < steps.size(); ++k) {
    const DenoisingStep& s = steps[k];
    const std::string where = fmt::format("step {} of {}", k, steps.size());
    if (s.input_nodes.empty()) {
      throw Error(ErrorKind::kInvalidArgument, fmt::format("{} has no input nodes", where));
    }
    if (s.input_nodes.size() != s.output_nodes.size()) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("{} has {} input nodes but {} output nodes", where,
                              s.input_nodes.size(), s.output_nodes.size()));
    }
    if (s.input_nodes.size() != width) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("{} has {} input nodes but step 0 has {} (each output feeds the "
                              "next step's input)",
                              where, s.input_nodes.size(), width));
    }
    if (s.program.weights.size() != edges || s.program.biases.size() != nodes) {
      throw Error(
          ErrorKind::kInvalidArgument,
          fmt::format("{} programs {} weights and {} biases; the board has {} edges and "
                      "{} nodes",
                      where, s.program.weights.size(), s.program.biases.size(), edges, nodes));
    }
    for (std::size_t e = 0; e < edges; ++e) {
      if (!p.weight.contains(s.program.weights[e])) {
        throw Error(ErrorKind::kOutOfRange,
                    fmt::format("{}: weight {} of lattice edge {} is outside [{}, {}]", where,
                                s.program.weights[e], e, p.weight.min_code, p.weight.max_code));
      }
    }
    for (std::uint32_t i = 0; i < nodes; ++i) {
      if (!p.bias.contains(s.program.biases[i])) {
        throw Error(ErrorKind::kOutOfRange,
                    fmt::format("{}: bias {} of node {} is outside [{}, {}]", where,
                                s.program.biases[i], i, p.bias.min_code, p.bias.max_code));
      }
    }
    if (s.beta_schedule.empty() || s.beta_schedule.size() > p.max_schedule_length) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("{}: a beta schedule holds 1 to {} codes, got {}", where,
                              p.max_schedule_length, s.beta_schedule.size()));
    }
    for (const std::uint32_t code : s.beta_schedule) {
      if (!p.beta.contains(code)) {
        throw Error(ErrorKind::kOutOfRange,
                    fmt::format("{}: beta code {} is outside [{}, {}]", where, code,
                                p.beta.min_code, p.beta.max_code));
      }
    }
    // 0 = unused, 1 = input, 2 = output.
    std::vector<std::uint8_t> role(nodes, 0);
    auto mark = [&](std::uint32_t node, std::uint8_t r) {
      const std::string_view name = r == 1 ? "input" : "output";
      if (node >= nodes) {
        throw Error(ErrorKind::kOutOfRange,
                    fmt::format("{}: {} node {} is outside the board's {} nodes", where, name, node,
                                nodes));
      }
      if (role[node] == r) {
        throw Error(ErrorKind::kInvalidArgument,
                    fmt::format("{}: {} node {} is listed twice", where, name, node));
      }
      if (role[node] != 0) {
        throw Error(ErrorKind::kInvalidArgument,
                    fmt::format("{}: node {} is both an input and an output", where, node));
      }
      role[node] = r;
    };
    for (const std::uint32_t node : s.input_nodes)
      mark(node, 1);
    for (const std::uint32_t node : s.output_nodes)
      mark(node, 2);
  }
  return width;
}

}  // namespace

DenoisingStep make_denoising_step(const ModelEmbedding& embedding,
                                  std::span<const std::uint32_t> model_inputs,
                                  std::span<const std::uint32_t> model_outputs) {
  DenoisingStep step;
  step.program = embedding.program;
  step.beta_schedule = {embedding.beta_code};
  auto map = [&](std::span<const std::uint32_t> from, std::vector<std::uint32_t>& to,
                 std::string_view name) {
    for (const std::uint32_t v : from) {
      if (v >= embedding.model_nodes) {
        throw Error(ErrorKind::kInvalidArgument,
                    fmt::format("{} model node {} is outside the embedding's {} nodes", name, v,
                                embedding.model_nodes));
      }
      to.push_back(embedding.placement[v]);
    }
  };
  map(model_inputs, step.input_nodes, "input");
  map(model_outputs, step.output_nodes, "output");
  return step;
}

void DenoisingOptions::validate() const {
  if (sweeps < 1 || sweeps > kMaxSweeps) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("DenoisingOptions.sweeps = {} is outside [1, {}]", sweeps, kMaxSweeps));
  }
  if (burn_in_sweeps > kMaxSweeps + 1) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("DenoisingOptions.burn_in_sweeps = {} is above 2^32", burn_in_sweeps));
  }
  if (chains < 1 || chains > kMaxChains) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("DenoisingOptions.chains = {} is outside [1, {}]", chains, kMaxChains));
  }
  if (timeout.count() <= 0) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("DenoisingOptions.timeout = {} ms is not positive", timeout.count()));
  }
}

DenoisingResult run_denoising_chain(driver::PbitBoard& board, std::span<const DenoisingStep> steps,
                                    std::span<const int> x_T, const DenoisingOptions& options) {
  options.validate();
  const detail::PbitJob job(board, options.timeout);
  const Deadline deadline = job.deadline();
  const std::size_t width = check_steps(board, steps);
  if (!x_T.empty()) {
    if (x_T.size() != width) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("x_T has {} values; the steps take {}", x_T.size(), width));
    }
    for (std::size_t i = 0; i < width; ++i) {
      if (x_T[i] != 1 && x_T[i] != -1) {
        throw Error(ErrorKind::kInvalidArgument,
                    fmt::format("x_T[{}] = {} is not +1 or -1", i, x_T[i]));
      }
    }
  }

  const std::uint64_t nodes = board.nodes();
  const std::uint64_t sweeps_per_run = options.burn_in_sweeps + options.sweeps;
  driver::SamplingRequest request;
  request.sweeps = options.sweeps;
  request.chains = 1;
  request.burn_in_sweeps = options.burn_in_sweeps;
  // One sample per run, after the last sweep: the only state the chain passes on.
  request.sample_every = static_cast<std::uint32_t>(options.sweeps);
  request.record_samples = true;
  request.reset_state = options.reset_state;

  DenoisingResult result;
  DenoisingSummary& sum = result.summary;
  sum.steps = steps.size();
  sum.chains = options.chains;
  sum.width = width;
  sum.sweeps_per_step = sweeps_per_run;
  result.states.resize(options.chains);
  result.run_ids.resize(options.chains);

  std::uint64_t node_updates = 0, values_read = 0;
  // The board keeps what was last written; rewriting identical codes would only cost energy.
  const DenoisingStep* loaded = nullptr;
  const std::vector<std::uint32_t>* loaded_schedule = nullptr;
  std::vector<driver::PbitClamp> clamps(width);
  for (std::uint32_t c = 0; c < options.chains; ++c) {
    std::vector<int> x(x_T.begin(), x_T.end());
    if (x.empty()) {
      std::mt19937_64 rng(options.noise_seed + c);
      x.resize(width);
      for (int& v : x)
        v = (rng() >> 63) ? 1 : -1;
    }
    result.states[c].push_back(x);
    for (const DenoisingStep& step : steps) {
      if (deadline.expired()) {
        throw Error(ErrorKind::kTimeout,
                    fmt::format("denoising chain: the {} ms deadline passed at chain {} of {}",
                                options.timeout.count(), c, options.chains));
      }
      if (loaded != &step) {
        board.program_lattice(step.program, deadline);
        loaded = &step;
        ++sum.programs_written;
        sum.codes_written += step.program.weights.size() + step.program.biases.size();
      }
      if (loaded_schedule == nullptr || *loaded_schedule != step.beta_schedule) {
        board.set_beta_schedule(step.beta_schedule, deadline);
        loaded_schedule = &step.beta_schedule;
        sum.codes_written += step.beta_schedule.size();
      }
      for (std::size_t i = 0; i < width; ++i)
        clamps[i] = {step.input_nodes[i], x[i]};
      board.set_clamps(clamps, deadline);
      sum.codes_written += width;

      const driver::SamplingResult run = board.sample(request, deadline);
      if (run.recorded_samples() != 1) {
        throw Error(ErrorKind::kProtocol,
                    fmt::format("denoising run {} returned {} recorded samples, expected 1",
                                run.run_id, run.recorded_samples()));
      }
      for (std::size_t i = 0; i < width; ++i)
        x[i] = run.recorded_spin(0, step.output_nodes[i]);
      result.states[c].push_back(x);
      result.run_ids[c].push_back(run.run_id);
      ++sum.runs;
      // Clamped nodes are never updated; every other node is, once per sweep.
      node_updates += (nodes - width) * sweeps_per_run;
      values_read += nodes;
    }
  }
  job.finish(sum, sum.runs * sweeps_per_run, node_updates, sum.codes_written, values_read, 0.0);
  common::logger("kelvin.runtime")->debug("denoising chain: {}", sum.brief_report());
  return result;
}

ReportFields DenoisingSummary::fields() const {
  return with_job_fields({
      field("steps", "steps", steps),
      field("chains", "chains", chains, "", "one after the other: clamps are global"),
      field("width", "width", width, "nodes per x_t"),
      field("sweeps_per_step", "sweeps per step", sweeps_per_step, "", "burn-in included"),
      field("runs", "runs", runs),
      field("programs_written", "programs written", programs_written, "",
            "skipped when the step was already loaded"),
      field("codes_written", "codes written", codes_written, "",
            "weights, biases, beta codes, clamps"),
  });
}

std::string DenoisingSummary::brief_report() const {
  return fmt::format(
             "{} step(s) x {} chain(s) of width {} on {}: {} runs of {} sweeps, {} programs "
             "written, {:.3g} ms device time; energy {}",
             steps, chains, width, serial, runs, sweeps_per_step, programs_written,
             device_time_s * 1e3, energy.brief()) +
         warnings_suffix();
}

std::string DenoisingSummary::full_report() const {
  return render_report("Denoising chain summary", fields());
}

}  // namespace kelvin::runtime
