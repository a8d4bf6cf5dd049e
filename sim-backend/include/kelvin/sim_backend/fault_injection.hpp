// Fault injection for emulated boards: a FirmwareEndpoint that wraps a board's firmware and
// damages the link the way real USB and network links fail, so that the host's recovery and loss
// accounting can be tested without hardware. Chosen by URI, for example
//   sim:resonator?cells=8&fault=drop:1e-3,corrupt:1e-4,reorder:1e-4,delay:2ms,disconnect:5s
//
// The faults act on the frames the board sends (whole frames, as the firmware produces them):
//   drop:P        each frame is lost with probability P (the host's request times out)
//   corrupt:P     one bit of the frame is flipped with probability P (the host sees a bad frame)
//   duplicate:P   the frame is sent twice with probability P (the host sees a stale reply)
//   reorder:P     the frame is held back and sent after the next frame, with probability P
//   delay:D       every frame leaves D after the board produced it (link latency)
//   stall:D[@T]   from T after power-up (default 1 s) the board sends nothing for D; what it
//                 produced meanwhile leaves when the stall ends
//   disconnect:T  T after power-up the link vanishes: the transport closes and every blocked
//                 caller fails with a disconnected error
//   overflow:P    before each request, with probability P, the board's stream ring overflows:
//                 every unread sample is discarded and counted as lost (board-side loss)
// Durations take a unit: us, ms or s. Probabilities are in [0, 1]. Frames the host sends are
// not damaged: a lost request and a lost reply look the same to the host (its request times
// out), and the reply is the harder case because the board did act on the request.
//
// Randomness comes from one seeded generator, so a given seed and request sequence injects the
// same faults every time.
//
// Thread contract: as FirmwareEndpoint: on_bytes(), on_idle() and next_wakeup() run on the
// hosting transport's board thread, one at a time; power_off() and counters() may be called from
// any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/sim_backend/firmware_endpoint.hpp"

namespace kelvin::sim_backend {

struct FaultSpec {
  using Duration = std::chrono::steady_clock::duration;

  double drop = 0.0;
  double corrupt = 0.0;
  double duplicate = 0.0;
  double reorder = 0.0;
  double overflow = 0.0;
  Duration delay{0};
  Duration stall{0};
  Duration stall_at = std::chrono::seconds(1);
  std::optional<Duration> disconnect_at;

  // True when no fault is configured.
  bool none() const noexcept;
};

// Parses "drop:1e-3,corrupt:1e-4,delay:2ms,...". Throws std::invalid_argument naming the bad
// item (unknown kind, missing value, probability outside [0, 1], duration without a unit).
FaultSpec parse_fault_spec(std::string_view text);
// The canonical text of a spec (kinds in a fixed order, only those set), for logs.
std::string to_string(const FaultSpec& spec);

// What the injector did so far.
struct FaultCounters {
  std::uint64_t frames = 0;  // frames the board produced
  std::uint64_t dropped = 0;
  std::uint64_t corrupted = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t overflows = 0;           // ring overflows injected
  std::uint64_t overflowed_samples = 0;  // samples those overflows discarded
  bool stalled = false;                  // the stall has begun
  bool disconnected = false;
};

// Thrown by on_bytes()/on_idle() once the link has disconnected: the hosting transport treats a
// throwing board as gone and closes, which wakes every blocked caller.
class LinkDisconnected : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class FaultyLink final : public FirmwareEndpoint {
 public:
  using Clock = std::chrono::steady_clock;

  // Wraps `board`; the clock for stall and disconnect starts now. Throws std::invalid_argument
  // for a null board.
  FaultyLink(std::unique_ptr<FirmwareEndpoint> board, FaultSpec spec, std::uint64_t seed);

  std::vector<std::uint8_t> on_bytes(std::span<const std::uint8_t> bytes) override;
  std::vector<std::uint8_t> on_idle() override;
  void power_off() noexcept override;
  std::uint64_t inject_overflow() override { return board_->inject_overflow(); }
  // When frames wait for their release time, the stall ends or the link disconnects.
  std::optional<Clock::time_point> next_wakeup() const override;

  FaultCounters counters() const;
  const FaultSpec& spec() const noexcept { return spec_; }

 private:
  struct Pending {
    Clock::time_point release;
    std::vector<std::uint8_t> frame;
  };

  // Applies drop/corrupt/duplicate/reorder to the board's output and queues what survives.
  void enqueue(std::vector<std::uint8_t> bytes);
  // Frames whose release time has come (none during a stall).
  std::vector<std::uint8_t> release_due();
  void check_disconnect();
  bool chance(double p);

  std::unique_ptr<FirmwareEndpoint> board_;
  FaultSpec spec_;
  Clock::time_point powered_up_;
  std::mt19937_64 rng_;
  std::deque<Pending> pending_;
  std::optional<std::vector<std::uint8_t>> held_for_reorder_;
  mutable std::mutex counters_mutex_;
  FaultCounters counters_;
};

}  // namespace kelvin::sim_backend
