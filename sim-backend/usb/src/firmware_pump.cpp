#include "firmware_pump.hpp"

#include <algorithm>
#include <exception>

#include "kelvin/common/logging.hpp"

namespace kelvin::sim_backend::usb {

FirmwarePump::FirmwarePump(std::unique_ptr<FirmwareEndpoint> firmware)
    : firmware_(std::move(firmware)) {
  thread_ = std::thread([this] { loop(); });
}

FirmwarePump::~FirmwarePump() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  firmware_->power_off();  // a long run in on_bytes() returns promptly
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void FirmwarePump::push(std::span<const std::uint8_t> bytes) {
  if (bytes.empty())
    return;  // a zero-length packet carries nothing (and an empty chunk means "idle" below)
  std::lock_guard lock(mutex_);
  inbox_.emplace_back(bytes.begin(), bytes.end());
  cv_.notify_all();
}

std::size_t FirmwarePump::take(std::span<std::uint8_t> out) {
  std::lock_guard lock(mutex_);
  const std::size_t n = std::min(out.size(), outbox_.size());
  std::copy_n(outbox_.begin(), n, out.begin());
  outbox_.erase(outbox_.begin(), outbox_.begin() + static_cast<std::ptrdiff_t>(n));
  return n;
}

void FirmwarePump::deliver(const std::vector<std::uint8_t>& bytes) {
  if (bytes.empty())
    return;
  std::lock_guard lock(mutex_);
  outbox_.insert(outbox_.end(), bytes.begin(), bytes.end());
}

void FirmwarePump::loop() {
  auto log = common::logger("kelvin.sim.usb");
  bool idle_due = true;  // the firmware gets idle time after each host chunk
  for (;;) {
    std::vector<std::uint8_t> chunk;
    // A faulty link in front of the firmware may hold frames back (delay, stall): it gets idle
    // time again when they are due, even if the host sends nothing meanwhile.
    const auto wakeup = firmware_->next_wakeup();
    {
      std::unique_lock lock(mutex_);
      const auto woken = [&] { return stopping_ || !inbox_.empty(); };
      if (!idle_due || !inbox_.empty()) {
        if (wakeup)
          idle_due = !cv_.wait_until(lock, *wakeup, woken);
        else
          cv_.wait(lock, woken);
      }
      if (stopping_)
        return;
      if (!inbox_.empty()) {
        chunk = std::move(inbox_.front());
        inbox_.pop_front();
      }
    }
    try {
      if (chunk.empty()) {
        deliver(firmware_->on_idle());
        idle_due = false;
      } else {
        deliver(firmware_->on_bytes(chunk));
        idle_due = true;
      }
    } catch (const std::exception& e) {
      // A firmware that throws is a hung board: it stops answering, as real hardware would.
      log->error("emulated USB board firmware failed: {}", e.what());
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_; });
      return;
    }
  }
}

}  // namespace kelvin::sim_backend::usb
