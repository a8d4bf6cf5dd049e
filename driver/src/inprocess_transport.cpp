#include "kelvin/driver/inprocess_transport.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "kelvin/common/deadline_wait.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace kelvin::driver {

using common::Deadline;
using common::Error;
using common::ErrorKind;
using SteadyClock = std::chrono::steady_clock;

namespace {

void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

}  // namespace

template <typename Ready>
bool InProcessTransport::spin_until(Ready ready, SteadyClock::time_point wait_end,
                                    std::atomic<int>& skip) const {
  if (ready())
    return true;
  if (spin_.count() <= 0)
    return false;
  if (const int left = skip.load(std::memory_order_relaxed); left > 0) {
    skip.store(left - 1, std::memory_order_relaxed);
    return false;
  }
  const auto start = SteadyClock::now();
  const auto limit = std::min(start + spin_, wait_end);
  const auto yield_after = start + kSpinWithoutYield;
  // The clock is read every 64 pauses (a pause is tens of cycles), not on every turn.
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready())
        return true;
      cpu_relax();
    }
    const auto now = SteadyClock::now();
    if (now >= limit) {
      if (ready())
        return true;
      // Only a spin cut short by the spin budget counts as failed, not one cut by the wait.
      if (limit < wait_end)
        skip.store(kSkipAfterFailedSpin, std::memory_order_relaxed);
      return false;
    }
    if (now >= yield_after)
      std::this_thread::yield();
  }
}

InProcessTransport::InProcessTransport(BoardHandler board, std::string description, BoardIdle idle,
                                       BoardPowerOff power_off, BoardWakeup wakeup,
                                       std::chrono::microseconds spin)
    : board_(std::move(board)),
      description_(std::move(description)),
      idle_(std::move(idle)),
      power_off_(std::move(power_off)),
      wakeup_(std::move(wakeup)),
      spin_(spin) {
  board_thread_ = std::thread([this] { board_loop(); });
}

InProcessTransport::~InProcessTransport() {
  close();
  if (board_thread_.joinable())
    board_thread_.join();
}

void InProcessTransport::write(std::span<const std::uint8_t> bytes, Deadline deadline) {
  // The inbox is unbounded in bytes but the host only ever has one request in flight, so it
  // holds at most one frame; the deadline still applies to the (uncontended) lock.
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_.load(std::memory_order_relaxed))
      throw Error(ErrorKind::kDisconnected, description_ + " is closed");
    if (deadline.expired())
      throw Error(ErrorKind::kTimeout, "write deadline passed");
    to_board_.emplace_back(bytes.begin(), bytes.end());
    to_board_frames_.store(to_board_.size(), std::memory_order_release);
    wake = board_sleeping_ > 0;
  }
  // A board thread that is not asleep sees the frame through to_board_frames_ (it checks it
  // under the lock before it sleeps, so no wake-up is lost).
  if (wake)
    to_board_cv_.notify_one();
}

std::size_t InProcessTransport::read_some(std::span<std::uint8_t> out, Deadline deadline) {
  if (out.empty())
    return 0;
  const auto ready = [&] {
    return to_host_bytes_.load(std::memory_order_acquire) > 0 ||
           closed_.load(std::memory_order_acquire);
  };
  spin_until(ready, deadline.when(), host_spin_skip_);
  std::unique_lock lock(mutex_);
  const auto has_bytes = [&] { return closed_ || to_host_read_ < to_host_.size(); };
  if (!has_bytes()) {
    ++host_sleeping_;
    common::detail::wait_until(to_host_cv_, lock, deadline, has_bytes);
    --host_sleeping_;
  }
  // Bytes the board sent before closing are still delivered.
  if (to_host_read_ < to_host_.size()) {
    const std::size_t n = std::min(out.size(), to_host_.size() - to_host_read_);
    std::copy_n(to_host_.begin() + static_cast<std::ptrdiff_t>(to_host_read_), n, out.begin());
    to_host_read_ += n;
    if (to_host_read_ == to_host_.size()) {
      to_host_.clear();
      to_host_read_ = 0;
    }
    to_host_bytes_.store(to_host_.size() - to_host_read_, std::memory_order_release);
    return n;
  }
  if (closed_)
    throw Error(ErrorKind::kDisconnected, description_ + " is closed");
  throw Error(ErrorKind::kTimeout,
              fmt::format("no reply from {} before the deadline", description_));
}

void InProcessTransport::close() noexcept {
  {
    std::lock_guard lock(mutex_);
    if (closed_)
      return;
    closed_.store(true, std::memory_order_release);
  }
  if (power_off_) {
    try {
      power_off_();
    } catch (...) {
      // close() must not throw; a board that cannot be powered off is still closed for the host.
    }
  }
  to_board_cv_.notify_all();
  to_host_cv_.notify_all();
}

bool InProcessTransport::is_open() const noexcept {
  return !closed_.load(std::memory_order_acquire);
}

void InProcessTransport::deliver(std::vector<std::uint8_t> bytes) {
  if (bytes.empty())
    return;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (to_host_.empty())
      to_host_ = std::move(bytes);  // the common case: one reply, no copy
    else
      to_host_.insert(to_host_.end(), bytes.begin(), bytes.end());
    to_host_bytes_.store(to_host_.size() - to_host_read_, std::memory_order_release);
    wake = host_sleeping_ > 0;
  }
  if (wake)
    to_host_cv_.notify_all();
}

void InProcessTransport::board_loop() {
  auto log = common::logger("kelvin.driver");
  const auto host_sent = [&] {
    return to_board_frames_.load(std::memory_order_acquire) > 0 ||
           closed_.load(std::memory_order_acquire);
  };
  // Spins, then sleeps, until the host sends something, the transport closes or `wake` passes.
  const auto await_host = [&](SteadyClock::time_point wake) {
    spin_until(host_sent, wake, board_spin_skip_);
    std::unique_lock lock(mutex_);
    const auto woken = [&] { return closed_ || !to_board_.empty(); };
    if (woken())
      return;
    ++board_sleeping_;
    if (wake == SteadyClock::time_point::max())
      to_board_cv_.wait(lock, woken);
    else
      to_board_cv_.wait_until(lock, wake, woken);
    --board_sleeping_;
  };
  for (;;) {
    std::vector<std::uint8_t> chunk;
    bool idle = false;
    if (!idle_)
      await_host(SteadyClock::time_point::max());
    {
      std::lock_guard lock(mutex_);
      if (closed_)
        return;
      if (to_board_.empty()) {
        if (!idle_)
          continue;
        idle = true;  // nothing from the host: give the board its background time first
      } else {
        chunk = std::move(to_board_.front());
        to_board_.pop_front();
        to_board_frames_.store(to_board_.size(), std::memory_order_release);
      }
    }
    try {
      if (idle) {
        deliver(idle_());
        // Background work is done; wait until the host sends something or the board asked to
        // be woken.
        await_host(wakeup_ ? wakeup_() : SteadyClock::time_point::max());
        continue;
      }
      deliver(board_(chunk));
    } catch (const std::exception& e) {
      // A board that throws is a dead board: fail every caller instead of hanging them.
      log->error("{}: board firmware failed: {}", description_, e.what());
      close();
      return;
    }
  }
}

}  // namespace kelvin::driver
