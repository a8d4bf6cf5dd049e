// In-process transport: the board's firmware runs on its own thread inside this process and
// exchanges encoded frames with the host through two byte queues, exactly as it would over USB
// or a socket. There is no shortcut past the protocol.
//
// Hand-off: a waiting side (the host in read_some(), the board thread waiting for a request)
// first spins for up to kSpinBeforeSleep on an atomic count of waiting bytes, and only then
// sleeps on a condition variable; a side that queues bytes wakes the other through the condition
// variable only when it is asleep. A request round trip therefore costs no system call while
// both threads are on a core (futex wake-ups cost tens of microseconds on a virtual machine),
// and an idle link still sleeps. The spin ends early at the caller's deadline and at the board's
// wakeup time. A spin that ends without the bytes (the other thread was not running: a machine
// with more runnable threads than cores, or a long board operation) makes that side sleep at
// once for its next kSkipAfterFailedSpin waits, so that spinning costs little where it does not
// pay (measured: under a load of 12 on 2 cores, spinning every time tripled the round trip).
//
// Thread contract: as for Transport. The board handler runs only on the transport's board thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "kelvin/driver/transport.hpp"

namespace kelvin::driver {

// Consumes bytes from the host and returns the bytes the board sends back.
using BoardHandler = std::function<std::vector<std::uint8_t>(std::span<const std::uint8_t>)>;
// Called on the board thread when no host bytes are waiting, for the board's background work
// (integrating a started run); returns bytes the board sends on its own.
using BoardIdle = std::function<std::vector<std::uint8_t>()>;
// Called (from any thread) when the transport closes, to cut the board's power: a board busy in
// a long handler call must return promptly so that close() and the destructor do not wait for it.
using BoardPowerOff = std::function<void()>;
// Called on the board thread after each piece of work: when the board next needs BoardIdle even
// if the host sends nothing (an emulated link delay releasing a held frame, a scheduled
// disconnect), or time_point::max() for never.
using BoardWakeup = std::function<std::chrono::steady_clock::time_point()>;

class InProcessTransport final : public Transport {
 public:
  // How long a waiting side spins before it sleeps (by default): longer than a request round
  // trip through an emulated board (a few microseconds), short against an idle link's time.
  // After the first kSpinWithoutYield it yields the core between checks, so that on a machine
  // with more runnable threads than cores the thread it waits for can run.
  static constexpr std::chrono::microseconds kSpinBeforeSleep{10};
  static constexpr std::chrono::microseconds kSpinWithoutYield{10};
  static constexpr int kSkipAfterFailedSpin = 32;

  // `spin`: how long a waiting side spins before it sleeps (0: sleeps at once, as a plain
  // condition-variable hand-off does; the benchmarks compare the two).
  InProcessTransport(BoardHandler board, std::string description, BoardIdle idle = {},
                     BoardPowerOff power_off = {}, BoardWakeup wakeup = {},
                     std::chrono::microseconds spin = kSpinBeforeSleep);
  ~InProcessTransport() override;
  InProcessTransport(const InProcessTransport&) = delete;
  InProcessTransport& operator=(const InProcessTransport&) = delete;

  void write(std::span<const std::uint8_t> bytes, common::Deadline deadline) override;
  std::size_t read_some(std::span<std::uint8_t> out, common::Deadline deadline) override;
  void close() noexcept override;
  bool is_open() const noexcept override;
  std::string describe() const override { return description_; }

 private:
  void board_loop();
  void deliver(std::vector<std::uint8_t> bytes);

  BoardHandler board_;
  std::string description_;
  BoardIdle idle_;
  BoardPowerOff power_off_;
  BoardWakeup wakeup_;
  std::chrono::microseconds spin_;
  // Spins until ready() or `limit`, unless `skip` says to sleep at once; returns ready() and
  // updates `skip` (the waiting side's count of waits left without a spin).
  template <typename Ready>
  bool spin_until(Ready ready, std::chrono::steady_clock::time_point wait_end,
                  std::atomic<int>& skip) const;

  mutable std::mutex mutex_;  // guards the queues, the sleeper counts and the writes of closed_
  std::condition_variable to_board_cv_;
  std::condition_variable to_host_cv_;
  std::deque<std::vector<std::uint8_t>> to_board_;
  std::vector<std::uint8_t> to_host_;  // bytes for the host; the first to_host_read_ are read
  std::size_t to_host_read_ = 0;
  int board_sleeping_ = 0;  // 1 while the board thread sleeps on to_board_cv_
  int host_sleeping_ = 0;   // readers asleep on to_host_cv_
  // Mirrors of the queues' state that the spinning sides read without the lock.
  std::atomic<bool> closed_{false};
  std::atomic<std::size_t> to_board_frames_{0};
  std::atomic<std::size_t> to_host_bytes_{0};
  // Waits each side still sleeps through without spinning (after a failed spin); relaxed
  // counters, each used by one waiting side.
  std::atomic<int> host_spin_skip_{0};
  std::atomic<int> board_spin_skip_{0};
  std::thread board_thread_;
};

}  // namespace kelvin::driver
