// Wire mapping of the resonator board: builds request Envelopes from host values and checks
// the shape of replies. No validation of user intent lives here (that is resonator_board.cpp);
// this file only knows the protocol.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/firmware_protocol/wire.pb.h"

namespace kelvin::driver::resonator_protocol {

firmware_protocol::wire::Envelope program_couplings(const SymmetricCodes& codes);
firmware_protocol::wire::Envelope program_biases(std::span<const std::int16_t> codes);
firmware_protocol::wire::Envelope set_noise(std::uint32_t code);
firmware_protocol::wire::Envelope start_run(std::uint64_t duration_ticks,
                                            const RunRequest& request);
firmware_protocol::wire::Envelope set_quartic(std::span<const std::uint16_t> codes);
firmware_protocol::wire::Envelope start_stream(const StreamRequest& request);
// With from_sequence: the resumable read (since protocol v6).
firmware_protocol::wire::Envelope read_stream(std::uint32_t max_samples,
                                              std::optional<std::uint64_t> from_sequence);
firmware_protocol::wire::Envelope stop_stream();

// Reply checks: throw Error(kProtocol) when the reply is not the expected message or its sizes
// disagree with the board's description.
RunResult parse_run_results(const firmware_protocol::wire::Envelope& reply,
                            const DeviceDescription& board, std::uint64_t expected_run_id);
StreamTicket parse_stream_started(const firmware_protocol::wire::Envelope& reply);
StreamChunk parse_stream_data(const firmware_protocol::wire::Envelope& reply,
                              const DeviceDescription& board);

}  // namespace kelvin::driver::resonator_protocol
