// Test helper: talks to an emulated p-bit board only through encoded protocol frames (see
// board_client.hpp), with builders for the p-bit requests.
//
// Thread contract: a PbitClient is used by one test thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "board_client.hpp"
#include "kelvin/sim_backend/pbit_firmware.hpp"

namespace kelvin::sim_backend::testing {

inline std::string i8(const std::vector<int>& values) {
  std::string out;
  for (const int v : values)
    out.push_back(static_cast<char>(static_cast<std::int8_t>(v)));
  return out;
}

struct SamplingOptions {
  std::uint64_t sweeps = 100;
  std::uint32_t chains = 1;
  std::uint64_t burn_in = 0;
  std::uint32_t sample_every = 1;
  bool moments = false;
  bool record = false;
  bool reset = false;
  std::vector<std::uint32_t> chain_betas;  // v4: one beta code per chain, or empty
};

class PbitClient : public BoardClient {
 public:
  explicit PbitClient(const PbitConfig& config)
      : BoardClient(make_pbit_firmware(config), config.rows * config.cols) {}

  Envelope program_lattice(const std::vector<int>& weights, const std::vector<int>& biases) {
    Envelope e = request();
    e.mutable_program_lattice()->set_nodes(cells());
    e.mutable_program_lattice()->set_weights_i8(i8(weights));
    e.mutable_program_lattice()->set_biases_i8(i8(biases));
    return exchange(e);
  }

  Envelope set_clamps(const std::vector<std::uint32_t>& nodes, const std::vector<int>& values) {
    Envelope e = request();
    for (const auto n : nodes)
      e.mutable_set_clamps()->add_nodes(n);
    e.mutable_set_clamps()->set_values_i8(i8(values));
    return exchange(e);
  }

  Envelope set_beta_schedule(const std::vector<std::uint32_t>& codes) {
    Envelope e = request();
    auto* s = e.mutable_set_beta_schedule();
    for (const auto c : codes)
      s->add_beta_codes(c);
    return exchange(e);
  }

  Envelope start_sampling(const SamplingOptions& o) {
    Envelope e = request();
    auto* s = e.mutable_start_sampling();
    s->set_sweeps(o.sweeps);
    s->set_chains(o.chains);
    s->set_burn_in_sweeps(o.burn_in);
    s->set_sample_every(o.sample_every);
    s->set_accumulate_moments(o.moments);
    s->set_record_samples(o.record);
    s->set_reset_state(o.reset);
    for (const auto c : o.chain_betas)
      s->add_chain_beta_codes(c);
    return exchange(e);
  }

  // Starts a run and reads its results (asserting both succeed).
  firmware_protocol::wire::SamplingResults sample(const SamplingOptions& o) {
    const Envelope started = start_sampling(o);
    EXPECT_TRUE(started.has_run_started()) << started.DebugString();
    const Envelope results = read_results(started.run_started().run_id());
    EXPECT_TRUE(results.has_sampling_results()) << results.DebugString();
    return results.sampling_results();
  }
};

// Spin of `node` in recorded sample k.
inline int recorded_spin(const std::string& bits, std::uint32_t nodes, std::uint64_t sample,
                         std::uint32_t node) {
  const std::size_t byte = static_cast<std::size_t>(sample) * ((nodes + 7) / 8) + node / 8;
  return (static_cast<std::uint8_t>(bits[byte]) >> (node % 8)) & 1 ? 1 : -1;
}

}  // namespace kelvin::sim_backend::testing
