// Cases for every board family: hello and version negotiation, ping, the ping limit and
// requests a board must refuse as unexpected.
#include <string>

#include <fmt/format.h>

#include "case_lists.hpp"
#include "case_support.hpp"
#include "kelvin/firmware_protocol/version.hpp"

namespace kelvin::tools::conformance::detail {
namespace {

constexpr std::uint32_t kVersion = firmware_protocol::kProtocolVersion;
constexpr std::size_t kMaxPing = 65536;  // docs/protocol.md: Ping payload at most 65,536 bytes

void describes_the_board(const CaseContext& context) {
  Session s = open_session(context);
  const Exchange x = exchange(*s.device, hello(kVersion, kVersion));
  const Envelope& reply = expect_reply(x, Envelope::kDeviceInfo, "DeviceInfo");
  const wire::DeviceInfo& info = reply.device_info();
  check(reply.protocol_version() == kVersion,
        fmt::format("a reply envelope of protocol_version {}", kVersion), x);
  check(info.protocol_version() == kVersion,
        fmt::format("DeviceInfo.protocol_version {} (the version of the Hello)", kVersion), x);
  check(info.family() != wire::BOARD_FAMILY_UNSPECIFIED, "a board family", x);
  check(!info.serial().empty(), "a serial number", x);
  check(!info.firmware_version().empty(), "a firmware version", x);
  check(info.tick_rate_hz() > 0.0 && info.ticks_per_sample() > 0,
        "a positive tick rate and ticks per sample", x);
  check(info.max_frame_payload() > 0, "a maximum frame payload", x);
  if (info.family() == wire::BOARD_FAMILY_RESONATOR) {
    check(info.cell_count() > 0, "at least one cell", x);
    check(info.has_resonator(), "DeviceInfo.resonator on a resonator board", x);
  }
}

void negotiates_the_version(const CaseContext& context) {
  Session s = open_session(context);
  const Exchange wide = exchange(*s.device, hello(1, kVersion + 10));
  const Envelope& reply =
      expect_reply(wide, Envelope::kDeviceInfo,
                   fmt::format("DeviceInfo for a Hello offering versions [1, {}]", kVersion + 10));
  check(reply.device_info().protocol_version() == kVersion,
        fmt::format("the board to choose version {}", kVersion), wide);
  const Exchange newer = exchange(*s.device, hello(kVersion + 1, kVersion + 3));
  expect_error(newer, wire::ERROR_CODE_UNSUPPORTED_VERSION,
               fmt::format("the Hello offers only versions above {}", kVersion));
  const Exchange older = exchange(*s.device, hello(1, kVersion - 1));
  expect_error(older, wire::ERROR_CODE_UNSUPPORTED_VERSION,
               fmt::format("the Hello offers only versions below {}", kVersion));
  // A refused Hello must leave the board ready for one it accepts.
  const Exchange again = exchange(*s.device, hello(kVersion, kVersion));
  expect_reply(again, Envelope::kDeviceInfo, "DeviceInfo after refused Hellos");
}

void ping_echoes(const CaseContext& context) {
  Session s = open_session(context);
  std::uint64_t last_tick = 0;
  for (const std::size_t bytes : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, kMaxPing}) {
    std::string payload(bytes, '\0');
    for (std::size_t i = 0; i < bytes; ++i)
      payload[i] = static_cast<char>((i * 131 + 7) & 0xff);
    const Exchange x = exchange(*s.device, ping(payload));
    const Envelope& reply = expect_reply(x, Envelope::kPong, "Pong");
    check(reply.pong().payload() == payload,
          fmt::format("the {}-byte payload echoed unchanged", bytes), x);
    check(reply.pong().device_tick() >= last_tick,
          fmt::format("a device tick not below the previous one ({})", last_tick), x);
    last_tick = reply.pong().device_tick();
  }
}

void ping_limit(const CaseContext& context) {
  Session s = open_session(context);
  const Exchange x = exchange(*s.device, ping(std::string(kMaxPing + 1, 'x')));
  if (!x.reply || !x.reply->has_error() ||
      (x.reply->error().code() != wire::ERROR_CODE_INVALID_ARGUMENT &&
       x.reply->error().code() != wire::ERROR_CODE_RESOURCE_EXHAUSTED)) {
    fail(fmt::format("INVALID_ARGUMENT or RESOURCE_EXHAUSTED for a {}-byte ping (limit {})",
                     kMaxPing + 1, kMaxPing),
         x);
  }
  expect_reply(exchange(*s.device, ping("after")), Envelope::kPong, "Pong after a refused ping");
}

void unexpected_messages(const CaseContext& context) {
  Session s = open_session(context);
  const Exchange empty = exchange(*s.device, Envelope{});
  expect_error(empty, wire::ERROR_CODE_UNEXPECTED_MESSAGE, "an envelope without a body");
  Envelope ack;
  ack.mutable_ack();
  expect_error(exchange(*s.device, ack), wire::ERROR_CODE_UNEXPECTED_MESSAGE,
               "a reply type (Ack) sent as a request");
  Envelope other;  // a request of the other family
  if (s.info.family() == wire::BOARD_FAMILY_RESONATOR)
    other.mutable_start_sampling()->set_sweeps(1);
  else
    other.mutable_set_noise()->set_code(0);
  expect_error(exchange(*s.device, other), wire::ERROR_CODE_UNEXPECTED_MESSAGE,
               "a request of the other board family");
  Envelope attach;
  attach.mutable_attach();
  expect_error(exchange(*s.device, attach), wire::ERROR_CODE_UNEXPECTED_MESSAGE,
               "Attach, which only board servers answer, inside a session");
}

}  // namespace

std::vector<Case> session_cases() {
  return {
      {"hello.describes_the_board",
       "Hello of the current version is answered by a DeviceInfo of that version",
       describes_the_board},
      {"hello.negotiates_the_version",
       "Hello picks the current version from a range; ranges without it are UNSUPPORTED_VERSION",
       negotiates_the_version},
      {"ping.echoes_the_payload", "Ping payloads of 0 to 65536 bytes come back unchanged",
       ping_echoes},
      {"limits.ping_over_the_limit_is_refused",
       "a Ping payload over 65536 bytes is refused, and the session goes on", ping_limit},
      {"requests.unexpected_messages_are_refused",
       "empty bodies, replies, other families' requests and Attach are UNEXPECTED_MESSAGE",
       unexpected_messages},
  };
}

}  // namespace kelvin::tools::conformance::detail
