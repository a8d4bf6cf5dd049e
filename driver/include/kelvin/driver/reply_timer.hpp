// How long to wait for a reply before presuming it lost: a retransmission timer in the manner of
// TCP's (RFC 6298). Round trips measured on replies that did arrive give a smoothed round trip
// (SRTT) and its mean deviation (RTTVAR); the wait is SRTT + 4 RTTVAR, kept within
// [floor, ceiling], and doubles after each consecutive timeout up to the backoff limit.
//
// Why adaptive: a fixed wait must cover the slowest healthy reply (an emulator catching up with
// real time takes up to 100 ms), so on a fast link every lost reply stalls the reader for that
// long and the board's ring fills meanwhile. Replies here carry request ids and stale ones are
// dropped, so every measured round trip belongs to the attempt it is charged to (no Karn
// ambiguity). A timer with floor == ceiling is a fixed wait with backoff.
//
// Thread contract: a plain value type; one thread uses an instance at a time.
#pragma once

#include <chrono>

namespace kelvin::driver {

class ReplyTimer {
 public:
  using Duration = std::chrono::nanoseconds;

  // Waits `ceiling` until the first round trip is measured. Throws Error(kInvalidArgument)
  // unless 0 < floor <= ceiling <= backoff_limit.
  ReplyTimer(Duration floor, Duration ceiling, Duration backoff_limit);
  // A fixed wait: `wait` always, doubled per consecutive timeout up to 16 x `wait`.
  static ReplyTimer fixed(Duration wait);

  // How long the next attempt waits for its reply.
  Duration wait() const noexcept { return wait_; }
  // A reply arrived `round_trip` after its request went out: updates the estimate and ends any
  // backoff.
  void on_reply(Duration round_trip) noexcept;
  // The attempt's reply did not come in time: doubles the wait (up to the backoff limit).
  void on_timeout() noexcept;
  // A reply came, but its round trip cannot be measured (it may answer any of several attempts
  // of one request, Karn's rule): ends the backoff without changing the estimate. A link that
  // lost a reply and then delivered one is alive, so the next request need not wait doubled
  // (losses on a noisy link are independent, not congestion).
  void end_backoff() noexcept;
  bool measured() const noexcept { return measured_; }
  // The smoothed round trip; zero until one was measured.
  Duration smoothed_round_trip() const noexcept { return srtt_; }
  Duration round_trip_variation() const noexcept { return rttvar_; }

 private:
  Duration clamped_estimate() const noexcept;

  Duration floor_;
  Duration ceiling_;
  Duration backoff_limit_;
  Duration srtt_{0};
  Duration rttvar_{0};
  bool measured_ = false;
  Duration wait_;
};

}  // namespace kelvin::driver
