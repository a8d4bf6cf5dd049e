#include "kelvin/sim_backend/pbit_model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "kelvin/common/logging.hpp"

namespace kelvin::sim_backend {
namespace {

namespace reg = pbit;

[[noreturn]] void invalid(const std::string& message) {
  throw BoardError(BoardErrorCode::kInvalidArgument, message);
}

[[noreturn]] void out_of_range(const std::string& message) {
  throw BoardError(BoardErrorCode::kOutOfRange, message);
}

void check_length(const char* what, std::size_t expected, std::size_t got) {
  if (got != expected)
    invalid(fmt::format("{} must hold {} bytes, got {}", what, expected, got));
}

std::size_t varint_bytes(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Upper bound of the encoded size of a SamplingResults envelope: every sum is at most
// sample_count in magnitude, so its zigzag varint takes at most varint_bytes(2 sample_count).
std::size_t worst_case_results_bytes(std::size_t nodes, std::size_t edges, std::uint64_t samples,
                                     bool moments, bool record) {
  constexpr std::size_t kFixed = 256;  // envelope header, scalar fields, tags and lengths
  const std::size_t per_sum = varint_bytes(2 * samples + 1);
  std::size_t bytes = kFixed + per_sum * nodes;
  if (moments)
    bytes += per_sum * edges;
  if (record)
    bytes +=
        static_cast<std::size_t>(samples) * reg::sample_bytes(static_cast<std::uint32_t>(nodes));
  return bytes;
}

std::array<std::uint32_t, reg::kLutEntries> build_lut() {
  std::array<std::uint32_t, reg::kLutEntries> lut{};
  for (std::size_t k = 0; k < lut.size(); ++k) {
    const double x = (static_cast<double>(k) - static_cast<double>(reg::kLutHalfRange)) / 256.0;
    const double p = 1.0 / (1.0 + std::exp(-x));
    lut[k] = static_cast<std::uint32_t>(std::llround(p * 16777216.0));
  }
  return lut;
}

}  // namespace

const std::array<std::uint32_t, reg::kLutEntries>& PbitModel::lut() {
  static const std::array<std::uint32_t, reg::kLutEntries> table = build_lut();
  return table;
}

std::uint32_t PbitModel::threshold(std::uint32_t beta_code, std::int32_t h) noexcept {
  const std::int64_t x = std::clamp<std::int64_t>(2 * std::int64_t{beta_code} * h,
                                                  -reg::kLutHalfRange, reg::kLutHalfRange);
  return lut()[static_cast<std::size_t>(x + reg::kLutHalfRange)];
}

PbitModel::PbitModel(const PbitConfig& config)
    : config_(config),
      lattice_((config.validate(),
                firmware_protocol::make_pbit_lattice(config.rows, config.cols, config.degree))),
      rng_(config.seed),
      log_(common::logger("kelvin.sim")) {
  const std::uint32_t n = lattice_.nodes();
  weights_.assign(lattice_.edges().size(), 0);
  biases_.assign(n, 0);
  clamp_.assign(n, 0);
  row_start_.assign(std::size_t{n} + 1, 0);
  spins_.assign(std::size_t{reg::kMaxChains} * n, 1);
  const BoardDefects& defects = config_.defects;
  if (!defects.stuck.empty() || !defects.noisy.empty() || !defects.offset.empty()) {
    node_defects_.assign(n, 0);
    const auto mark = [&](const std::vector<std::uint32_t>& list, std::uint8_t bit) {
      for (const std::uint32_t c : list)
        node_defects_[c] = static_cast<std::uint8_t>(node_defects_[c] | bit);
    };
    mark(defects.stuck, kStuck);
    mark(defects.noisy, kNoisy);
    mark(defects.offset, kOffset);
  }
  if (!config_.imperfections.ideal_board()) {
    PbitImperfections flaws =
        draw_pbit_imperfections(config_.effective_serial(), n, config_.imperfections);
    sigmoid_gain_ = std::move(flaws.sigmoid_gain);
    sigmoid_offset_ = std::move(flaws.sigmoid_offset);
  }
  build_lane_tables();
  if (!defects.none())
    log_->info("p-bit board {} has injected defects: {}", config_.effective_serial(),
               to_string(defects));
  log_->debug("p-bit board {} powered up: {}x{} degree {}, {} edges, seed {}",
              config_.effective_serial(), config_.rows, config_.cols, config_.degree,
              lattice_.edges().size(), config_.seed);
}

PbitModel::~PbitModel() = default;

void PbitModel::program_lattice(std::uint32_t nodes, std::span<const std::uint8_t> weights_i8,
                                std::span<const std::uint8_t> biases_i8) {
  const std::uint32_t n = lattice_.nodes();
  if (nodes != n)
    invalid(fmt::format("ProgramLattice.nodes must equal the board's {} nodes, got {}", n, nodes));
  const auto& edges = lattice_.edges();
  check_length("ProgramLattice.weights_i8 (one int8 per edge)", edges.size(), weights_i8.size());
  check_length("ProgramLattice.biases_i8 (one int8 per node)", n, biases_i8.size());
  std::vector<std::int8_t> weights(edges.size());
  for (std::size_t e = 0; e < edges.size(); ++e) {
    const auto j = static_cast<std::int8_t>(weights_i8[e]);
    if (j < -reg::kWeightMaxMagnitude || j > reg::kWeightMaxMagnitude) {
      out_of_range(fmt::format("weight {} of edge {} (nodes {}, {}) is outside [{}, {}]", j, e,
                               edges[e].first, edges[e].second, -reg::kWeightMaxMagnitude,
                               reg::kWeightMaxMagnitude));
    }
    weights[e] = j;
  }
  std::vector<std::int8_t> biases(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto b = static_cast<std::int8_t>(biases_i8[i]);
    if (b < -reg::kBiasMaxMagnitude) {
      out_of_range(fmt::format("bias {} of node {} is outside [{}, {}]", b, i,
                               -reg::kBiasMaxMagnitude, reg::kBiasMaxMagnitude));
    }
    biases[i] = b;
  }
  for (const std::uint32_t c : config_.defects.bias_dead)  // bias_dead:C acts as code 0
    biases[c] = 0;
  // Commit, with the non-zero couplings of every node for the sweep loop (open:I-J edges left
  // out: they carry no weight).
  weights_ = std::move(weights);
  biases_ = std::move(biases);
  for (const auto& [i, j] : config_.defects.open)
    weights_[*lattice_.edge_index(i, j)] = 0;
  col_node_.clear();
  col_weight_.clear();
  for (std::uint32_t i = 0; i < n; ++i) {
    row_start_[i] = static_cast<std::uint32_t>(col_node_.size());
    for (const firmware_protocol::PbitNeighbour& nb : lattice_.neighbours(i)) {
      if (weights_[nb.edge] != 0) {
        col_node_.push_back(nb.node);
        col_weight_.push_back(weights_[nb.edge]);
      }
    }
  }
  row_start_[n] = static_cast<std::uint32_t>(col_node_.size());
  build_lane_tables();
}

void PbitModel::set_clamps(std::span<const std::uint32_t> nodes,
                           std::span<const std::uint8_t> values_i8) {
  const std::uint32_t n = lattice_.nodes();
  if (values_i8.size() != nodes.size()) {
    invalid(fmt::format("SetClamps lists {} nodes but {} values", nodes.size(), values_i8.size()));
  }
  std::vector<std::int8_t> clamp(n, 0);
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    const std::uint32_t node = nodes[k];
    if (node >= n)
      out_of_range(fmt::format("clamped node {} is outside the board's {} nodes", node, n));
    const auto value = static_cast<std::int8_t>(values_i8[k]);
    if (value != 1 && value != -1)
      out_of_range(fmt::format("clamp value {} of node {} is not +1 or -1", value, node));
    if (clamp[node] != 0)
      invalid(fmt::format("node {} is clamped twice", node));
    clamp[node] = value;
  }
  clamp_ = std::move(clamp);
}

void PbitModel::set_beta_schedule(std::span<const std::uint32_t> beta_codes) {
  if (beta_codes.empty() || beta_codes.size() > reg::kMaxScheduleLength) {
    invalid(fmt::format("a beta schedule holds 1 to {} codes, got {}", reg::kMaxScheduleLength,
                        beta_codes.size()));
  }
  for (std::size_t k = 0; k < beta_codes.size(); ++k) {
    if (beta_codes[k] > reg::kBetaMaxCode) {
      out_of_range(fmt::format("beta code {} at schedule index {} is outside [0, {}]",
                               beta_codes[k], k, reg::kBetaMaxCode));
    }
  }
  schedule_.assign(beta_codes.begin(), beta_codes.end());
}

void PbitModel::set_threads(unsigned threads) {
  if (threads < 1 || threads > 2)
    throw std::invalid_argument(fmt::format("p-bit model threads must be 1 or 2, got {}", threads));
  threads_ = threads;
}

std::span<const std::int8_t> PbitModel::spins(std::uint32_t chain) const {
  if (chain >= reg::kMaxChains)
    throw std::out_of_range(fmt::format("chain {} of {}", chain, reg::kMaxChains));
  return {spins_.data() + std::size_t{chain} * nodes(), nodes()};
}

void PbitModel::finish_pending() {
  if (pending_)
    execute(pending_->first);
}

SamplingTicket PbitModel::begin_run(const SamplingRequest& request) {
  finish_pending();  // runs happen one after another
  if (request.sweeps == 0 || request.sweeps > reg::kMaxSweeps)
    invalid(fmt::format("StartSampling.sweeps must be in [1, {}], got {}", reg::kMaxSweeps,
                        request.sweeps));
  if (request.chains == 0 || request.chains > reg::kMaxChains)
    invalid(fmt::format("StartSampling.chains must be in [1, {}], got {}", reg::kMaxChains,
                        request.chains));
  if (request.burn_in_sweeps > reg::kMaxSweeps)
    invalid(fmt::format("StartSampling.burn_in_sweeps must be at most {}, got {}", reg::kMaxSweeps,
                        request.burn_in_sweeps));
  if (request.sample_every == 0 || request.sample_every > request.sweeps)
    invalid(fmt::format("StartSampling.sample_every must be in [1, sweeps = {}], got {}",
                        request.sweeps, request.sample_every));
  if (!request.chain_beta_codes.empty()) {
    if (request.chain_beta_codes.size() != request.chains) {
      invalid(
          fmt::format("StartSampling.chain_beta_codes holds {} codes for {} chains (one per "
                      "chain, or none to follow the schedule)",
                      request.chain_beta_codes.size(), request.chains));
    }
    for (std::size_t c = 0; c < request.chain_beta_codes.size(); ++c) {
      if (request.chain_beta_codes[c] > reg::kBetaMaxCode) {
        out_of_range(fmt::format("beta code {} of chain {} is outside [0, {}]",
                                 request.chain_beta_codes[c], c, reg::kBetaMaxCode));
      }
    }
  }
  const std::uint64_t per_chain = request.sweeps / request.sample_every;
  const std::uint64_t samples = per_chain * request.chains;
  const std::uint32_t n = nodes();
  if (request.record_samples) {
    const std::uint64_t bits = samples * reg::sample_bytes(n) * 8;
    if (bits > reg::kMaxRecordBits) {
      throw BoardError(BoardErrorCode::kResourceExhausted,
                       fmt::format("StartSampling asks to record {} samples of {} nodes ({} bits); "
                                   "max_record_bits is {}",
                                   samples, n, bits, reg::kMaxRecordBits));
    }
  }
  const std::size_t reply_bound = worst_case_results_bytes(
      n, lattice_.edges().size(), samples, request.accumulate_moments, request.record_samples);
  if (reply_bound > reg::kMaxFramePayload) {
    throw BoardError(BoardErrorCode::kResourceExhausted,
                     fmt::format("the results of this run could take {} bytes, more than the "
                                 "frame limit of {} bytes; record fewer samples or drop "
                                 "accumulate_moments",
                                 reply_bound, reg::kMaxFramePayload));
  }
  if (pending_)
    throw std::logic_error("begin_run while an earlier run is still pending");
  SamplingTicket ticket;
  ticket.run_id = next_run_id_++;
  ticket.first_sweep = sweep_;
  ticket.first_tick = sweep_ + request.burn_in_sweeps + request.sample_every - 1;
  ticket.sample_count = samples;
  sweep_ += request.burn_in_sweeps + request.sweeps;
  pending_.emplace(ticket, request);
  return ticket;
}

const SamplingRecord& PbitModel::results(std::uint64_t run_id) const {
  return results_.find(run_id, next_run_id_);
}

void PbitModel::release(std::uint64_t run_id) noexcept {
  results_.release(run_id);
}

}  // namespace kelvin::sim_backend
