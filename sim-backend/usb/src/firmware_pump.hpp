// Runs an emulated firmware on its own thread between two byte queues: bytes from the host go
// in with push(), the firmware's replies come out with take(). Between host chunks the firmware
// gets its idle time (on_idle) for background work such as integrating a started run, exactly as
// InProcessTransport schedules it, so a board on emulated USB behaves like one in process.
//
// Thread contract: push(), take() and available() may be called from any thread. The destructor
// powers the firmware off and joins the thread; it never throws.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "kelvin/sim_backend/firmware_endpoint.hpp"

namespace kelvin::sim_backend::usb {

class FirmwarePump {
 public:
  explicit FirmwarePump(std::unique_ptr<FirmwareEndpoint> firmware);
  ~FirmwarePump();
  FirmwarePump(const FirmwarePump&) = delete;
  FirmwarePump& operator=(const FirmwarePump&) = delete;

  void push(std::span<const std::uint8_t> bytes);
  // Moves up to out.size() reply bytes into out; returns how many (0 if none yet).
  std::size_t take(std::span<std::uint8_t> out);

 private:
  void loop();
  void deliver(const std::vector<std::uint8_t>& bytes);

  std::unique_ptr<FirmwareEndpoint> firmware_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::vector<std::uint8_t>> inbox_;
  std::deque<std::uint8_t> outbox_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kelvin::sim_backend::usb
