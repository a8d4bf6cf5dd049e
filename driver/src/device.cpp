#include "kelvin/driver/device.hpp"

#include <array>

#include <fmt/format.h>

#include "device_info_mapping.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/firmware_protocol/framing.hpp"

namespace kelvin::driver {

using common::Deadline;
using common::Error;
using common::ErrorKind;

namespace wire = kelvin::firmware_protocol::wire;

Device::Device(std::unique_ptr<Transport> transport, DeviceAddress address,
               const OpenOptions& options)
    : transport_(std::move(transport)),
      address_(std::move(address)),
      decoder_(std::make_unique<firmware_protocol::FrameDecoder>()) {
  if (!transport_)
    throw Error(ErrorKind::kInvalidArgument, "Device needs a transport");
  const auto deadline = Deadline::after(options.open_timeout);
  wire::Envelope hello;
  hello.mutable_hello()->set_min_version(firmware_protocol::kProtocolVersion);
  hello.mutable_hello()->set_max_version(firmware_protocol::kProtocolVersion);
  hello.mutable_hello()->set_client(options.client_name);
  try {
    // Hello is idempotent: a lost or damaged reply is asked for again, so that a lossy link does
    // not make opening fail. The wait doubles after each attempt; the deadline bounds them all,
    // and replies to earlier attempts are skipped as stale.
    Deadline::Clock::duration attempt = kHelloAttemptTimeout;
    wire::Envelope reply;
    for (;;) {
      try {
        reply = request(hello, deadline.min(Deadline::after(attempt)));
        break;
      } catch (const Error& e) {
        if ((e.kind() != ErrorKind::kTimeout && e.kind() != ErrorKind::kBadFrame) ||
            deadline.expired())
          throw;
        common::logger("kelvin.driver")
            ->debug("{}: hello got no intact reply ({}); asking again", address_.to_string(),
                    e.what());
        attempt *= 2;
      }
    }
    if (!reply.has_device_info()) {
      throw Error(ErrorKind::kProtocol,
                  fmt::format("board answered hello with {}", firmware_protocol::body_name(reply)));
    }
    description_ = detail::from_wire(reply.device_info());
  } catch (...) {
    transport_->close();
    throw;
  }
  common::logger("kelvin.driver")
      ->info("opened {} ({} {}, {} cells, firmware {})", address_.to_string(),
             to_string(description_.family), description_.serial, description_.cells,
             description_.firmware_version);
}

Device::~Device() {
  close();
}

void Device::close() noexcept {
  if (transport_)
    transport_->close();
}

bool Device::is_open() const noexcept {
  return transport_ && transport_->is_open();
}

LinkStats Device::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

wire::Envelope Device::request(wire::Envelope request, Deadline deadline) {
  // One request in flight: wait for the device to be free. Waiting for another thread's request
  // counts against this call's deadline too. (A flag under a plain mutex rather than a
  // timed_mutex: glibc implements try_lock_until with pthread_mutex_clocklock, which
  // ThreadSanitizer in GCC 12 does not see, so every unlock would be reported.)
  {
    std::unique_lock lock(busy_mutex_);
    const auto free = [&] { return !busy_; };
    if (deadline.is_never()) {
      busy_cv_.wait(lock, free);
    } else if (!busy_cv_.wait_until(lock, deadline.when(), free)) {
      throw Error(ErrorKind::kTimeout,
                  fmt::format("{} stayed busy with another request until the deadline",
                              address_.to_string()));
    }
    busy_ = true;
  }
  struct Release {
    Device& device;
    ~Release() {
      {
        std::lock_guard lock(device.busy_mutex_);
        device.busy_ = false;
      }
      device.busy_cv_.notify_one();
    }
  } release{*this};
  return exchange_locked(request, deadline);
}

wire::Envelope Device::exchange_locked(wire::Envelope& request, Deadline deadline) {
  if (!transport_->is_open()) {
    throw Error(ErrorKind::kDisconnected, fmt::format("{} is closed", address_.to_string()));
  }
  request.set_protocol_version(firmware_protocol::kProtocolVersion);
  const std::uint64_t id = next_request_id_++;
  request.set_request_id(id);
  const auto frame = firmware_protocol::encode_envelope(request);
  transport_->write(frame, deadline);
  {
    std::lock_guard stats_lock(stats_mutex_);
    ++stats_.requests;
    stats_.bytes_sent += frame.size();
  }

  auto reply = read_reply_locked(deadline);
  // A reply to an earlier request that timed out may still arrive: skip it, so that one timeout
  // does not leave the handle out of step for good.
  while (reply.request_id() != 0 && reply.request_id() < id) {
    {
      std::lock_guard stats_lock(stats_mutex_);
      ++stats_.stale_replies;
    }
    common::logger("kelvin.driver")
        ->debug("{}: dropped stale reply to request {}", address_.to_string(), reply.request_id());
    reply = read_reply_locked(deadline);
  }
  if (reply.request_id() != id) {
    // Replies come strictly in order, so a reply from the future means the stream is broken.
    throw Error(ErrorKind::kProtocol,
                fmt::format("reply to request {} carries request id {}", id, reply.request_id()));
  }
  if (reply.has_error()) {
    const auto& err = reply.error();
    throw Error(ErrorKind::kDevice,
                fmt::format("board refused {}: {} ({})", firmware_protocol::body_name(request),
                            err.message(), wire::ErrorCode_Name(err.code())),
                static_cast<int>(err.code()));
  }
  return reply;
}

void Device::count_bad_frame() {
  std::lock_guard stats_lock(stats_mutex_);
  ++stats_.bad_frames;
}

wire::Envelope Device::read_reply_locked(Deadline deadline) {
  std::array<std::uint8_t, 64 * 1024> buffer{};
  for (;;) {
    if (auto decoded = decoder_->next()) {
      if (decoded->error) {
        count_bad_frame();
        throw Error(
            ErrorKind::kBadFrame,
            fmt::format("undecodable reply from {}: {} ({} bytes dropped)", address_.to_string(),
                        firmware_protocol::to_string(*decoded->error), decoded->discarded_bytes));
      }
      try {
        return firmware_protocol::parse_envelope(decoded->payload);
      } catch (const firmware_protocol::MessageError& e) {
        count_bad_frame();
        throw Error(ErrorKind::kBadFrame, e.what());
      }
    }
    const std::size_t n = transport_->read_some(buffer, deadline);
    {
      std::lock_guard stats_lock(stats_mutex_);
      stats_.bytes_received += n;
    }
    decoder_->feed({buffer.data(), n});
  }
}

}  // namespace kelvin::driver
