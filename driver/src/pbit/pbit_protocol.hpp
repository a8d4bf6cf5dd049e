// Wire mapping of the p-bit board: builds request Envelopes from host values and checks the
// shape of replies. No validation of user intent lives here (that is pbit_board.cpp). Acks and
// ReadResults are shared with every board family (run_protocol.hpp).
#pragma once

#include <cstdint>
#include <span>

#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/wire/v1/kelvin.pb.h"

namespace kelvin::driver::pbit_protocol {

wire::v1::Envelope program_lattice(std::uint32_t nodes, std::span<const std::int8_t> weights,
                                   std::span<const std::int8_t> biases);
wire::v1::Envelope set_clamps(std::span<const PbitClamp> clamps);
wire::v1::Envelope set_beta_schedule(std::span<const std::uint32_t> beta_codes);
wire::v1::Envelope start_sampling(const SamplingRequest& request);

// Reply checks: throw Error(kProtocol) when the reply is not the expected message or its sizes
// disagree with the board's description.
SamplingTicket parse_run_started(const wire::v1::Envelope& reply);
SamplingResult parse_sampling_results(const wire::v1::Envelope& reply,
                                      const protocol::PbitLattice& lattice,
                                      std::uint64_t expected_run_id);

}  // namespace kelvin::driver::pbit_protocol
