#include "kelvin/driver/inprocess_transport.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "kelvin/common/deadline_wait.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"

namespace kelvin::driver {

using common::Deadline;
using common::Error;
using common::ErrorKind;

InProcessTransport::InProcessTransport(BoardHandler board, std::string description, BoardIdle idle,
                                       BoardPowerOff power_off, BoardWakeup wakeup)
    : board_(std::move(board)),
      description_(std::move(description)),
      idle_(std::move(idle)),
      power_off_(std::move(power_off)),
      wakeup_(std::move(wakeup)) {
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
  std::unique_lock lock(mutex_);
  if (closed_)
    throw Error(ErrorKind::kDisconnected, description_ + " is closed");
  if (deadline.expired())
    throw Error(ErrorKind::kTimeout, "write deadline passed");
  to_board_.emplace_back(bytes.begin(), bytes.end());
  to_board_cv_.notify_one();
}

std::size_t InProcessTransport::read_some(std::span<std::uint8_t> out, Deadline deadline) {
  if (out.empty())
    return 0;
  std::unique_lock lock(mutex_);
  const bool ready = common::detail::wait_until(to_host_cv_, lock, deadline,
                                                [&] { return closed_ || !to_host_.empty(); });
  // Bytes the board sent before closing are still delivered.
  if (!to_host_.empty()) {
    const std::size_t n = std::min(out.size(), to_host_.size());
    std::copy_n(to_host_.begin(), n, out.begin());
    to_host_.erase(to_host_.begin(), to_host_.begin() + static_cast<std::ptrdiff_t>(n));
    return n;
  }
  if (closed_)
    throw Error(ErrorKind::kDisconnected, description_ + " is closed");
  (void)ready;
  throw Error(ErrorKind::kTimeout,
              fmt::format("no reply from {} before the deadline", description_));
}

void InProcessTransport::close() noexcept {
  {
    std::lock_guard lock(mutex_);
    if (closed_)
      return;
    closed_ = true;
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
  std::lock_guard lock(mutex_);
  return !closed_;
}

void InProcessTransport::deliver(std::vector<std::uint8_t> bytes) {
  if (bytes.empty())
    return;
  std::lock_guard lock(mutex_);
  to_host_.insert(to_host_.end(), bytes.begin(), bytes.end());
  to_host_cv_.notify_all();
}

void InProcessTransport::board_loop() {
  auto log = common::logger("kelvin.driver");
  for (;;) {
    std::vector<std::uint8_t> chunk;
    bool idle = false;
    {
      std::unique_lock lock(mutex_);
      if (to_board_.empty() && idle_) {
        idle = true;  // nothing from the host: give the board its background time first
      } else {
        to_board_cv_.wait(lock, [&] { return closed_ || !to_board_.empty(); });
      }
      if (closed_)
        return;
      if (!idle) {
        chunk = std::move(to_board_.front());
        to_board_.pop_front();
      }
    }
    try {
      if (idle) {
        deliver(idle_());
        // Background work is done; sleep until the host sends something or the board asked to
        // be woken.
        const auto wake = wakeup_ ? wakeup_() : std::chrono::steady_clock::time_point::max();
        std::unique_lock lock(mutex_);
        const auto woken = [&] { return closed_ || !to_board_.empty(); };
        if (wake == std::chrono::steady_clock::time_point::max())
          to_board_cv_.wait(lock, woken);
        else
          to_board_cv_.wait_until(lock, wake, woken);
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
