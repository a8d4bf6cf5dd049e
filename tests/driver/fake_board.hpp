// A scriptable board for driver tests: decodes request frames and answers through a callback,
// or misbehaves on purpose (garbage, wrong ids, silence).
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "kelvin/driver/inprocess_transport.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"

namespace kelvin::driver::testing {

// Returns the reply envelope, or nullopt to stay silent.
using Responder = std::function<std::optional<firmware_protocol::wire::Envelope>(
    const firmware_protocol::wire::Envelope&)>;

inline firmware_protocol::wire::Envelope resonator_info_reply(std::uint32_t cells = 4) {
  firmware_protocol::wire::Envelope reply;
  auto* info = reply.mutable_device_info();
  info->set_family(firmware_protocol::wire::BOARD_FAMILY_RESONATOR);
  info->set_serial("FAKE-1");
  info->set_firmware_version("fake 1.0");
  info->set_protocol_version(firmware_protocol::kProtocolVersion);
  info->set_model("overdamped-ou");
  info->set_cell_count(cells);
  auto fill = [](firmware_protocol::wire::CodeFormat* f, bool is_signed, std::int64_t lo,
                 std::int64_t hi, double lsb, const char* unit) {
    f->set_bits(16);
    f->set_is_signed(is_signed);
    f->set_min_code(lo);
    f->set_max_code(hi);
    f->set_lsb(lsb);
    f->set_unit(unit);
  };
  fill(info->mutable_coupling_dac(), true, -32767, 32767, 1.0 / 16384, "1/us");
  fill(info->mutable_bias_dac(), true, -32767, 32767, 1.0 / 8192, "V/us");
  fill(info->mutable_noise_dac(), false, 0, 65535, 1.0 / 65536, "V^2/us");
  fill(info->mutable_adc(), true, -32768, 32767, 1.0 / 16384, "V");
  info->set_tick_rate_hz(100e6);
  info->set_ticks_per_sample(100);
  info->set_capabilities(7);
  info->set_max_frame_payload(1 << 20);
  info->set_max_samples_per_run(1ull << 32);
  info->set_max_record_samples(1000);
  return reply;
}

// A board that answers hello with resonator_info_reply() and everything else via `respond`.
inline BoardHandler fake_board(Responder respond, std::uint32_t cells = 4) {
  auto decoder = std::make_shared<firmware_protocol::FrameDecoder>();
  return [decoder, respond, cells](std::span<const std::uint8_t> bytes) {
    std::vector<std::uint8_t> out;
    decoder->feed(bytes);
    while (auto frame = decoder->next()) {
      if (frame->error)
        continue;
      const auto request = firmware_protocol::parse_envelope(frame->payload);
      std::optional<firmware_protocol::wire::Envelope> reply;
      if (request.has_hello()) {
        reply = resonator_info_reply(cells);
      } else {
        reply = respond(request);
      }
      if (!reply)
        continue;
      if (reply->request_id() == 0)
        reply->set_request_id(request.request_id());
      reply->set_protocol_version(firmware_protocol::kProtocolVersion);
      const auto encoded = firmware_protocol::encode_envelope(*reply);
      out.insert(out.end(), encoded.begin(), encoded.end());
    }
    return out;
  };
}

}  // namespace kelvin::driver::testing
