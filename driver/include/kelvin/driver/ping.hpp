// A liveness and latency check that touches no board state (Ping/Pong, since protocol v5), for
// `kelvin ping` and for callers that want to know a link is alive before a long job.
//
// Thread contract: ping() goes through Device::request(), so it may run concurrently with other
// requests on the same device (they are serialized).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "kelvin/common/deadline.hpp"
#include "kelvin/driver/device.hpp"

namespace kelvin::driver {

struct PingReply {
  std::chrono::nanoseconds round_trip{0};  // request written to reply decoded, on the host
  std::uint64_t device_tick = 0;           // the board's clock when it answered
};

// Largest payload a board echoes.
inline constexpr std::size_t kMaxPingPayload = 65536;

// Sends `payload_bytes` of pattern bytes and checks that they come back unchanged. Throws
// Error(kInvalidArgument) above kMaxPingPayload, Error(kProtocol) for a wrong echo, and what
// Device::request() throws (kTimeout, kDisconnected, kDevice for a board without Ping). One
// attempt: a ping whose reply is lost is not sent again (it fails with kTimeout, or kBadFrame
// when damaged), so that the round trips it reports are single ones.
PingReply ping(Device& device, std::size_t payload_bytes, common::Deadline deadline);

}  // namespace kelvin::driver
