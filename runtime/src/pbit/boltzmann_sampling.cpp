// BoltzmannTrainer::sample_visible(): samples of the current model (nearest codes) from the free
// copies, recorded on the board (boltzmann_learning.hpp).
#include <algorithm>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/pbit/boltzmann_learning.hpp"
#include "pbit_job.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

std::vector<std::vector<int>> BoltzmannTrainer::sample_visible(
    std::uint64_t count, std::span<const std::vector<int>> inputs) {
  return sample(count, inputs).visible;
}

BoltzmannSamples BoltzmannTrainer::sample(std::uint64_t count,
                                          std::span<const std::vector<int>> inputs) {
  const std::vector<std::uint32_t> visible = model_.nodes_with(NodeRole::kVisible);
  const std::vector<std::uint32_t> input_nodes = model_.nodes_with(NodeRole::kInput);
  const bool conditional = !input_nodes.empty();
  if (conditional && inputs.size() != count) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} inputs for {} samples of a conditional model (one per sample)",
                            inputs.size(), count));
  }
  if (!conditional && !inputs.empty()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} inputs given, but the model has no input nodes", inputs.size()));
  }
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const auto& in = inputs[k];
    const bool ok = in.size() == input_nodes.size() &&
                    std::all_of(in.begin(), in.end(), [](int v) { return v == 1 || v == -1; });
    if (!ok) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("input {} is not {} values of +1 or -1", k, input_nodes.size()));
    }
  }
  BoltzmannSamples result;
  std::vector<std::vector<int>>& out = result.visible;
  BoltzmannStepSummary& s = result.summary;
  const detail::PbitJob job(*board_, options_.timeout);
  const common::Deadline deadline = job.deadline();
  const std::uint32_t n = model_.nodes, B = options_.batch, F = options_.free_copies;
  // The free copies are copies B .. B + F - 1; the clamped copies' region is programmed too
  // (the layout's copies share one program), with no clamps it just samples along.
  PbitWork work;
  std::uint64_t sweeps_total = 0;
  if (count > 0) {
    const driver::LatticeProgram program =
        lattice_program_of(codes(steps_done_, Rounding::kNearest), B + F);
    board_->program_lattice(program, deadline);
    board_->set_beta_schedule(beta_codes_, deadline);
    work.codes_written = program.weights.size() + program.biases.size() + beta_codes_.size();
  }
  std::vector<std::uint64_t> degree(n, 0);
  for (const auto& e : model_.edges) {
    ++degree[e.i];
    ++degree[e.j];
  }
  std::uint64_t model_reads = 0;
  for (const std::uint64_t d : degree)
    model_reads += d;
  const std::uint64_t bytes = (std::uint64_t{board_->nodes()} + 7) / 8;
  const std::uint64_t record_limit =
      std::max<std::uint64_t>(1, board_->pbit().max_record_bits / (8 * bytes));
  auto copy_visible = [&](const driver::SamplingResult& r, std::uint64_t k, std::uint32_t f) {
    std::vector<int> v;
    v.reserve(visible.size());
    for (const std::uint32_t i : visible)
      v.push_back(r.recorded_spin(k, copy_nodes_[std::size_t{B + f} * n + i]));
    return v;
  };
  driver::SamplingRequest request;
  request.burn_in_sweeps = options_.burn_in_sweeps;
  request.record_samples = true;
  while (out.size() < count) {
    request.reset_state = !chains_started_;
    std::vector<driver::PbitClamp> clamps;
    std::uint32_t round = F;
    if (conditional) {
      // One sample per free copy and input: the state after the run's last sweep.
      round = static_cast<std::uint32_t>(std::min<std::uint64_t>(F, count - out.size()));
      for (std::uint32_t f = 0; f < round; ++f) {
        const auto& in = inputs[out.size() + f];
        for (std::size_t k = 0; k < input_nodes.size(); ++k)
          clamps.push_back({copy_nodes_[std::size_t{B + f} * n + input_nodes[k]], in[k]});
      }
      request.chains = 1;
      request.sweeps = options_.sweeps;
      request.sample_every = static_cast<std::uint32_t>(options_.sweeps);
    } else {
      const std::uint64_t per_chain_needed =
          (count - out.size() + std::uint64_t{F} * options_.chains - 1) /
          (std::uint64_t{F} * options_.chains);
      request.chains =
          static_cast<std::uint32_t>(std::min<std::uint64_t>(options_.chains, record_limit));
      const std::uint64_t per_chain =
          std::max<std::uint64_t>(1, std::min({options_.sweeps / options_.sample_every,
                                               record_limit / request.chains, per_chain_needed}));
      request.sample_every = options_.sample_every;
      request.sweeps = per_chain * options_.sample_every;
    }
    board_->set_clamps(clamps, deadline);
    const driver::SamplingResult r = board_->sample(request, deadline);
    chains_started_ = true;
    // Ledger: unclamped board nodes every sweep of every chain; a GPU would update the free
    // copies' unclamped model nodes (inputs excepted), reading their couplings.
    const std::uint64_t chain_sweeps = (request.burn_in_sweeps + request.sweeps) * request.chains;
    sweeps_total += request.burn_in_sweeps + request.sweeps;
    work.node_updates += (board_->nodes() - clamps.size()) * chain_sweeps;
    work.codes_written += clamps.size();
    work.values_read += r.samples_bits.size() * 8;
    work.gpu_node_updates += (std::uint64_t{round} * (n - input_nodes.size())) * chain_sweeps;
    work.gpu_coupling_reads += std::uint64_t{round} * model_reads * chain_sweeps;
    ++s.runs;
    s.chains = request.chains;
    s.sweeps = request.burn_in_sweeps + request.sweeps;
    for (std::uint64_t k = 0; k < r.recorded_samples() && out.size() < count; ++k) {
      for (std::uint32_t f = 0; f < round && out.size() < count; ++f)
        out.push_back(copy_visible(r, k, f));
    }
  }
  s.step = steps_done_;
  s.beta = board_->pbit().beta.to_physical(std::int64_t{beta_codes_.back()});
  s.free_copies = F;
  s.samples = out.size();
  s.rounding = to_string(Rounding::kNearest);
  s.placement = placement_given_ ? "given" : "embedded";
  job.finish(s, sweeps_total, work, 0.0);
  return result;
}

}  // namespace kelvin::runtime
