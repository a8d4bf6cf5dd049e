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
  std::vector<std::vector<int>> out;
  if (count == 0)
    return out;
  const detail::PbitJob job(*board_, options_.timeout);
  const common::Deadline deadline = job.deadline();
  const std::uint32_t n = model_.nodes, B = options_.batch, F = options_.free_copies;
  // The free copies are copies B .. B + F - 1; the clamped copies' region is programmed too
  // (the layout's copies share one program), with no clamps it just samples along.
  board_->program_lattice(lattice_program_of(codes(steps_done_, Rounding::kNearest), B + F),
                          deadline);
  board_->set_beta_schedule(beta_codes_, deadline);
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
    for (std::uint64_t k = 0; k < r.recorded_samples() && out.size() < count; ++k) {
      for (std::uint32_t f = 0; f < round && out.size() < count; ++f)
        out.push_back(copy_visible(r, k, f));
    }
  }
  return out;
}

}  // namespace kelvin::runtime
