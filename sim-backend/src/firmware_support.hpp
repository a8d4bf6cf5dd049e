// What every emulated board's firmware shares (internal to kelvin_sim_backend): the frame loop that
// turns host bytes into one reply frame per request, version checks, error replies and small
// encoding helpers. A firmware supplies only its request handler.
//
// Thread contract: pure functions; serve_frames() uses the decoder and handler it is given from
// the calling thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/firmware_protocol/framing.hpp"
#include "kelvin/firmware_protocol/wire.pb.h"
#include "kelvin/sim_backend/board_error.hpp"
#include "kelvin/sim_backend/reply_cache.hpp"

namespace spdlog {
class logger;
}

namespace kelvin::sim_backend::detail {

// The wire ErrorCode of a board's refusal: the one place BoardErrorCode meets the wire.
firmware_protocol::wire::ErrorCode to_wire(BoardErrorCode code);
// The encoded Error reply (message truncated to a sane length).
std::vector<std::uint8_t> encode_error(std::uint64_t request_id,
                                       firmware_protocol::wire::ErrorCode code,
                                       std::string_view message);
// An empty reply envelope echoing the request id, in this build's protocol version.
firmware_protocol::wire::Envelope reply_to(const firmware_protocol::wire::Envelope& request);
std::span<const std::uint8_t> as_bytes(const std::string& s);
void fill_format(firmware_protocol::wire::CodeFormat* f, std::uint32_t bits, bool is_signed,
                 std::int64_t min_code, std::int64_t max_code, double lsb, std::string_view unit);

// The Pong reply to a Ping (v5): the payload echoed with the board's clock. BoardError
// (INVALID_ARGUMENT) for a payload above kMaxPingPayload.
inline constexpr std::size_t kMaxPingPayload = 65536;
std::vector<std::uint8_t> pong(const firmware_protocol::wire::Envelope& request,
                               std::uint64_t device_tick);

// BoardError(UNSUPPORTED_VERSION) unless the envelope speaks this build's version.
void check_envelope_version(const firmware_protocol::wire::Envelope& request);
// BoardError(UNSUPPORTED_VERSION), naming the version the board speaks, unless it lies in
// [hello.min_version, hello.max_version].
void check_hello_version(const firmware_protocol::wire::Hello& hello);
// Always throws BoardError(UNEXPECTED_MESSAGE): for a reply type, an empty body, or a request
// of another board family (`family` names this board's, e.g. "resonator").
[[noreturn]] void refuse_request(const firmware_protocol::wire::Envelope& request,
                                 std::string_view family);

// The encoded reply to a parsed request; throws BoardError for refused requests.
using RequestHandler =
    std::function<std::vector<std::uint8_t>(const firmware_protocol::wire::Envelope&)>;

// A board's on_bytes(): feeds `bytes` to the decoder and returns the reply frames: one per
// request frame (the handler's, or an Error for BoardError, oversize replies and faults), one
// MALFORMED_FRAME per run of undecodable bytes and one MALFORMED_MESSAGE per payload that is not
// an Envelope. A request repeated byte for byte under the same id is answered with the reply
// `replies` kept for it, without calling the handler again (reply_cache.hpp). A board without
// power (powered() false before or after) says nothing. No exception leaves it.
std::vector<std::uint8_t> serve_frames(firmware_protocol::FrameDecoder& decoder,
                                       ReplyCache& replies, spdlog::logger& log,
                                       std::span<const std::uint8_t> bytes,
                                       const std::function<bool()>& powered,
                                       const RequestHandler& handle);
// A board's on_idle(): runs the pending work (finishes a started run), logging faults.
std::vector<std::uint8_t> idle_work(spdlog::logger& log, const std::function<void()>& work);

}  // namespace kelvin::sim_backend::detail
