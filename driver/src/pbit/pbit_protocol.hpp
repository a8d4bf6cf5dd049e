// Wire mapping of the p-bit board: builds request Envelopes from host values and checks the
// shape of replies. No validation of user intent lives here (that is pbit_board.cpp). Acks and
// ReadResults are shared with every board family (run_protocol.hpp).
#pragma once

#include <cstdint>
#include <span>

#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/firmware_protocol/wire.pb.h"

namespace kelvin::driver::pbit_protocol {

firmware_protocol::wire::Envelope program_lattice(std::uint32_t nodes,
                                                  std::span<const std::int8_t> weights,
                                                  std::span<const std::int8_t> biases);
firmware_protocol::wire::Envelope set_clamps(std::span<const PbitClamp> clamps);
firmware_protocol::wire::Envelope set_beta_schedule(std::span<const std::uint32_t> beta_codes);
firmware_protocol::wire::Envelope start_sampling(const SamplingRequest& request);

// Reply checks: throw Error(kProtocol) when the reply is not the expected message or its sizes
// disagree with the board's description.
SamplingTicket parse_run_started(const firmware_protocol::wire::Envelope& reply);
SamplingResult parse_sampling_results(const firmware_protocol::wire::Envelope& reply,
                                      const firmware_protocol::PbitLattice& lattice,
                                      std::uint64_t expected_run_id);

}  // namespace kelvin::driver::pbit_protocol
