// A connected board, of any family: a transport, the frame codec and the hello handshake.
// Family APIs (ResonatorBoard, ...) sit on top and speak their messages through request().
//
// Thread contract: request() may be called from several threads; calls are serialized (one
// request in flight per device, with its resends). close() may be called from any thread: it wakes
// a blocked request() with Error(kDisconnected), and every later request() fails the same way. The
// destructor closes and never throws.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kelvin/common/deadline.hpp"
#include "kelvin/driver/device_address.hpp"
#include "kelvin/driver/device_description.hpp"
#include "kelvin/driver/reply_timer.hpp"
#include "kelvin/driver/transport.hpp"

namespace spdlog {
class logger;
}
namespace kelvin::firmware_protocol::wire {
class Envelope;
}
namespace kelvin::firmware_protocol {
class FrameDecoder;
}

namespace kelvin::driver {

struct OpenOptions {
  // Total budget for connecting and the hello handshake (retried after lost or damaged replies
  // like every request). Default 5 s.
  common::Deadline::Clock::duration open_timeout = std::chrono::seconds(5);
  // Reported to the board in Hello.client. Default "kelvin".
  std::string client_name = "kelvin";
  // How long request() waits for a reply before asking again (per attempt; the caller's deadline
  // bounds all attempts): the measured round trip + 4 deviations (RFC 6298, ReplyTimer) within
  // [min_reply_timeout, reply_timeout], reply_timeout until a round trip was measured, doubled
  // after each lost reply up to 16 x reply_timeout until a reply comes. Only replies to
  // requests sent once are measured (Karn's rule). Defaults 50 ms and 250 ms: short against a
  // job's deadline; the floor covers an emulator's catch-up (up to 100 ms when it runs behind
  // real time) after one doubling, so a healthy but slow board costs at most a needless repeat,
  // which the board answers from its reply cache (docs/protocol.md, "Lost, damaged and repeated
  // replies").
  std::chrono::milliseconds min_reply_timeout{50};
  std::chrono::milliseconds reply_timeout{250};
};

// How request() recovers when a reply is lost, damaged or late.
struct RequestOptions {
  // true (default): the request is sent again, with the same request id, when no intact reply
  // came within the attempt's wait, or at once when a damaged one came; the board answers a
  // repeated id with the reply it kept and does not do the request twice. false: one attempt, a
  // lost reply is Error(kTimeout) and a damaged one Error(kBadFrame), for callers that recover
  // and count on their own (SampleStream) or measure single round trips (ping).
  bool resend = true;
  // How long the board works on this request beyond a round trip (for example a run it must
  // finish before it can answer ReadResults), added to each attempt's wait. Default 0.
  std::chrono::nanoseconds service_time{0};
};

// Statistics of the link, for probes and logs.
struct LinkStats {
  std::uint64_t requests = 0;  // distinct requests (resends not counted)
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t bad_frames = 0;     // undecodable frames received (each asked for again)
  std::uint64_t stale_replies = 0;  // late or duplicate replies to requests already answered or
                                    // given up, discarded
  std::uint64_t retries = 0;        // requests sent again after a lost or damaged reply
  std::uint64_t lost_replies = 0;   // attempts whose reply did not come within their wait
  std::uint64_t refusals = 0;       // connection-level refusals (Error with request id 0)
  double round_trip_us = 0.0;       // smoothed round trip of unrepeated requests (0: none yet)
  double reply_wait_us = 0.0;       // the next attempt's wait for its reply
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

  // Sends one request (protocol_version and request_id are filled in) and returns the reply,
  // sending it again under the same id after a lost or damaged reply (RequestOptions) until the
  // deadline, which is total. Late and duplicate replies to earlier requests are discarded and
  // counted (LinkStats::stale_replies). An Error reply becomes Error(kDevice) carrying the
  // board's code and message; an Error with request id 0 (the peer refused the frame itself,
  // such as kelvind refusing one over its --max-frame-bytes) becomes Error(kDevice) naming the
  // peer and its reason; a reply from a later request id is Error(kProtocol). Throws
  // Error(kTimeout) when the deadline passes with no intact reply (Error(kBadFrame) if only
  // damaged ones came) and Error(kDisconnected) after close().
  firmware_protocol::wire::Envelope request(firmware_protocol::wire::Envelope request,
                                            common::Deadline deadline,
                                            const RequestOptions& options = {});

  void close() noexcept;
  bool is_open() const noexcept;
  LinkStats stats() const;

 private:
  firmware_protocol::wire::Envelope exchange_locked(firmware_protocol::wire::Envelope& request,
                                                    common::Deadline deadline,
                                                    const RequestOptions& options);
  // Reads until the reply to request `id` (skipping stale ones); throws as request() does for
  // one attempt.
  firmware_protocol::wire::Envelope await_reply_locked(
      std::uint64_t id, const firmware_protocol::wire::Envelope& request,
      common::Deadline deadline);
  firmware_protocol::wire::Envelope read_reply_locked(common::Deadline deadline);
  template <typename Update>
  void update_stats(Update update);

  std::unique_ptr<Transport> transport_;
  DeviceAddress address_;
  DeviceDescription description_;
  std::shared_ptr<spdlog::logger> log_;  // "kelvin.driver", looked up once
  std::unique_ptr<firmware_protocol::FrameDecoder> decoder_;
  std::vector<std::uint8_t> read_buffer_;  // belongs to the request in flight
  // Serializes request(): busy_ is set while a request is in flight; decoder_ and
  // next_request_id_ belong to that request.
  std::mutex busy_mutex_;
  std::condition_variable busy_cv_;
  bool busy_ = false;
  std::uint64_t next_request_id_ = 1;
  ReplyTimer reply_timer_;  // per-attempt reply waits; belongs to the request in flight
  mutable std::mutex stats_mutex_;
  LinkStats stats_;
};

}  // namespace kelvin::driver
