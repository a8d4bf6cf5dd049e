#include "kelvin/firmware_protocol/envelope_codec.hpp"

#include <fmt/format.h>

#include "frame_seal.hpp"

namespace kelvin::firmware_protocol {

std::vector<std::uint8_t> encode_envelope(const firmware_protocol::wire::Envelope& envelope,
                                          std::size_t max_payload) {
  const std::size_t size = envelope.ByteSizeLong();
  if (size > max_payload) {
    throw FrameError(FrameErrorKind::kTooLarge,
                     fmt::format("{} message of {} bytes exceeds the frame limit of {} bytes",
                                 body_name(envelope), size, max_payload));
  }
  // Serialized straight into the frame, which is then sealed (header and CRCs).
  std::vector<std::uint8_t> frame(kFrameOverheadBytes + size);
  if (!envelope.SerializeToArray(frame.data() + kFrameHeaderBytes, static_cast<int>(size))) {
    throw MessageError(fmt::format("could not serialize a {} message", body_name(envelope)));
  }
  detail::seal_frame(frame);
  return frame;
}

firmware_protocol::wire::Envelope parse_envelope(std::span<const std::uint8_t> payload) {
  firmware_protocol::wire::Envelope envelope;
  if (payload.size() > static_cast<std::size_t>(INT32_MAX) ||
      !envelope.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    throw MessageError(
        fmt::format("frame payload of {} bytes is not a valid Envelope", payload.size()));
  }
  return envelope;
}

std::string body_name(const firmware_protocol::wire::Envelope& envelope) {
  using E = firmware_protocol::wire::Envelope;
  if (envelope.body_case() == E::BODY_NOT_SET)
    return "none";
  const auto* field = E::descriptor()->FindFieldByNumber(static_cast<int>(envelope.body_case()));
  return field ? field->name() : fmt::format("field {}", static_cast<int>(envelope.body_case()));
}

}  // namespace kelvin::firmware_protocol
