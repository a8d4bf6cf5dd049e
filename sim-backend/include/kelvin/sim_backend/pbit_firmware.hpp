// The firmware of the emulated p-bit TSU board: decodes request frames from the host,
// dispatches each request to the board model (pbit_model.hpp) and encodes exactly one reply per
// request frame (plus one ERROR_CODE_MALFORMED_FRAME reply, request_id 0, per run of
// undecodable bytes). StartSampling is acknowledged at once (RunStarted); the run is computed
// when the transport gives the board idle time (on_idle) or, at the latest, before the next
// request is handled, so a following ReadResults always finds it complete. Resonator requests
// are answered with ERROR_CODE_UNEXPECTED_MESSAGE. No exception ever leaves on_bytes().
// A request repeated under the same id (the host asking again after a lost or damaged reply)
// is answered with the reply kept for it and not done twice (reply_cache.hpp).
//
// Thread contract: not thread-safe (see FirmwareEndpoint); one thread at a time calls
// on_bytes(). make_pbit_firmware() is safe from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kelvin/firmware_protocol/framing.hpp"
#include "kelvin/firmware_protocol/wire.pb.h"
#include "kelvin/sim_backend/firmware_endpoint.hpp"
#include "kelvin/sim_backend/pbit_config.hpp"
#include "kelvin/sim_backend/pbit_model.hpp"
#include "kelvin/sim_backend/reply_cache.hpp"

namespace kelvin::sim_backend {

class PbitFirmware final : public FirmwareEndpoint {
 public:
  // Powers up a board. Throws std::invalid_argument if the config is invalid.
  explicit PbitFirmware(const PbitConfig& config);

  std::vector<std::uint8_t> on_bytes(std::span<const std::uint8_t> bytes) override;
  std::vector<std::uint8_t> on_idle() override;
  void power_off() noexcept override { model_.power_off(); }

  // Repeated requests answered with their kept reply instead of being done again.
  std::uint64_t replies_resent() const noexcept { return replies_.resent(); }
  // The board behind the wire, for diagnostics and white-box tests.
  const PbitModel& model() const noexcept { return model_; }
  PbitModel& model() noexcept { return model_; }

 private:
  // The encoded reply frame to a parsed request; throws BoardError for refused requests.
  std::vector<std::uint8_t> handle_request(const firmware_protocol::wire::Envelope& request);
  firmware_protocol::wire::DeviceInfo device_info() const;

  PbitModel model_;
  firmware_protocol::FrameDecoder decoder_;
  ReplyCache replies_;  // answers to repeated requests (reply_cache.hpp)
  std::shared_ptr<spdlog::logger> log_;
};

// The firmware endpoint of a p-bit board with these settings (validated: throws
// std::invalid_argument naming the bad field).
std::unique_ptr<FirmwareEndpoint> make_pbit_firmware(const PbitConfig& config);

}  // namespace kelvin::sim_backend
