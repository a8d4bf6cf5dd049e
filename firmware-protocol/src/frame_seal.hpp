// Internal to firmware-protocol: finishing a frame whose payload was written in place, so that
// encode_envelope() serializes a message straight into its frame (no payload buffer, no copy).
//
// Thread contract: a pure function on the caller's buffer, safe from any thread.
#pragma once

#include <cstdint>
#include <span>

namespace kelvin::firmware_protocol::detail {

// `frame` is kFrameOverheadBytes + payload bytes, with the payload already at kFrameHeaderBytes:
// writes the header (magic, version, flags, length, header CRC) and the payload CRC trailer.
void seal_frame(std::span<std::uint8_t> frame) noexcept;

}  // namespace kelvin::firmware_protocol::detail
