#include "firmware_support.hpp"

#include <exception>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/sim_backend/board_error.hpp"

namespace kelvin::sim_backend::detail {
namespace {

using firmware_protocol::wire::Envelope;
using firmware_protocol::wire::ErrorCode;

// Error messages are for humans; keep a runaway what() from bloating a reply.
constexpr std::size_t kMaxErrorMessage = 1024;

void append(std::vector<std::uint8_t>& out, const std::vector<std::uint8_t>& frame) {
  out.insert(out.end(), frame.begin(), frame.end());
}

// The encoded reply frame to one parsed request.
std::vector<std::uint8_t> handle_request(spdlog::logger& log, const Envelope& request,
                                         const RequestHandler& handle) {
  const std::uint64_t id = request.request_id();
  try {
    return handle(request);
  } catch (const BoardError& e) {
    log.debug("request {} ({}) refused: {}", id, firmware_protocol::body_name(request), e.what());
    return encode_error(id, to_wire(e.code()), e.what());
  } catch (const firmware_protocol::FrameError& e) {
    log.warn("reply to request {} ({}) cannot be sent: {}", id,
             firmware_protocol::body_name(request), e.what());
    return encode_error(id, ErrorCode::ERROR_CODE_RESOURCE_EXHAUSTED, e.what());
  } catch (const std::exception& e) {
    log.error("internal fault handling request {} ({}): {}", id,
              firmware_protocol::body_name(request), e.what());
    return encode_error(id, ErrorCode::ERROR_CODE_INTERNAL,
                        fmt::format("internal fault handling {}: {}",
                                    firmware_protocol::body_name(request), e.what()));
  } catch (...) {
    log.error("internal fault handling request {}: unknown exception", id);
    return encode_error(id, ErrorCode::ERROR_CODE_INTERNAL, "internal fault");
  }
}

// The encoded reply frame to one decoded payload: the kept reply for a repeated request, else
// the handler's (refusals included: a repeat must get the same answer, whatever it was).
std::vector<std::uint8_t> handle_payload(spdlog::logger& log, ReplyCache& replies,
                                         std::span<const std::uint8_t> payload,
                                         const RequestHandler& handle) {
  Envelope request;
  try {
    request = firmware_protocol::parse_envelope(payload);
  } catch (const firmware_protocol::MessageError& e) {
    log.debug("{}", e.what());
    return encode_error(0, ErrorCode::ERROR_CODE_MALFORMED_MESSAGE, e.what());
  }
  const std::uint64_t id = request.request_id();
  // Hello is always done (it changes nothing) and starts a session whose ids begin again.
  if (!request.has_hello()) {
    if (const auto* kept = replies.find(id, payload)) {
      replies.count_resent();
      log.debug("request {} ({}) came again: resending its reply, not doing it twice", id,
                firmware_protocol::body_name(request));
      return *kept;
    }
  }
  auto reply = handle_request(log, request, handle);
  if (request.has_hello())
    replies.clear();
  replies.store(id, payload, reply);
  return reply;
}

}  // namespace

ErrorCode to_wire(BoardErrorCode code) {
  switch (code) {
    case BoardErrorCode::kUnsupportedVersion:
      return ErrorCode::ERROR_CODE_UNSUPPORTED_VERSION;
    case BoardErrorCode::kUnexpectedMessage:
      return ErrorCode::ERROR_CODE_UNEXPECTED_MESSAGE;
    case BoardErrorCode::kInvalidArgument:
      return ErrorCode::ERROR_CODE_INVALID_ARGUMENT;
    case BoardErrorCode::kOutOfRange:
      return ErrorCode::ERROR_CODE_OUT_OF_RANGE;
    case BoardErrorCode::kNotProgrammed:
      return ErrorCode::ERROR_CODE_NOT_PROGRAMMED;
    case BoardErrorCode::kUnknownRun:
      return ErrorCode::ERROR_CODE_UNKNOWN_RUN;
    case BoardErrorCode::kResourceExhausted:
      return ErrorCode::ERROR_CODE_RESOURCE_EXHAUSTED;
    case BoardErrorCode::kInternal:
      return ErrorCode::ERROR_CODE_INTERNAL;
    case BoardErrorCode::kBusy:
      return ErrorCode::ERROR_CODE_BUSY;
    case BoardErrorCode::kNoStream:
      return ErrorCode::ERROR_CODE_NO_STREAM;
    case BoardErrorCode::kLateCommand:
      return ErrorCode::ERROR_CODE_LATE_COMMAND;
  }
  return ErrorCode::ERROR_CODE_INTERNAL;  // not reached: the switch names every code
}

std::vector<std::uint8_t> encode_error(std::uint64_t request_id, ErrorCode code,
                                       std::string_view message) {
  Envelope reply;
  reply.set_protocol_version(firmware_protocol::kProtocolVersion);
  reply.set_request_id(request_id);
  auto* error = reply.mutable_error();
  error->set_code(code);
  error->set_message(std::string(message.substr(0, kMaxErrorMessage)));
  return firmware_protocol::encode_envelope(reply);
}

Envelope reply_to(const Envelope& request) {
  Envelope reply;
  reply.set_protocol_version(firmware_protocol::kProtocolVersion);
  reply.set_request_id(request.request_id());
  return reply;
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void fill_format(firmware_protocol::wire::CodeFormat* f, std::uint32_t bits, bool is_signed,
                 std::int64_t min_code, std::int64_t max_code, double lsb, std::string_view unit) {
  f->set_bits(bits);
  f->set_is_signed(is_signed);
  f->set_min_code(min_code);
  f->set_max_code(max_code);
  f->set_lsb(lsb);
  f->set_offset(0.0);
  f->set_unit(std::string(unit));
}

void check_envelope_version(const Envelope& request) {
  if (request.protocol_version() != firmware_protocol::kProtocolVersion) {
    throw BoardError(BoardErrorCode::kUnsupportedVersion,
                     fmt::format("request uses protocol version {}; this board speaks version {} "
                                 "only",
                                 request.protocol_version(), firmware_protocol::kProtocolVersion));
  }
}

std::vector<std::uint8_t> pong(const Envelope& request, std::uint64_t device_tick) {
  const std::string& payload = request.ping().payload();
  if (payload.size() > kMaxPingPayload) {
    throw BoardError(
        BoardErrorCode::kInvalidArgument,
        fmt::format("ping payload of {} bytes exceeds {}", payload.size(), kMaxPingPayload));
  }
  Envelope reply = reply_to(request);
  reply.mutable_pong()->set_payload(payload);
  reply.mutable_pong()->set_device_tick(device_tick);
  return firmware_protocol::encode_envelope(reply);
}

void check_hello_version(const firmware_protocol::wire::Hello& hello) {
  if (hello.min_version() > firmware_protocol::kProtocolVersion ||
      hello.max_version() < firmware_protocol::kProtocolVersion) {
    throw BoardError(
        BoardErrorCode::kUnsupportedVersion,
        fmt::format("host asked for protocol versions [{}, {}]; this board "
                    "speaks version {} only",
                    hello.min_version(), hello.max_version(), firmware_protocol::kProtocolVersion));
  }
}

void refuse_request(const Envelope& request, std::string_view family) {
  switch (request.body_case()) {
    case Envelope::kDeviceInfo:
    case Envelope::kAck:
    case Envelope::kRunStarted:
    case Envelope::kRunResults:
    case Envelope::kSamplingResults:
    case Envelope::kError:
    case Envelope::kStreamStarted:
    case Envelope::kStreamData:
    case Envelope::kPong:
    case Envelope::kAttached:
      throw BoardError(
          BoardErrorCode::kUnexpectedMessage,
          fmt::format("{} is a reply, not a request", firmware_protocol::body_name(request)));
    case Envelope::BODY_NOT_SET:
      throw BoardError(BoardErrorCode::kUnexpectedMessage, "request has no body");
    default:
      throw BoardError(BoardErrorCode::kUnexpectedMessage,
                       fmt::format("{} is not a request a {} board handles",
                                   firmware_protocol::body_name(request), family));
  }
}

std::vector<std::uint8_t> serve_frames(firmware_protocol::FrameDecoder& decoder,
                                       ReplyCache& replies, spdlog::logger& log,
                                       std::span<const std::uint8_t> bytes,
                                       const std::function<bool()>& powered,
                                       const RequestHandler& handle) {
  std::vector<std::uint8_t> out;
  if (!powered())
    return out;  // a board without power says nothing
  try {
    decoder.feed(bytes);
    while (auto frame = decoder.next()) {
      if (frame->error) {
        const auto message =
            fmt::format("malformed frame: {} ({} bytes discarded)",
                        firmware_protocol::to_string(*frame->error), frame->discarded_bytes);
        log.debug("{}", message);
        append(out, encode_error(0, ErrorCode::ERROR_CODE_MALFORMED_FRAME, message));
      } else {
        append(out, handle_payload(log, replies, frame->payload, handle));
      }
    }
  } catch (const std::exception& e) {
    log.error("internal fault in the frame loop: {}", e.what());
    try {
      append(out, encode_error(0, ErrorCode::ERROR_CODE_INTERNAL,
                               fmt::format("internal fault: {}", e.what())));
    } catch (...) {  // out of memory: nothing more can be said
    }
  } catch (...) {
    log.error("internal fault in the frame loop: unknown exception");
    try {
      append(out, encode_error(0, ErrorCode::ERROR_CODE_INTERNAL, "internal fault"));
    } catch (...) {
    }
  }
  if (!powered())
    out.clear();  // power went off mid-request: the reply is lost
  return out;
}

std::vector<std::uint8_t> idle_work(spdlog::logger& log, const std::function<void()>& work) {
  try {
    work();
  } catch (const std::exception& e) {
    log.error("internal fault while running a started run: {}", e.what());
  }
  return {};
}

}  // namespace kelvin::sim_backend::detail
