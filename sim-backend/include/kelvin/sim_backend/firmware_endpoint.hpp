// The firmware side of the wire: a board (emulated here, real on hardware) consumes the bytes the
// host sends and produces the bytes it sends back. Transports (in-process, socket, USB) only move
// these bytes; nothing reaches the board model except through encoded protocol frames.
//
// Thread contract: on_bytes() is not thread-safe; the transport that hosts it calls it from one
// thread at a time (the in-process transport runs it on its own board thread). power_off() may
// be called from any thread at any time, also while on_bytes() runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace kelvin::sim_backend {

class FirmwareEndpoint {
 public:
  virtual ~FirmwareEndpoint() = default;
  // Consumes bytes received from the host (any split: partial frames are buffered) and returns
  // the bytes the board sends back: zero or more complete frames, one reply per request frame,
  // and one ERROR_CODE_MALFORMED_FRAME reply per run of undecodable bytes.
  virtual std::vector<std::uint8_t> on_bytes(std::span<const std::uint8_t> bytes) = 0;

  // Called by the transport when no host bytes are waiting: the board does its background work
  // (integrates a started run) and returns any bytes it has to send. Default: nothing to do.
  virtual std::vector<std::uint8_t> on_idle() { return {}; }

  // Cuts the board's power: a run in progress stops within a few thousand samples, the
  // on_bytes() call computing it returns without a reply, and every later call returns nothing.
  virtual void power_off() noexcept = 0;

  // Fault injection (board-side overflow): discards every unread sample of a running stream as
  // if the ring had overflowed, counting them as lost. Returns how many; default: nothing to
  // discard (boards without a stream ring).
  virtual std::uint64_t inject_overflow() { return 0; }

  // When the board next needs on_idle() even if the host sends nothing (for example a frame
  // held back by an emulated link delay), or nullopt. Called on the hosting thread.
  virtual std::optional<std::chrono::steady_clock::time_point> next_wakeup() const {
    return std::nullopt;
  }
};

}  // namespace kelvin::sim_backend
