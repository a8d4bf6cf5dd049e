// Envelope <-> frame bytes: the one place where protobuf serialization meets the framing layer.
//
// Thread contract: all functions are pure and safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "kelvin/firmware_protocol/framing.hpp"
#include "kelvin/firmware_protocol/version.hpp"
#include "kelvin/firmware_protocol/wire.pb.h"

namespace kelvin::firmware_protocol {

// The payload of a well-formed frame was not a valid Envelope.
class MessageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Serializes and frames an envelope. Throws FrameError(kTooLarge) past max_payload.
std::vector<std::uint8_t> encode_envelope(const firmware_protocol::wire::Envelope& envelope,
                                          std::size_t max_payload = kMaxFramePayload);

// Parses a frame payload. Throws MessageError if it is not a valid Envelope.
firmware_protocol::wire::Envelope parse_envelope(std::span<const std::uint8_t> payload);

// Name of the body case, for logs and error messages ("start_run", "none", ...).
std::string body_name(const firmware_protocol::wire::Envelope& envelope);

}  // namespace kelvin::firmware_protocol
