// BoltzmannTrainer::step() / estimate(): one board run holding the clamped and the free copies,
// the phases' moments, and the update (boltzmann_learning.hpp).
#include <cmath>

#include <fmt/format.h>

#include "boltzmann_detail.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/pbit/boltzmann_learning.hpp"
#include "pbit_job.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

namespace {

void check_values(std::span<const int> values, std::size_t size, std::size_t example,
                  const char* what) {
  if (values.size() != size) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("example {} has {} {} values; the model has {} {} nodes", example,
                            values.size(), what, size, what));
  }
  for (std::size_t k = 0; k < size; ++k) {
    if (values[k] != 1 && values[k] != -1) {
      throw Error(
          ErrorKind::kInvalidArgument,
          fmt::format("example {}: {}[{}] = {} is not +1 or -1", example, what, k, values[k]));
    }
  }
}

}  // namespace

BoltzmannStepResult BoltzmannTrainer::step(std::span<const BoltzmannExample> batch) {
  return run(batch, true);
}

BoltzmannStepResult BoltzmannTrainer::estimate(std::span<const BoltzmannExample> batch) {
  return run(batch, false);
}

BoltzmannStepResult BoltzmannTrainer::run(std::span<const BoltzmannExample> batch, bool apply) {
  const std::vector<std::uint32_t> visible = model_.nodes_with(NodeRole::kVisible);
  const std::vector<std::uint32_t> inputs = model_.nodes_with(NodeRole::kInput);
  const std::uint32_t B = options_.batch, F = options_.free_copies, copies = B + F;
  if (batch.size() != B) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("a batch of {} examples; BoltzmannOptions.batch = {}", batch.size(), B));
  }
  for (std::size_t k = 0; k < batch.size(); ++k) {
    check_values(batch[k].visible, visible.size(), k, "visible");
    check_values(batch[k].input, inputs.size(), k, "input");
  }
  const detail::PbitJob job(*board_, options_.timeout);
  const common::Deadline deadline = job.deadline();
  const std::uint32_t n = model_.nodes;
  const std::size_t m = model_.edges.size();

  BoltzmannStepResult result;
  BoltzmannStepSummary& s = result.summary;
  const std::vector<std::int64_t> c = codes(steps_done_, options_.rounding);
  for (std::size_t k = 0; k < c.size(); ++k)
    s.codes_changed += (last_codes_.empty() ? 0 : last_codes_[k]) != c[k] ? 1 : 0;
  last_codes_ = c;
  const driver::LatticeProgram program = lattice_program_of(c, copies);
  board_->program_lattice(program, deadline);
  board_->set_beta_schedule(beta_codes_, deadline);

  // Clamps: each clamped copy's visible and input nodes, and each free copy's inputs.
  std::vector<driver::PbitClamp> clamps;
  std::vector<bool> clamped(std::size_t{copies} * n, false);
  auto clamp = [&](std::uint32_t copy, const std::vector<std::uint32_t>& nodes,
                   const std::vector<int>& values) {
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      clamps.push_back({copy_nodes_[std::size_t{copy} * n + nodes[k]], values[k]});
      clamped[std::size_t{copy} * n + nodes[k]] = true;
    }
  };
  for (std::uint32_t b = 0; b < B; ++b) {
    clamp(b, visible, batch[b].visible);
    clamp(b, inputs, batch[b].input);
    if (!inputs.empty())
      clamp(B + b, inputs, batch[b].input);
  }
  board_->set_clamps(clamps, deadline);

  driver::SamplingRequest request;
  request.sweeps = options_.sweeps;
  request.chains = options_.chains;
  request.burn_in_sweeps = options_.burn_in_sweeps;
  request.sample_every = options_.sample_every;
  request.accumulate_moments = true;
  request.reset_state = !chains_started_;
  const driver::SamplingResult r = board_->sample(request, deadline);
  chains_started_ = true;
  if (r.sample_count == 0 || r.edge_sums.size() != board_->lattice().edges().size() ||
      r.spin_sums.size() != board_->nodes()) {
    throw Error(ErrorKind::kProtocol,
                fmt::format("Boltzmann run {} returned {} samples, {} spin and {} edge sums",
                            r.run_id, r.sample_count, r.spin_sums.size(), r.edge_sums.size()));
  }

  // Per copy: its nodes' means and its edges' correlations (sums over chains).
  const std::size_t stats = n + m;
  const auto samples = static_cast<double>(r.sample_count);
  std::vector<double> x(std::size_t{copies} * stats);
  for (std::uint32_t copy = 0; copy < copies; ++copy) {
    for (std::uint32_t i = 0; i < n; ++i)
      x[copy * stats + i] = static_cast<double>(r.spin_sums[copy_nodes_[copy * n + i]]) / samples;
    for (std::size_t k = 0; k < m; ++k)
      x[copy * stats + n + k] =
          static_cast<double>(r.edge_sums[copy_edges_[copy * m + k]]) / samples;
  }
  result.clamped =
      detail::reduce_copies({x.begin(), x.begin() + B * stats}, B, n, m, r.sample_count);
  result.free = detail::reduce_copies({x.begin() + B * stats, x.end()}, F, n, m, r.sample_count);

  update(result.clamped, result.free, s, apply);

  // The ledger: unclamped board nodes are updated every sweep of every chain; a GPU doing the
  // same model work updates only the copies' unclamped model nodes, reading their couplings.
  const std::uint64_t sweeps = options_.burn_in_sweeps + options_.sweeps;
  const std::uint64_t chain_sweeps = sweeps * options_.chains;
  std::vector<std::uint64_t> degree(n, 0);
  for (const auto& e : model_.edges) {
    ++degree[e.i];
    ++degree[e.j];
  }
  std::uint64_t gpu_updates = 0, gpu_reads = 0;
  for (std::size_t q = 0; q < clamped.size(); ++q) {
    if (!clamped[q]) {
      ++gpu_updates;
      gpu_reads += degree[q % n];
    }
  }
  PbitWork work;
  work.node_updates = (board_->nodes() - clamps.size()) * chain_sweeps;
  work.codes_written =
      program.weights.size() + program.biases.size() + beta_codes_.size() + clamps.size();
  work.values_read = r.spin_sums.size() + r.edge_sums.size();
  work.gpu_node_updates = gpu_updates * chain_sweeps;
  work.gpu_coupling_reads = gpu_reads * chain_sweeps;
  s.step = steps_done_;
  s.updated = apply;
  s.beta = board_->pbit().beta.to_physical(std::int64_t{beta_codes_.back()});
  s.clamped_copies = B;
  s.free_copies = F;
  s.chains = options_.chains;
  s.sweeps = sweeps;
  s.samples_per_copy = r.sample_count;
  s.runs = 1;
  s.rounding = to_string(options_.rounding);
  s.placement = placement_given_ ? "given" : "embedded";
  job.finish(s, sweeps, work, 8.0 * static_cast<double>(copies * stats));
  common::logger("kelvin.runtime")->debug("{}", s.brief_report());
  return result;
}

void BoltzmannTrainer::update(const PhaseMoments& clamped, const PhaseMoments& free,
                              BoltzmannStepSummary& s, bool apply) {
  const driver::PbitDescription& p = board_->pbit();
  const double beta = p.beta.to_physical(std::int64_t{beta_codes_.back()});
  const double lr = detail::learning_rate_at(options_, steps_done_);
  const double cap = p.weight.symmetric_limit();
  double norm2 = 0.0;
  auto ascend = [&](double& theta, double& velocity, double positive, double negative, double lo,
                    double hi) {
    const double g = beta * (positive - negative) - options_.weight_decay * theta;
    norm2 += g * g;
    if (!apply)
      return false;
    velocity = options_.momentum * velocity + g;
    theta += lr * velocity;
    const bool clip = theta < lo || theta > hi;
    theta = std::clamp(theta, lo, hi);
    return clip;
  };
  for (std::size_t k = 0; k < model_.edges.size(); ++k) {
    auto& e = model_.edges[k];
    if (e.trainable &&
        ascend(e.weight, velocity_w_[k], clamped.correlation[k], free.correlation[k], -cap, cap))
      ++s.weights_clipped;
  }
  for (std::uint32_t i = 0; i < model_.nodes; ++i) {
    if (model_.bias_is_trainable(i) && ascend(model_.bias[i], velocity_b_[i], clamped.mean[i],
                                              free.mean[i], p.bias.min_value(), p.bias.max_value()))
      ++s.biases_clipped;
  }
  s.learning_rate = lr;
  s.gradient_norm = std::sqrt(norm2);
  if (apply)
    ++steps_done_;
}

}  // namespace kelvin::runtime
