// Wire mapping of the resonator board: builds request Envelopes from host values and checks
// the shape of replies. No validation of user intent lives here (that is resonator_board.cpp);
// this file only knows the protocol.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/wire/v1/kelvin.pb.h"

namespace kelvin::driver::resonator_protocol {

wire::v1::Envelope program_couplings(const SymmetricCodes& codes);
wire::v1::Envelope program_biases(std::span<const std::int16_t> codes);
wire::v1::Envelope set_noise(std::uint32_t code);
wire::v1::Envelope start_run(std::uint64_t duration_ticks, const RunRequest& request);
wire::v1::Envelope set_quartic(std::span<const std::uint16_t> codes);
wire::v1::Envelope start_stream(const StreamRequest& request);
// With from_sequence: the resumable read (protocol v6).
wire::v1::Envelope read_stream(std::uint32_t max_samples,
                               std::optional<std::uint64_t> from_sequence);
wire::v1::Envelope stop_stream();

// Reply checks: throw Error(kProtocol) when the reply is not the expected message or its sizes
// disagree with the board's description.
RunResult parse_run_results(const wire::v1::Envelope& reply, const DeviceDescription& board,
                            std::uint64_t expected_run_id);
StreamTicket parse_stream_started(const wire::v1::Envelope& reply);
StreamChunk parse_stream_data(const wire::v1::Envelope& reply, const DeviceDescription& board);

}  // namespace kelvin::driver::resonator_protocol
