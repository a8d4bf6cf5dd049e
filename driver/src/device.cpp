#include "kelvin/driver/device.hpp"

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

namespace {

double microseconds(ReplyTimer::Duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

ReplyTimer reply_timer_for(const OpenOptions& options) {
  if (options.min_reply_timeout <= std::chrono::milliseconds::zero() ||
      options.min_reply_timeout > options.reply_timeout) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("OpenOptions needs 0 < min_reply_timeout <= reply_timeout, got {} ms "
                            "and {} ms",
                            options.min_reply_timeout.count(), options.reply_timeout.count()));
  }
  return ReplyTimer(options.min_reply_timeout, options.reply_timeout, 16 * options.reply_timeout);
}

}  // namespace

Device::Device(std::unique_ptr<Transport> transport, DeviceAddress address,
               const OpenOptions& options)
    : transport_(std::move(transport)),
      address_(std::move(address)),
      log_(common::logger("kelvin.driver")),
      decoder_(std::make_unique<firmware_protocol::FrameDecoder>()),
      read_buffer_(64 * 1024),
      reply_timer_(reply_timer_for(options)) {
  if (!transport_)
    throw Error(ErrorKind::kInvalidArgument, "Device needs a transport");
  const auto deadline = Deadline::after(options.open_timeout);
  wire::Envelope hello;
  hello.mutable_hello()->set_min_version(firmware_protocol::kProtocolVersion);
  hello.mutable_hello()->set_max_version(firmware_protocol::kProtocolVersion);
  hello.mutable_hello()->set_client(options.client_name);
  try {
    // Hello is sent again after lost or damaged replies like any request, so that a lossy link
    // does not make opening fail; its round trip seeds the reply timer.
    const wire::Envelope reply = request(hello, deadline);
    if (!reply.has_device_info()) {
      throw Error(ErrorKind::kProtocol,
                  fmt::format("board answered hello with {}", firmware_protocol::body_name(reply)));
    }
    description_ = detail::from_wire(reply.device_info());
  } catch (...) {
    transport_->close();
    throw;
  }
  log_->info("opened {} ({} {}, {} cells, firmware {})", address_.to_string(),
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

wire::Envelope Device::request(wire::Envelope request, Deadline deadline,
                               const RequestOptions& options) {
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
  return exchange_locked(request, deadline, options);
}

template <typename Update>
void Device::update_stats(Update update) {
  std::lock_guard stats_lock(stats_mutex_);
  update(stats_);
}

wire::Envelope Device::exchange_locked(wire::Envelope& request, Deadline deadline,
                                       const RequestOptions& options) {
  if (!transport_->is_open()) {
    throw Error(ErrorKind::kDisconnected, fmt::format("{} is closed", address_.to_string()));
  }
  request.set_protocol_version(firmware_protocol::kProtocolVersion);
  const std::uint64_t id = next_request_id_++;
  request.set_request_id(id);
  const auto frame = firmware_protocol::encode_envelope(request);
  update_stats([](LinkStats& s) { ++s.requests; });
  const auto& log = log_;
  std::uint64_t lost = 0;
  std::uint64_t damaged = 0;
  std::uint64_t resends = 0;
  std::uint64_t damaged_in_a_row = 0;
  bool damaged_this_attempt = false;  // a timeout then is the damage's, not a lost reply
  bool send = true;
  auto sent = Deadline::Clock::now();
  Deadline attempt = deadline;
  for (;;) {
    if (send) {
      // Every attempt sends the same bytes under the same id: the board answers a repeat with
      // the reply it kept, so a request is never done twice however often it is asked.
      sent = Deadline::Clock::now();
      damaged_this_attempt = false;
      transport_->write(frame, deadline);
      update_stats([&](LinkStats& s) { s.bytes_sent += frame.size(); });
      attempt = options.resend
                    ? deadline.min(Deadline::after(reply_timer_.wait() + options.service_time))
                    : deadline;
    }
    send = true;
    try {
      auto reply = await_reply_locked(id, request, attempt);
      // Karn's rule: a repeated request's reply may answer any of its attempts, so only
      // unrepeated ones are measured, and only those without board-side work to wait for.
      if (resends == 0 && options.service_time == std::chrono::nanoseconds::zero())
        reply_timer_.on_reply(Deadline::Clock::now() - sent);
      else
        reply_timer_.end_backoff();
      if (resends > 0) {
        log->info("{}: request {} ({}) answered after {} resends ({} lost, {} damaged replies)",
                  address_.to_string(), id, firmware_protocol::body_name(request), resends, lost,
                  damaged);
      }
      update_stats([&](LinkStats& s) {
        s.round_trip_us = microseconds(reply_timer_.smoothed_round_trip());
        s.reply_wait_us = microseconds(reply_timer_.wait());
      });
      if (reply.has_error()) {
        const auto& err = reply.error();
        throw Error(ErrorKind::kDevice,
                    fmt::format("board refused {}: {} ({})", firmware_protocol::body_name(request),
                                err.message(), wire::ErrorCode_Name(err.code())),
                    static_cast<int>(err.code()));
      }
      return reply;
    } catch (const Error& e) {
      const bool link_fault = e.kind() == ErrorKind::kTimeout || e.kind() == ErrorKind::kBadFrame;
      if (!options.resend || !link_fault)
        throw;
      const bool lost_reply = e.kind() == ErrorKind::kTimeout && !damaged_this_attempt;
      if (e.kind() == ErrorKind::kTimeout) {
        lost += lost_reply ? 1 : 0;
        damaged_in_a_row = 0;
        reply_timer_.on_timeout();
      } else {
        // Asked again at once: the damaged frame was likely this request's reply. A second one
        // in a row means a link (or board) that garbles everything: the attempt's wait runs out
        // first, rather than the link being flooded with repeats.
        ++damaged;
        damaged_this_attempt = true;
        send = ++damaged_in_a_row == 1;
      }
      update_stats([&](LinkStats& s) {
        if (lost_reply)
          ++s.lost_replies;
        s.reply_wait_us = microseconds(reply_timer_.wait());
      });
      if (deadline.expired()) {
        throw Error(lost == 0 ? ErrorKind::kBadFrame : ErrorKind::kTimeout,
                    fmt::format("{}: no intact reply to request {} ({}) before the deadline after "
                                "{} attempts ({} lost, {} damaged replies; last: {})",
                                address_.to_string(), id, firmware_protocol::body_name(request),
                                resends + 1, lost, damaged, e.what()));
      }
      if (!send)
        continue;
      ++resends;
      update_stats([](LinkStats& s) { ++s.retries; });
      log->debug("{}: request {} ({}): {}; sending it again", address_.to_string(), id,
                 firmware_protocol::body_name(request), e.what());
    }
  }
}

wire::Envelope Device::await_reply_locked(std::uint64_t id, const wire::Envelope& request,
                                          Deadline deadline) {
  for (;;) {
    auto reply = read_reply_locked(deadline);
    if (reply.request_id() == id)
      return reply;
    if (reply.request_id() == 0 && reply.has_error()) {
      // Id 0: the peer could not take a frame at all (undecodable, or over its size limit), so
      // it answers the connection rather than a request. One request is in flight, so it is
      // this one's; resending the same bytes would be refused the same way.
      const auto& err = reply.error();
      update_stats([](LinkStats& s) { ++s.refusals; });
      throw Error(ErrorKind::kDevice,
                  fmt::format("{} refused the frame of request {} ({}): {} ({})",
                              transport_->describe(), id, firmware_protocol::body_name(request),
                              err.message(), wire::ErrorCode_Name(err.code())),
                  static_cast<int>(err.code()));
    }
    if (reply.request_id() != 0 && reply.request_id() < id) {
      // A late or duplicate reply to an earlier request (or an earlier attempt of this one that
      // was already answered): skip it, so that one lost reply does not leave the handle out of
      // step for good.
      update_stats([](LinkStats& s) { ++s.stale_replies; });
      log_->debug("{}: dropped stale reply to request {}", address_.to_string(),
                  reply.request_id());
      continue;
    }
    // Replies come strictly in order, so a reply from the future means the stream is broken.
    throw Error(ErrorKind::kProtocol,
                fmt::format("reply to request {} carries request id {}", id, reply.request_id()));
  }
}

wire::Envelope Device::read_reply_locked(Deadline deadline) {
  for (;;) {
    if (auto decoded = decoder_->next()) {
      if (decoded->error) {
        update_stats([](LinkStats& s) { ++s.bad_frames; });
        throw Error(
            ErrorKind::kBadFrame,
            fmt::format("undecodable reply from {}: {} ({} bytes dropped)", address_.to_string(),
                        firmware_protocol::to_string(*decoded->error), decoded->discarded_bytes));
      }
      try {
        return firmware_protocol::parse_envelope(decoded->payload);
      } catch (const firmware_protocol::MessageError& e) {
        update_stats([](LinkStats& s) { ++s.bad_frames; });
        throw Error(ErrorKind::kBadFrame, e.what());
      }
    }
    const std::size_t n = transport_->read_some(read_buffer_, deadline);
    update_stats([n](LinkStats& s) { s.bytes_received += n; });
    decoder_->feed({read_buffer_.data(), n});
  }
}

}  // namespace kelvin::driver
