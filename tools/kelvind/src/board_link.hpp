// One lease's connection to its board: opens a fresh transport to the board and pumps bytes both
// ways on two threads of its own, because board transports block (write, read_some) and must not
// stall the server's event loop.
//
// Thread contract: send(), queued_bytes() and close() may be called from any thread. Callbacks
// run on the link's threads (never under its lock); they must not block for long and must not
// destroy the link. The destructor closes the board transport and joins both threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kelvin/driver/transport.hpp"

namespace kelvin::tools::kelvind {

struct BoardLinkCallbacks {
  // Once, after the board transport opened (error empty) or failed to open (error set).
  std::function<void(const std::string& error)> opened;
  // Bytes the board sent, in order.
  std::function<void(std::vector<std::uint8_t> bytes)> from_board;
  // The board transport closed or failed while the link was open.
  std::function<void(const std::string& reason)> board_gone;
  // The queue toward the board became empty (for flow control of the client).
  std::function<void()> drained;
};

class BoardLink {
 public:
  using Connect = std::function<std::unique_ptr<driver::Transport>()>;

  BoardLink(Connect connect, BoardLinkCallbacks callbacks);
  ~BoardLink();
  BoardLink(const BoardLink&) = delete;
  BoardLink& operator=(const BoardLink&) = delete;

  // Queues bytes for the board (also before it opened: they go out once it has).
  void send(std::vector<std::uint8_t> bytes);
  std::size_t queued_bytes() const;
  void close() noexcept;

 private:
  void reader_loop();
  void writer_loop();

  Connect connect_;
  BoardLinkCallbacks callbacks_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::shared_ptr<driver::Transport> transport_;  // set once opened
  bool closed_ = false;
  std::deque<std::vector<std::uint8_t>> to_board_;
  std::size_t queued_bytes_ = 0;
  std::thread reader_;
  std::thread writer_;
};

}  // namespace kelvin::tools::kelvind
