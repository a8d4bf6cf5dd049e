// Total deadlines. Every blocking driver call takes a Deadline: a point in time by which the
// whole call (all its internal waits together) must finish, never a per-wait timeout.
//
// Thread contract: a plain value type.
#pragma once

#include <chrono>

namespace kelvin::common {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  static Deadline after(Clock::duration budget) { return Deadline(Clock::now() + budget); }
  static Deadline at(Clock::time_point when) { return Deadline(when); }
  static Deadline never() { return Deadline(Clock::time_point::max()); }

  Clock::time_point when() const noexcept { return when_; }
  bool expired() const noexcept { return Clock::now() >= when_; }
  bool is_never() const noexcept { return when_ == Clock::time_point::max(); }
  // Time left, clamped at zero.
  Clock::duration remaining() const noexcept {
    if (is_never())
      return Clock::duration::max();
    const auto left = when_ - Clock::now();
    return left > Clock::duration::zero() ? left : Clock::duration::zero();
  }
  // The earlier of two deadlines.
  Deadline min(const Deadline& other) const noexcept {
    return when_ <= other.when_ ? *this : other;
  }

 private:
  explicit Deadline(Clock::time_point when) : when_(when) {}
  Clock::time_point when_;
};

}  // namespace kelvin::common
