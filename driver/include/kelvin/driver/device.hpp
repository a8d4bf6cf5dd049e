// A connected board, of any family: a transport, the frame codec and the hello handshake.
// Family APIs (ResonatorBoard, ...) sit on top and speak their messages through request().
//
// Thread contract: request() may be called from several threads; calls are serialized (one
// request in flight per device). close() may be called from any thread: it wakes a blocked
// request() with Error(kDisconnected), and every later request() fails the same way. The
// destructor closes and never throws.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "kelvin/common/deadline.hpp"
#include "kelvin/driver/device_address.hpp"
#include "kelvin/driver/device_description.hpp"
#include "kelvin/driver/transport.hpp"

namespace kelvin::firmware_protocol::wire {
class Envelope;
}
namespace kelvin::firmware_protocol {
class FrameDecoder;
}

namespace kelvin::driver {

// The hello of Device's constructor is sent again when no intact reply came within this
// (doubling after each attempt), all within OpenOptions::open_timeout.
inline constexpr std::chrono::milliseconds kHelloAttemptTimeout{250};

struct OpenOptions {
  // Total budget for connecting and the hello handshake (retried after lost or damaged replies,
  // see kHelloAttemptTimeout). Default 5 s.
  common::Deadline::Clock::duration open_timeout = std::chrono::seconds(5);
  // Reported to the board in Hello.client. Default "kelvin".
  std::string client_name = "kelvin";
};

// Statistics of the link, for probes and logs.
struct LinkStats {
  std::uint64_t requests = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t bad_frames = 0;     // undecodable frames received (each also fails its request)
  std::uint64_t stale_replies = 0;  // late replies to requests that had already timed out
};

class Device {
 public:
  // Performs the hello handshake within options.open_timeout. Throws Error.
  Device(std::unique_ptr<Transport> transport, DeviceAddress address,
         const OpenOptions& options = {});
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const DeviceDescription& description() const noexcept { return description_; }
  const DeviceAddress& address() const noexcept { return address_; }

  // Sends one request (protocol_version and request_id are filled in) and returns the reply.
  // An Error reply becomes Error(kDevice) carrying the board's code and message; a reply with a
  // different request id or an undecodable frame becomes Error(kProtocol)/Error(kBadFrame).
  // Throws Error(kTimeout) when the deadline passes and Error(kDisconnected) after close().
  firmware_protocol::wire::Envelope request(firmware_protocol::wire::Envelope request,
                                            common::Deadline deadline);

  void close() noexcept;
  bool is_open() const noexcept;
  LinkStats stats() const;

 private:
  firmware_protocol::wire::Envelope exchange_locked(firmware_protocol::wire::Envelope& request,
                                                    common::Deadline deadline);
  firmware_protocol::wire::Envelope read_reply_locked(common::Deadline deadline);
  void count_bad_frame();

  std::unique_ptr<Transport> transport_;
  DeviceAddress address_;
  DeviceDescription description_;
  std::unique_ptr<firmware_protocol::FrameDecoder> decoder_;
  // Serializes request(): busy_ is set while a request is in flight; decoder_ and
  // next_request_id_ belong to that request.
  std::mutex busy_mutex_;
  std::condition_variable busy_cv_;
  bool busy_ = false;
  std::uint64_t next_request_id_ = 1;
  mutable std::mutex stats_mutex_;
  LinkStats stats_;
};

}  // namespace kelvin::driver
