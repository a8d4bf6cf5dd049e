#include "board_link.hpp"

#include <array>

#include "kelvin/common/error.hpp"

namespace kelvin::tools::kelvind {

BoardLink::BoardLink(Connect connect, BoardLinkCallbacks callbacks)
    : connect_(std::move(connect)), callbacks_(std::move(callbacks)) {
  reader_ = std::thread([this] { reader_loop(); });
  writer_ = std::thread([this] { writer_loop(); });
}

BoardLink::~BoardLink() {
  close();
  if (reader_.joinable())
    reader_.join();
  if (writer_.joinable())
    writer_.join();
}

void BoardLink::send(std::vector<std::uint8_t> bytes) {
  std::lock_guard lock(mutex_);
  if (closed_)
    return;
  queued_bytes_ += bytes.size();
  to_board_.push_back(std::move(bytes));
  cv_.notify_all();
}

std::size_t BoardLink::queued_bytes() const {
  std::lock_guard lock(mutex_);
  return queued_bytes_;
}

void BoardLink::close() noexcept {
  std::shared_ptr<driver::Transport> transport;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    transport = transport_;
    cv_.notify_all();
  }
  if (transport)
    transport->close();  // wakes the threads blocked in write() and read_some()
}

void BoardLink::reader_loop() {
  // Opening happens here, off the server's event loop: a remote or USB board may take a while.
  std::shared_ptr<driver::Transport> transport;
  try {
    transport = connect_();
  } catch (const std::exception& e) {
    callbacks_.opened(e.what());
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      transport->close();
      return;
    }
    transport_ = transport;
    cv_.notify_all();
  }
  callbacks_.opened({});
  std::array<std::uint8_t, 64 * 1024> buffer{};
  try {
    for (;;) {
      const std::size_t n = transport->read_some(buffer, common::Deadline::never());
      callbacks_.from_board(std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + n));
    }
  } catch (const std::exception& e) {
    bool closing = false;
    {
      std::lock_guard lock(mutex_);
      closing = closed_;
    }
    if (!closing)
      callbacks_.board_gone(e.what());
  }
}

void BoardLink::writer_loop() {
  for (;;) {
    std::vector<std::uint8_t> bytes;
    std::shared_ptr<driver::Transport> transport;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return closed_ || (transport_ && !to_board_.empty()); });
      if (closed_)
        return;
      bytes = std::move(to_board_.front());
      to_board_.pop_front();
      transport = transport_;
    }
    try {
      transport->write(bytes, common::Deadline::never());
    } catch (const std::exception&) {
      return;  // the reader reports the board's loss
    }
    bool empty = false;
    {
      std::lock_guard lock(mutex_);
      queued_bytes_ -= bytes.size();
      empty = queued_bytes_ == 0;
    }
    if (empty)
      callbacks_.drained();
  }
}

}  // namespace kelvin::tools::kelvind
