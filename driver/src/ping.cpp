#include "kelvin/driver/ping.hpp"

#include <string>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/firmware_protocol/wire.pb.h"

namespace kelvin::driver {

using common::Deadline;
using common::Error;
using common::ErrorKind;

PingReply ping(Device& device, std::size_t payload_bytes, Deadline deadline) {
  if (payload_bytes > kMaxPingPayload) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("ping payload of {} bytes exceeds {}", payload_bytes, kMaxPingPayload));
  }
  // A pattern that differs from byte to byte, so a reordered or truncated echo is caught.
  std::string payload(payload_bytes, '\0');
  for (std::size_t k = 0; k < payload_bytes; ++k)
    payload[k] = static_cast<char>((k * 151 + 7) & 0xFF);
  firmware_protocol::wire::Envelope request;
  request.mutable_ping()->set_payload(payload);
  const auto begin = std::chrono::steady_clock::now();
  // One attempt: a ping measures a round trip, and a lost one is reported, not hidden.
  const firmware_protocol::wire::Envelope reply =
      device.request(std::move(request), deadline, RequestOptions{.resend = false});
  const auto end = std::chrono::steady_clock::now();
  if (!reply.has_pong()) {
    throw Error(ErrorKind::kProtocol, fmt::format("board answered ping with another message"));
  }
  if (reply.pong().payload() != payload) {
    throw Error(ErrorKind::kProtocol,
                fmt::format("ping payload of {} bytes came back changed ({} bytes)", payload_bytes,
                            reply.pong().payload().size()));
  }
  return {std::chrono::duration_cast<std::chrono::nanoseconds>(end - begin),
          reply.pong().device_tick()};
}

}  // namespace kelvin::driver
