#include "kelvin/driver/reply_timer.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"

namespace kelvin::driver {

using common::Error;
using common::ErrorKind;
namespace {

// RFC 6298's gains: SRTT moves 1/8 of the way to each sample, RTTVAR 1/4, and the wait allows
// four mean deviations above the smoothed round trip.
constexpr int kSrttShift = 3;
constexpr int kRttvarShift = 2;
constexpr int kDeviations = 4;
constexpr int kFixedBackoff = 16;

}  // namespace

ReplyTimer::ReplyTimer(Duration floor, Duration ceiling, Duration backoff_limit)
    : floor_(floor), ceiling_(ceiling), backoff_limit_(backoff_limit), wait_(ceiling) {
  if (floor <= Duration::zero() || floor > ceiling || ceiling > backoff_limit) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("reply timer needs 0 < floor <= ceiling <= backoff limit, got {} us, "
                    "{} us, {} us",
                    floor.count() / 1000, ceiling.count() / 1000, backoff_limit.count() / 1000));
  }
}

ReplyTimer ReplyTimer::fixed(Duration wait) {
  return ReplyTimer(wait, wait, kFixedBackoff * wait);
}

void ReplyTimer::on_reply(Duration round_trip) noexcept {
  round_trip = std::max(round_trip, Duration::zero());
  if (!measured_) {
    srtt_ = round_trip;
    rttvar_ = round_trip / 2;
    measured_ = true;
  } else {
    const Duration deviation = srtt_ > round_trip ? srtt_ - round_trip : round_trip - srtt_;
    rttvar_ += (deviation - rttvar_) / (1 << kRttvarShift);
    srtt_ += (round_trip - srtt_) / (1 << kSrttShift);
  }
  wait_ = clamped_estimate();
}

void ReplyTimer::on_timeout() noexcept {
  wait_ = wait_ > backoff_limit_ / 2 ? backoff_limit_ : 2 * wait_;
}

void ReplyTimer::end_backoff() noexcept {
  wait_ = measured_ ? clamped_estimate() : ceiling_;
}

ReplyTimer::Duration ReplyTimer::clamped_estimate() const noexcept {
  return std::clamp(srtt_ + kDeviations * rttvar_, floor_, ceiling_);
}

}  // namespace kelvin::driver
