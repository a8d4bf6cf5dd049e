// Waiting on a condition variable until a total Deadline, shared by the transports.
//
// Thread contract: a free function; the caller holds `lock` on the mutex that guards pred's
// state.
#pragma once

#include <condition_variable>
#include <mutex>

#include "kelvin/common/deadline.hpp"

namespace kelvin::common::detail {

// Waits until pred() holds or the deadline passes; returns pred(). A deadline of never waits
// without a timeout (time_point::max() would overflow inside wait_until).
template <typename Pred>
bool wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                const Deadline& deadline, Pred pred) {
  if (deadline.is_never()) {
    cv.wait(lock, pred);
    return true;
  }
  return cv.wait_until(lock, deadline.when(), pred);
}

}  // namespace kelvin::common::detail
