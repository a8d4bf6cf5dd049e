// What the conformance cases share: one request and its outcome (reply or error) kept with the
// frame that showed it, checks that fail a case naming what was expected and what came, and
// the board set-up every case needs (a session with its DeviceInfo, valid registers, a stream
// stopped on every path).
//
// Thread contract: as the cases: one thread per session.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/device.hpp"
#include "kelvin/firmware_protocol/wire.pb.h"
#include "kelvin/tools/conformance/conformance.hpp"

namespace kelvin::tools::conformance::detail {

namespace wire = firmware_protocol::wire;
using Envelope = wire::Envelope;

// Thrown by a case that found the board misbehaving: the message says what was expected, what
// was received and the frame that showed it.
class CaseFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// Thrown by a case that cannot run against this target or board (the message says why).
class CaseSkipped : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One request and what came of it.
struct Exchange {
  Envelope sent;
  std::optional<Envelope> reply;       // a reply, an Error reply included (rebuilt from the
                                       // driver's kDevice error: code and message)
  std::optional<common::Error> error;  // no reply: timeout, disconnect, protocol violation
};

// Sends `request` (the driver fills in version and request id, and repeats it after a lost
// reply) and never throws for what the board answers or fails to answer.
Exchange exchange(driver::Device& device, const Envelope& request,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5),
                  const driver::RequestOptions& options = {});

// The envelope as protobuf text (large byte fields shortened) and the first bytes of its frame
// in hex, for failure messages.
std::string describe(const Envelope& envelope);
// "sent     <request>\nreceived <reply or error>".
std::string describe(const Exchange& x);

[[noreturn]] void fail(const std::string& expected, const Exchange& x);
[[noreturn]] void fail(const std::string& what);
// The reply, when its body is `body` (named `expected` in the failure otherwise).
const Envelope& expect_reply(const Exchange& x, Envelope::BodyCase body,
                             const std::string& expected);
// Passes when the board answered with an Error of `code`.
void expect_error(const Exchange& x, wire::ErrorCode code, const std::string& why);
// Fails with `expected` and the exchange unless `ok`.
void check(bool ok, const std::string& expected, const Exchange& x);

// A session with the board and the DeviceInfo of its own hello.
struct Session {
  std::unique_ptr<driver::Device> device;
  wire::DeviceInfo info;
};
Session open_session(const CaseContext& context, const std::string& uri = {});
// Skips the case unless the board is a resonator board (with `capability`, if non-zero).
void require_resonator(const Session& s, std::uint64_t capability = 0,
                       const char* capability_name = "");

// Valid couplings (a diagonally dominant chain), zero biases and a mid-range noise code.
void program(Session& s);
// The board's clock now (a Ping).
std::uint64_t device_tick(Session& s);

// Stops the session's stream when it goes out of scope, whatever the case's outcome.
class StreamGuard {
 public:
  explicit StreamGuard(Session& s) : session_(s) {}
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  Session& session_;
};

// Envelope builders.
Envelope hello(std::uint32_t min_version, std::uint32_t max_version);
Envelope ping(std::string payload);
Envelope start_stream(std::uint64_t start_tick = 0);
Envelope read_stream(std::uint32_t max_samples, std::optional<std::uint64_t> from_sequence = {});
Envelope stop_stream();

}  // namespace kelvin::tools::conformance::detail
