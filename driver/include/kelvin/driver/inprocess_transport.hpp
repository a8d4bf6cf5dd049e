// In-process transport: the board's firmware runs on its own thread inside this process and
// exchanges encoded frames with the host through two byte queues, exactly as it would over USB
// or a socket. There is no shortcut past the protocol.
//
// Thread contract: as for Transport. The board handler runs only on the transport's board thread.
#pragma once

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
  InProcessTransport(BoardHandler board, std::string description, BoardIdle idle = {},
                     BoardPowerOff power_off = {}, BoardWakeup wakeup = {});
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
  mutable std::mutex mutex_;
  std::condition_variable to_board_cv_;
  std::condition_variable to_host_cv_;
  std::deque<std::vector<std::uint8_t>> to_board_;
  std::deque<std::uint8_t> to_host_;
  bool closed_ = false;
  std::thread board_thread_;
};

}  // namespace kelvin::driver
