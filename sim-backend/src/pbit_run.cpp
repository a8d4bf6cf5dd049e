// PbitModel's sampling runs: the chains' sweeps (the scalar reference loop, or the vector sweep
// of pbit_lanes.hpp for groups of up to 32 chains), on-board accumulation and recording, and
// the spread of the chains over one or two threads.
#include <algorithm>
#include <bit>
#include <cstdlib>
#include <optional>
#include <span>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "kelvin/sim_backend/pbit_model.hpp"
#include "pbit_lanes.hpp"

namespace kelvin::sim_backend {
namespace {

namespace reg = pbit;
using Edge = std::pair<std::uint32_t, std::uint32_t>;

constexpr std::uint32_t kInitStream = std::uint32_t{1} << 31;
constexpr std::uint64_t kPowerCheckInterval = 256;  // sweeps
// Fewer chains than this in a group run faster on the scalar loop (a vector sweep costs the
// same for 1 or 32 lanes: measured break-even about 5 on the bench's 70x70 board).
constexpr std::uint32_t kMinLaneChains = 4;

bool vector_cpu() noexcept {
  static const bool available = detail::lane_kernel_available();
  return available;
}

}  // namespace

// What every chain of a run shares.
struct PbitModel::RunPlan {
  RunPlan(const SamplingTicket& t, const SamplingRequest& r) : ticket(t), request(r) {}
  const SamplingTicket& ticket;
  const SamplingRequest& request;
  std::uint64_t total = 0;      // sweeps, burn-in included
  std::uint64_t per_chain = 0;  // samples per chain
  // Free nodes by colour, row-major within a colour; kind per node (pbit_lanes.hpp).
  std::array<std::vector<std::uint32_t>, 2> free_nodes;
  std::vector<std::uint8_t> kind;

  // Whether the chain is sampled after sweep k, `taken` samples in.
  bool sampled(std::uint64_t k, std::uint64_t taken) const noexcept {
    return k >= request.burn_in_sweeps && taken < per_chain &&
           (k - request.burn_in_sweeps + 1) % request.sample_every == 0;
  }
};

bool PbitModel::uses_vector_sweep() const noexcept {
  return vector_sweep_ && sigmoid_gain_.empty() && config_.defects.noisy.empty() &&
         config_.defects.offset.empty() && vector_cpu();
}

void PbitModel::build_lane_tables() {
  const std::uint32_t n = nodes();
  auto t = std::make_shared<detail::LaneTables>();
  t->nodes = n;
  for (std::uint32_t i = 0; i < n; ++i)
    t->row_length = std::max(t->row_length, row_start_[i + 1] - row_start_[i]);
  t->neighbour.assign(std::size_t{n} * t->row_length, n);
  t->weight.assign(std::size_t{n} * t->row_length, 0);
  t->twice_weight.assign(std::size_t{n} * t->row_length, 0);
  t->base.resize(n);
  t->start.resize(n);
  t->window.resize(n);
  t->wide.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    std::int32_t sum = 0;
    std::int32_t magnitude = 0;  // A_i
    for (std::uint32_t p = row_start_[i]; p < row_start_[i + 1]; ++p) {
      const std::size_t slot = std::size_t{i} * t->row_length + (p - row_start_[i]);
      t->neighbour[slot] = col_node_[p];
      t->weight[slot] = col_weight_[p];
      t->twice_weight[slot] = static_cast<std::int16_t>(2 * col_weight_[p]);
      sum += col_weight_[p];
      magnitude += std::abs(col_weight_[p]);
    }
    t->base[i] = static_cast<std::int16_t>(biases_[i] + sum + detail::kFieldHalfRange);
    t->start[i] = static_cast<std::int16_t>((sum + magnitude) / 2);
    const auto at = static_cast<std::uint32_t>(biases_[i] - magnitude + detail::kWindowLow);
    t->window[i] = static_cast<std::uint16_t>((at & 1) * detail::kWindowStride + at / 2);
    t->wide[i] = magnitude >= 64 ? 1 : 0;
  }
  lane_tables_ = std::move(t);
}

void PbitModel::prepare_chain(std::uint32_t chain, const SamplingTicket& ticket,
                              const SamplingRequest& request) {
  const std::uint32_t n = nodes();
  std::int8_t* s = spins_.data() + std::size_t{chain} * n;
  if (request.reset_state) {
    for (std::uint32_t b = 0; b * 4 < n; ++b) {
      const auto words = rng_.block(ticket.first_sweep, chain, b | kInitStream);
      for (std::uint32_t i = b * 4; i < std::min(n, b * 4 + 4); ++i)
        s[i] = (words[i % 4] >> 31) != 0 ? 1 : -1;
    }
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    if (!node_defects_.empty() && (node_defects_[i] & kStuck) != 0)
      s[i] = 1;  // stuck:C reads, and drives its neighbours with, +1
    else if (clamp_[i] != 0)
      s[i] = clamp_[i];
  }
}

void PbitModel::run_chain(std::uint32_t chain, const RunPlan& plan, Accumulator& acc,
                          std::string& samples_bits, std::atomic<bool>& aborted) {
  const SamplingRequest& request = plan.request;
  prepare_chain(chain, plan.ticket, request);
  const std::uint32_t n = nodes();
  std::int8_t* s = spins_.data() + std::size_t{chain} * n;
  const std::uint32_t blocks = (n + 3) / 4;
  std::vector<std::uint32_t> words(std::size_t{blocks} * 4);
  const std::size_t bytes_per_sample = reg::sample_bytes(n);
  const auto& edges = lattice_.edges();
  std::uint64_t taken = 0;
  for (std::uint64_t k = 0; k < plan.total; ++k) {
    if (k % kPowerCheckInterval == 0 && (!powered() || aborted.load(std::memory_order_relaxed))) {
      aborted.store(true, std::memory_order_relaxed);
      return;
    }
    // A chain's own code overrides the schedule; the RNG keying does not depend on either.
    const std::uint32_t beta = request.chain_beta_codes.empty()
                                   ? schedule_[std::min<std::uint64_t>(k, schedule_.size() - 1)]
                                   : request.chain_beta_codes[chain];
    for (std::uint32_t b = 0; b < blocks; ++b) {
      const auto w = rng_.block(plan.ticket.first_sweep + k, chain, b);
      std::copy(w.begin(), w.end(), words.begin() + std::ptrdiff_t{4} * b);
    }
    for (const auto& colour : plan.free_nodes) {
      for (const std::uint32_t i : colour) {
        std::int32_t h = biases_[i];
        for (std::uint32_t p = row_start_[i]; p < row_start_[i + 1]; ++p)
          h += col_weight_[p] * s[col_node_[p]];
        const std::uint32_t t = !sigmoid_gain_.empty() ? flawed_threshold(i, beta, h)
                                : node_defects_.empty() || node_defects_[i] == 0
                                    ? threshold(beta, h)
                                    : defective_threshold(node_defects_[i], beta, h);
        s[i] = (words[i] >> (32 - reg::kRngBits)) < t ? 1 : -1;
      }
    }
    if (!plan.sampled(k, taken))
      continue;
    for (std::uint32_t i = 0; i < n; ++i)
      acc.spin_sums[i] += s[i];
    if (request.accumulate_moments) {
      for (std::size_t e = 0; e < edges.size(); ++e)
        acc.edge_sums[e] += s[edges[e].first] * s[edges[e].second];
    }
    if (request.record_samples) {
      const std::size_t base = (std::size_t{chain} * plan.per_chain + taken) * bytes_per_sample;
      for (std::uint32_t i = 0; i < n; ++i) {
        if (s[i] > 0)
          samples_bits[base + i / 8] =
              static_cast<char>(samples_bits[base + i / 8] | (1 << (i % 8)));
      }
    }
    ++taken;
  }
}

void PbitModel::run_lanes(std::uint32_t first, std::uint32_t count, const RunPlan& plan,
                          Accumulator& acc, std::string& samples_bits, std::atomic<bool>& aborted) {
  const SamplingRequest& request = plan.request;
  const std::uint32_t n = nodes();
  // Lane l holds chain first + l: bit l of negative[i] is set while its node i reads -1.
  std::vector<std::uint32_t> negative(std::size_t{n} + 1, 0);
  for (std::uint32_t l = 0; l < count; ++l) {
    prepare_chain(first + l, plan.ticket, request);
    const std::int8_t* s = spins_.data() + std::size_t{first + l} * n;
    for (std::uint32_t i = 0; i < n; ++i)
      negative[i] |= static_cast<std::uint32_t>(s[i] < 0) << l;
  }
  const std::uint32_t active = count == 32 ? ~std::uint32_t{0} : (std::uint32_t{1} << count) - 1;
  std::vector<std::uint32_t> scratch(plan.free_nodes[1].size() * detail::kLaneWidth);
  // Thresholds per field value, filled with threshold() itself: one table for the schedule's
  // beta, or one per lane for chain betas.
  const bool per_lane = !request.chain_beta_codes.empty();
  std::vector<std::uint32_t> table(per_lane ? count * detail::kThresholdEntries : 0);
  std::vector<std::uint16_t> window(per_lane ? 0 : 2 * detail::kWindowEntries);
  std::array<std::int32_t, detail::kLaneWidth> lane_offset{};
  const auto fill = [&](std::uint32_t beta, std::uint32_t* out) {
    for (std::int32_t h = -detail::kFieldHalfRange; h <= detail::kFieldHalfRange; ++h)
      out[h + detail::kFieldHalfRange] = threshold(beta, h);
  };
  const auto fill_window = [&](std::uint32_t beta) {
    for (std::uint32_t q = 0; q < 2; ++q) {
      for (std::uint32_t j = 0; j < detail::kWindowStride; ++j) {
        const auto h = static_cast<std::int32_t>(2 * j + q) - detail::kWindowLow;
        const std::uint32_t t = threshold(beta, h);
        window[q * detail::kWindowStride + j] = static_cast<std::uint16_t>(t >> 8);
        window[detail::kWindowEntries + q * detail::kWindowStride + j] =
            static_cast<std::uint16_t>(t & 0xff);
      }
    }
  };
  if (per_lane) {
    for (std::uint32_t l = 0; l < count; ++l) {
      lane_offset[l] = static_cast<std::int32_t>(l * detail::kThresholdEntries);
      fill(request.chain_beta_codes[first + l], table.data() + lane_offset[l]);
    }
  }
  detail::LaneSweep sweep;
  sweep.tables = lane_tables_.get();
  sweep.kind = plan.kind.data();
  sweep.seed = rng_.seed();
  sweep.first_chain = first;
  sweep.threshold = table.data();
  sweep.window_hi = per_lane ? nullptr : window.data();
  sweep.window_lo = per_lane ? nullptr : window.data() + detail::kWindowEntries;
  sweep.lane_offset = lane_offset.data();
  sweep.negative = negative.data();
  sweep.scratch = scratch.data();
  const std::size_t bytes_per_sample = reg::sample_bytes(n);
  const auto& edges = lattice_.edges();
  std::optional<std::uint32_t> table_beta;
  std::uint64_t taken = 0;
  for (std::uint64_t k = 0; k < plan.total; ++k) {
    if (k % kPowerCheckInterval == 0 && (!powered() || aborted.load(std::memory_order_relaxed))) {
      aborted.store(true, std::memory_order_relaxed);
      break;
    }
    if (!per_lane) {
      const std::uint32_t beta = schedule_[std::min<std::uint64_t>(k, schedule_.size() - 1)];
      if (table_beta != beta)
        fill_window(beta);
      table_beta = beta;
    }
    sweep.sweep = plan.ticket.first_sweep + k;
    detail::lane_sweep(sweep);
    if (!plan.sampled(k, taken))
      continue;
    detail::lane_sums(negative.data(), active, std::span(acc.spin_sums),
                      request.accumulate_moments ? std::span(edges) : std::span<const Edge>(),
                      std::span(acc.edge_sums));
    if (request.record_samples) {
      for (std::uint32_t i = 0; i < n; ++i) {
        for (std::uint32_t plus = ~negative[i] & active; plus != 0; plus &= plus - 1) {
          const auto l = static_cast<std::uint32_t>(std::countr_zero(plus));
          const std::size_t at =
              (std::size_t{first + l} * plan.per_chain + taken) * bytes_per_sample + i / 8;
          samples_bits[at] = static_cast<char>(samples_bits[at] | (1 << (i % 8)));
        }
      }
    }
    ++taken;
  }
  for (std::uint32_t l = 0; l < count; ++l) {
    std::int8_t* s = spins_.data() + std::size_t{first + l} * n;
    for (std::uint32_t i = 0; i < n; ++i)
      s[i] = ((negative[i] >> l) & 1) != 0 ? -1 : 1;
  }
}

void PbitModel::execute(const SamplingTicket& ticket) {
  if (!pending_ || pending_->first.run_id != ticket.run_id)
    throw std::logic_error(fmt::format("run {} is not the pending run", ticket.run_id));
  const SamplingRequest request = pending_->second;
  pending_.reset();

  const std::uint32_t n = nodes();
  const std::size_t edges = lattice_.edges().size();
  SamplingRecord record;
  record.ticket = ticket;
  record.request = request;
  if (request.record_samples)
    record.samples_bits.assign(ticket.sample_count * reg::sample_bytes(n), '\0');
  RunPlan plan(ticket, request);
  plan.total = request.burn_in_sweeps + request.sweeps;
  plan.per_chain = request.sweeps / request.sample_every;
  plan.kind.assign(n, detail::kFixedNode);
  for (std::uint32_t i = 0; i < n; ++i) {
    if ((node_defects_.empty() || (node_defects_[i] & kStuck) == 0) && clamp_[i] == 0) {
      plan.kind[i] = static_cast<std::uint8_t>(lattice_.colour(i));
      plan.free_nodes[lattice_.colour(i)].push_back(i);
    }
  }

  // Chains [0, split) on this thread, [split, chains) on a worker; on the vector sweep each
  // half is one group of at most 32 lanes. Each chain writes only its own spins and record
  // region; the integer sums are added afterwards, so the results are the same for any split.
  const unsigned workers = (threads_ >= 2 && request.chains >= 2) ? 2 : 1;
  const bool lanes = uses_vector_sweep();
  const std::uint32_t split = workers == 2 || (lanes && request.chains > detail::kLaneWidth)
                                  ? request.chains / 2
                                  : request.chains;
  std::vector<Accumulator> acc(workers);
  for (Accumulator& a : acc) {
    a.spin_sums.assign(n, 0);
    if (request.accumulate_moments)
      a.edge_sums.assign(edges, 0);
  }
  std::atomic<bool> aborted{false};
  const auto run_range = [&](std::uint32_t first, std::uint32_t last, Accumulator& a) {
    if (lanes && last - first >= kMinLaneChains) {
      run_lanes(first, last - first, plan, a, record.samples_bits, aborted);
      return;
    }
    for (std::uint32_t c = first; c < last; ++c)
      run_chain(c, plan, a, record.samples_bits, aborted);
  };
  if (workers == 2) {
    std::exception_ptr failure;
    std::thread worker([&] {
      try {
        run_range(split, request.chains, acc[1]);
      } catch (...) {
        failure = std::current_exception();
        aborted.store(true);
      }
    });
    try {
      run_range(0, split, acc[0]);
    } catch (...) {
      aborted.store(true);
      worker.join();
      throw;
    }
    worker.join();
    if (failure)
      std::rethrow_exception(failure);
  } else {
    run_range(0, split, acc[0]);
    run_range(split, request.chains, acc[0]);
  }
  if (aborted.load()) {
    log_->debug("power off during run {}: no results stored", ticket.run_id);
    return;
  }
  record.spin_sums = std::move(acc[0].spin_sums);
  record.edge_sums = std::move(acc[0].edge_sums);
  for (std::size_t t = 1; t < acc.size(); ++t) {
    for (std::size_t i = 0; i < n; ++i)
      record.spin_sums[i] += acc[t].spin_sums[i];
    for (std::size_t e = 0; e < acc[t].edge_sums.size(); ++e)
      record.edge_sums[e] += acc[t].edge_sums[e];
  }

  if (const auto dropped = results_.push(std::move(record)))
    log_->debug("result buffer full: dropped unread run {}", *dropped);
}

}  // namespace kelvin::sim_backend
