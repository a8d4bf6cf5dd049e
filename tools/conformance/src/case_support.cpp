#include "case_support.hpp"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "kelvin/common/deadline.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/firmware_protocol/version.hpp"

namespace kelvin::tools::conformance::detail {
namespace {

using common::Deadline;
using common::Error;
using common::ErrorKind;

// Frame bytes shown in a failure: enough for the header and the start of the envelope.
constexpr std::size_t kHexBytes = 48;
constexpr std::size_t kShownBytes = 16;  // byte fields longer than this are shortened

void shorten(std::string* bytes) {
  if (bytes->size() > kShownBytes)
    *bytes = fmt::format("<{} bytes>", bytes->size());
}

std::string hex(const std::vector<std::uint8_t>& frame) {
  std::string text;
  const std::size_t n = std::min(frame.size(), kHexBytes);
  for (std::size_t i = 0; i < n; ++i)
    text += fmt::format("{}{:02x}", i == 0 ? "" : " ", frame[i]);
  if (frame.size() > n)
    text += fmt::format(" ... ({} bytes)", frame.size());
  return text;
}

}  // namespace

Exchange exchange(driver::Device& device, const Envelope& request,
                  std::chrono::milliseconds timeout, const driver::RequestOptions& options) {
  Exchange x;
  x.sent = request;
  x.sent.set_protocol_version(firmware_protocol::kProtocolVersion);
  try {
    x.reply = device.request(request, Deadline::after(timeout), options);
    x.sent.set_request_id(x.reply->request_id());  // the id the driver gave it
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kDevice && e.device_code()) {
      Envelope reply;
      reply.set_protocol_version(firmware_protocol::kProtocolVersion);
      reply.mutable_error()->set_code(static_cast<wire::ErrorCode>(*e.device_code()));
      reply.mutable_error()->set_message(e.what());
      x.reply = std::move(reply);
    } else {
      x.error = e;
    }
  }
  return x;
}

std::string describe(const Envelope& envelope) {
  Envelope shown = envelope;
  if (shown.has_stream_data())
    shorten(shown.mutable_stream_data()->mutable_samples_le16());
  if (shown.has_run_results())
    shorten(shown.mutable_run_results()->mutable_samples_le16());
  if (shown.has_ping())
    shorten(shown.mutable_ping()->mutable_payload());
  if (shown.has_pong())
    shorten(shown.mutable_pong()->mutable_payload());
  if (shown.has_program_couplings())
    shorten(shown.mutable_program_couplings()->mutable_upper_codes_le16());
  std::string text = shown.ShortDebugString();
  if (shown.has_device_info())  // the whole description is long; the header says enough
    text = fmt::format("device_info {{ protocol_version: {} serial: \"{}\" ... }}",
                       shown.device_info().protocol_version(), shown.device_info().serial());
  return fmt::format("{{ {} }} [frame {}]", text,
                     hex(firmware_protocol::encode_envelope(envelope)));
}

std::string describe(const Exchange& x) {
  const std::string received =
      x.reply ? describe(*x.reply)
              : fmt::format("no reply: {} ({})", x.error ? x.error->what() : "nothing",
                            x.error ? common::to_string(x.error->kind()) : "");
  return fmt::format("sent     {}\nreceived {}", describe(x.sent), received);
}

void fail(const std::string& expected, const Exchange& x) {
  throw CaseFailure(fmt::format("expected {}\n{}", expected, describe(x)));
}

void fail(const std::string& what) {
  throw CaseFailure(what);
}

const Envelope& expect_reply(const Exchange& x, Envelope::BodyCase body,
                             const std::string& expected) {
  if (!x.reply || x.reply->body_case() != body)
    fail(expected, x);
  return *x.reply;
}

void expect_error(const Exchange& x, wire::ErrorCode code, const std::string& why) {
  if (!x.reply || !x.reply->has_error() || x.reply->error().code() != code)
    fail(fmt::format("{} ({})", wire::ErrorCode_Name(code), why), x);
}

void check(bool ok, const std::string& expected, const Exchange& x) {
  if (!ok)
    fail(expected, x);
}

Session open_session(const CaseContext& context, const std::string& uri) {
  Session s;
  s.device = uri.empty() ? context.open() : context.open(uri);
  const Exchange x = exchange(
      *s.device, hello(firmware_protocol::kProtocolVersion, firmware_protocol::kProtocolVersion));
  s.info = expect_reply(x, Envelope::kDeviceInfo, "DeviceInfo for a Hello of this version")
               .device_info();
  return s;
}

void require_resonator(const Session& s, std::uint64_t capability, const char* capability_name) {
  if (s.info.family() != wire::BOARD_FAMILY_RESONATOR)
    throw CaseSkipped("a resonator-board case; this board is " +
                      wire::BoardFamily_Name(s.info.family()));
  if (capability != 0 && (s.info.capabilities() & capability) == 0)
    throw CaseSkipped(fmt::format("the board does not announce {}", capability_name));
}

void program(Session& s) {
  const std::uint32_t n = s.info.cell_count();
  const auto& coupling = s.info.coupling_dac();
  const auto diagonal =
      static_cast<std::int16_t>(std::min<std::int64_t>(coupling.max_code(), 9830));
  const auto off = static_cast<std::int16_t>(std::max<std::int64_t>(coupling.min_code(), -1638));
  std::string upper;
  for (std::uint32_t i = 0; i < n; ++i) {
    for (std::uint32_t j = i; j < n; ++j) {
      const std::int16_t code = j == i ? diagonal : (j == i + 1 ? off : std::int16_t{0});
      upper.push_back(static_cast<char>(code & 0xff));
      upper.push_back(static_cast<char>((code >> 8) & 0xff));
    }
  }
  Envelope couplings;
  couplings.mutable_program_couplings()->set_cells(n);
  couplings.mutable_program_couplings()->set_upper_codes_le16(upper);
  Envelope biases;
  biases.mutable_program_biases()->set_cells(n);
  biases.mutable_program_biases()->set_codes_le16(std::string(2 * std::size_t{n}, '\0'));
  Envelope noise;
  const auto& noise_dac = s.info.noise_dac();
  noise.mutable_set_noise()->set_code(static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(2000, noise_dac.min_code(), noise_dac.max_code())));
  for (const Envelope& request : {couplings, biases, noise}) {
    const Exchange x = exchange(*s.device, request);
    expect_reply(x, Envelope::kAck, "Ack for a valid register write");
  }
}

std::uint64_t device_tick(Session& s) {
  const Exchange x = exchange(*s.device, ping({}));
  return expect_reply(x, Envelope::kPong, "Pong").pong().device_tick();
}

StreamGuard::~StreamGuard() {
  try {
    (void)exchange(*session_.device, stop_stream());
  } catch (...) {  // the board is gone; nothing to clean up
  }
}

Envelope hello(std::uint32_t min_version, std::uint32_t max_version) {
  Envelope e;
  e.mutable_hello()->set_min_version(min_version);
  e.mutable_hello()->set_max_version(max_version);
  e.mutable_hello()->set_client("kelvin conformance");
  return e;
}

Envelope ping(std::string payload) {
  Envelope e;
  e.mutable_ping()->set_payload(std::move(payload));
  return e;
}

Envelope start_stream(std::uint64_t start_tick) {
  Envelope e;
  e.mutable_start_stream()->set_start_tick(start_tick);
  return e;
}

Envelope read_stream(std::uint32_t max_samples, std::optional<std::uint64_t> from_sequence) {
  Envelope e;
  e.mutable_read_stream()->set_max_samples(max_samples);
  if (from_sequence)
    e.mutable_read_stream()->set_from_sequence(*from_sequence);
  return e;
}

Envelope stop_stream() {
  Envelope e;
  e.mutable_stop_stream();
  return e;
}

}  // namespace kelvin::tools::conformance::detail
