#include "pbit_protocol.hpp"

#include "run_protocol.hpp"

#include <string>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"

namespace kelvin::driver::pbit_protocol {

using common::Error;
using common::ErrorKind;
namespace {

std::string pack_i8(std::span<const std::int8_t> codes) {
  return {reinterpret_cast<const char*>(codes.data()), codes.size()};
}

}  // namespace

firmware_protocol::wire::Envelope program_lattice(std::uint32_t nodes,
                                                  std::span<const std::int8_t> weights,
                                                  std::span<const std::int8_t> biases) {
  firmware_protocol::wire::Envelope env;
  auto* msg = env.mutable_program_lattice();
  msg->set_nodes(nodes);
  msg->set_weights_i8(pack_i8(weights));
  msg->set_biases_i8(pack_i8(biases));
  return env;
}

firmware_protocol::wire::Envelope set_clamps(std::span<const PbitClamp> clamps) {
  firmware_protocol::wire::Envelope env;
  auto* msg = env.mutable_set_clamps();
  std::string values;
  for (const PbitClamp& c : clamps) {
    msg->add_nodes(c.node);
    values.push_back(static_cast<char>(static_cast<std::int8_t>(c.value)));
  }
  msg->set_values_i8(values);
  return env;
}

firmware_protocol::wire::Envelope set_beta_schedule(std::span<const std::uint32_t> beta_codes) {
  firmware_protocol::wire::Envelope env;
  env.mutable_set_beta_schedule()->mutable_beta_codes()->Assign(beta_codes.begin(),
                                                                beta_codes.end());
  return env;
}

firmware_protocol::wire::Envelope start_sampling(const SamplingRequest& request) {
  firmware_protocol::wire::Envelope env;
  auto* msg = env.mutable_start_sampling();
  msg->set_sweeps(request.sweeps);
  msg->set_chains(request.chains);
  msg->set_burn_in_sweeps(request.burn_in_sweeps);
  msg->set_sample_every(request.sample_every);
  msg->set_accumulate_moments(request.accumulate_moments);
  msg->set_record_samples(request.record_samples);
  msg->set_reset_state(request.reset_state);
  msg->mutable_chain_beta_codes()->Assign(request.chain_beta_codes.begin(),
                                          request.chain_beta_codes.end());
  return env;
}

SamplingTicket parse_run_started(const firmware_protocol::wire::Envelope& reply) {
  const auto t = run_protocol::parse_run_started(reply);
  return SamplingTicket{t.run_id, t.first_tick, t.sample_count};
}

SamplingResult parse_sampling_results(const firmware_protocol::wire::Envelope& reply,
                                      const firmware_protocol::PbitLattice& lattice,
                                      std::uint64_t expected_run_id) {
  if (!reply.has_sampling_results())
    run_protocol::unexpected_reply(reply, "sampling_results");
  const auto& msg = reply.sampling_results();
  const std::size_t n = lattice.nodes();
  const std::size_t edges = lattice.edges().size();
  auto check = [](bool ok, const std::string& what) {
    if (!ok)
      throw Error(ErrorKind::kProtocol, "malformed sampling results: " + what);
  };
  check(msg.run_id() == expected_run_id,
        fmt::format("results of run {} where run {} was asked for", msg.run_id(), expected_run_id));
  check(msg.nodes() == n, fmt::format("{} nodes, board has {}", msg.nodes(), n));
  check(static_cast<std::size_t>(msg.spin_sums_size()) == n,
        fmt::format("{} spin sums for {} nodes", msg.spin_sums_size(), n));
  check(msg.edge_sums_size() == 0 || static_cast<std::size_t>(msg.edge_sums_size()) == edges,
        fmt::format("{} edge sums, expected {}", msg.edge_sums_size(), edges));
  const std::size_t per_sample = (n + 7) / 8;
  check(msg.samples_bits().empty() || msg.samples_bits().size() == msg.sample_count() * per_sample,
        fmt::format("{} bytes of samples for {} samples of {} nodes", msg.samples_bits().size(),
                    msg.sample_count(), n));

  SamplingResult result;
  result.run_id = msg.run_id();
  result.nodes = msg.nodes();
  result.chains = msg.chains();
  result.sweeps = msg.sweeps();
  result.first_tick = msg.first_tick();
  result.sample_count = msg.sample_count();
  result.spin_sums.assign(msg.spin_sums().begin(), msg.spin_sums().end());
  result.edge_sums.assign(msg.edge_sums().begin(), msg.edge_sums().end());
  result.samples_bits.assign(msg.samples_bits().begin(), msg.samples_bits().end());
  result.overflow_count = msg.overflow_count();
  return result;
}

}  // namespace kelvin::driver::pbit_protocol
