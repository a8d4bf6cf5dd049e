#include "kelvin/driver/pbit/pbit_board.hpp"

#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "pbit_protocol.hpp"
#include "run_protocol.hpp"

namespace kelvin::driver {

using common::Deadline;
using common::Error;
using common::ErrorKind;
namespace {

const std::shared_ptr<Device>& require_pbit(const std::shared_ptr<Device>& device) {
  if (!device)
    throw Error(ErrorKind::kInvalidArgument, "PbitBoard needs a device");
  const DeviceDescription& d = device->description();
  if (d.family != BoardFamily::kPbit || !d.pbit) {
    throw Error(ErrorKind::kNotSupported,
                fmt::format("{} is a {} board, not a p-bit board", device->address().to_string(),
                            to_string(d.family)));
  }
  return device;
}

firmware_protocol::PbitLattice lattice_of(const PbitDescription& p) {
  try {
    return firmware_protocol::make_pbit_lattice(p.rows, p.cols, p.degree);
  } catch (const std::invalid_argument& e) {
    throw Error(ErrorKind::kProtocol, e.what());
  }
}

}  // namespace

// ---- SamplingResult ----

double SamplingResult::mean(std::uint32_t node) const {
  if (node >= spin_sums.size())
    throw Error(ErrorKind::kInvalidArgument, fmt::format("node {} of {}", node, spin_sums.size()));
  return sample_count ? static_cast<double>(spin_sums[node]) / static_cast<double>(sample_count)
                      : 0.0;
}

double SamplingResult::edge_correlation(std::uint32_t edge) const {
  if (edge_sums.empty())
    throw Error(ErrorKind::kInvalidArgument, "the run did not accumulate moments");
  if (edge >= edge_sums.size())
    throw Error(ErrorKind::kInvalidArgument, fmt::format("edge {} of {}", edge, edge_sums.size()));
  return sample_count ? static_cast<double>(edge_sums[edge]) / static_cast<double>(sample_count)
                      : 0.0;
}

std::uint64_t SamplingResult::recorded_samples() const noexcept {
  const std::size_t per_sample = (std::size_t{nodes} + 7) / 8;
  return per_sample ? samples_bits.size() / per_sample : 0;
}

int SamplingResult::recorded_spin(std::uint64_t sample, std::uint32_t node) const {
  if (sample >= recorded_samples() || node >= nodes) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("sample {} node {} of {} recorded samples of {} nodes", sample, node,
                            recorded_samples(), nodes));
  }
  const std::size_t byte =
      static_cast<std::size_t>(sample) * ((std::size_t{nodes} + 7) / 8) + node / 8;
  return (samples_bits[byte] >> (node % 8)) & 1 ? 1 : -1;
}

// ---- PbitBoard ----

PbitBoard::PbitBoard(std::shared_ptr<Device> device)
    : device_(require_pbit(device)), lattice_(lattice_of(*device_->description().pbit)) {}

std::uint32_t PbitBoard::beta_code(double beta) const {
  return static_cast<std::uint32_t>(pbit().beta.to_code(beta));
}

void PbitBoard::program_lattice(std::span<const std::int8_t> weights,
                                std::span<const std::int8_t> biases, Deadline deadline) {
  const auto& edges = lattice_.edges();
  if (weights.size() != edges.size()) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("{} weights for the {} edges of the lattice", weights.size(), edges.size()));
  }
  if (biases.size() != nodes()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} biases for {} nodes", biases.size(), nodes()));
  }
  for (std::size_t e = 0; e < weights.size(); ++e) {
    if (!pbit().weight.contains(weights[e])) {
      throw Error(ErrorKind::kOutOfRange,
                  fmt::format("weight {} of edge {} (nodes {}, {}) is outside [{}, {}]", weights[e],
                              e, edges[e].first, edges[e].second, pbit().weight.min_code,
                              pbit().weight.max_code));
    }
  }
  for (std::size_t i = 0; i < biases.size(); ++i) {
    if (!pbit().bias.contains(biases[i])) {
      throw Error(ErrorKind::kOutOfRange,
                  fmt::format("bias {} of node {} is outside [{}, {}]", biases[i], i,
                              pbit().bias.min_code, pbit().bias.max_code));
    }
  }
  run_protocol::expect_ack(
      device_->request(pbit_protocol::program_lattice(nodes(), weights, biases), deadline),
      "program_lattice");
}

void PbitBoard::set_clamps(std::span<const PbitClamp> clamps, Deadline deadline) {
  std::set<std::uint32_t> seen;
  for (const PbitClamp& c : clamps) {
    if (c.node >= nodes()) {
      throw Error(ErrorKind::kOutOfRange,
                  fmt::format("clamped node {} is outside the board's {} nodes", c.node, nodes()));
    }
    if (c.value != 1 && c.value != -1) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("clamp value {} of node {} is not +1 or -1", c.value, c.node));
    }
    if (!seen.insert(c.node).second)
      throw Error(ErrorKind::kInvalidArgument, fmt::format("node {} is clamped twice", c.node));
  }
  run_protocol::expect_ack(device_->request(pbit_protocol::set_clamps(clamps), deadline),
                           "set_clamps");
}

void PbitBoard::set_beta_schedule(std::span<const std::uint32_t> beta_codes, Deadline deadline) {
  if (beta_codes.empty() || beta_codes.size() > pbit().max_schedule_length) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("a beta schedule holds 1 to {} codes, got {}",
                            pbit().max_schedule_length, beta_codes.size()));
  }
  for (std::size_t k = 0; k < beta_codes.size(); ++k) {
    if (!pbit().beta.contains(beta_codes[k])) {
      throw Error(ErrorKind::kOutOfRange,
                  fmt::format("beta code {} at schedule index {} is outside [{}, {}]",
                              beta_codes[k], k, pbit().beta.min_code, pbit().beta.max_code));
    }
  }
  run_protocol::expect_ack(device_->request(pbit_protocol::set_beta_schedule(beta_codes), deadline),
                           "set_beta_schedule");
}

SamplingTicket PbitBoard::start_sampling(const SamplingRequest& request, Deadline deadline) {
  const auto& d = description();
  if (request.sweeps == 0)
    throw Error(ErrorKind::kOutOfRange, "a sampling run takes at least 1 sweep");
  if (request.chains == 0 || request.chains > pbit().max_chains) {
    throw Error(ErrorKind::kOutOfRange, fmt::format("a sampling run uses 1 to {} chains, not {}",
                                                    pbit().max_chains, request.chains));
  }
  if (request.sample_every == 0 || request.sample_every > request.sweeps) {
    throw Error(ErrorKind::kOutOfRange,
                fmt::format("sample_every must be in [1, sweeps = {}], not {}", request.sweeps,
                            request.sample_every));
  }
  if (request.accumulate_moments && !d.has_capability(capability::kSecondMoments))
    throw Error(ErrorKind::kNotSupported, "this board cannot accumulate second moments");
  if (request.reset_state && !d.has_capability(capability::kStateReset))
    throw Error(ErrorKind::kNotSupported, "this board cannot reset its state");
  if (request.record_samples) {
    if (!d.has_capability(capability::kSampleRecord))
      throw Error(ErrorKind::kNotSupported, "this board cannot record samples");
    const std::uint64_t bits = request.sample_count() * ((std::uint64_t{nodes()} + 7) / 8) * 8;
    if (bits > pbit().max_record_bits) {
      throw Error(ErrorKind::kOutOfRange,
                  fmt::format("cannot record {} samples of {} nodes ({} bits; at most {})",
                              request.sample_count(), nodes(), bits, pbit().max_record_bits));
    }
  }
  if (!request.chain_beta_codes.empty()) {
    if (!d.has_capability(capability::kPerChainBeta)) {
      throw Error(
          ErrorKind::kNotSupported,
          "this board cannot give each chain its own beta (no per_chain_beta capability; "
          "it was added in protocol version 4: a board that speaks an older version lacks it)");
    }
    if (request.chain_beta_codes.size() != request.chains) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("{} chain beta codes for {} chains (one per chain, or none to "
                              "follow the beta schedule)",
                              request.chain_beta_codes.size(), request.chains));
    }
    for (std::size_t c = 0; c < request.chain_beta_codes.size(); ++c) {
      if (!pbit().beta.contains(request.chain_beta_codes[c])) {
        throw Error(
            ErrorKind::kOutOfRange,
            fmt::format("beta code {} of chain {} is outside [{}, {}]", request.chain_beta_codes[c],
                        c, pbit().beta.min_code, pbit().beta.max_code));
      }
    }
  }
  return pbit_protocol::parse_run_started(
      device_->request(pbit_protocol::start_sampling(request), deadline));
}

SamplingResult PbitBoard::read_results(std::uint64_t run_id, Deadline deadline) {
  return pbit_protocol::parse_sampling_results(
      device_->request(run_protocol::read_results(run_id), deadline), lattice_, run_id);
}

SamplingResult PbitBoard::sample(const SamplingRequest& request, Deadline deadline) {
  const auto ticket = start_sampling(request, deadline);
  return read_results(ticket.run_id, deadline);
}

}  // namespace kelvin::driver
