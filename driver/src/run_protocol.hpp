// Wire mapping shared by every board family: acknowledgements, the RunStarted reply and the
// ReadResults request. Family-specific messages live in resonator/ and pbit/.
#pragma once

#include <cstdint>

#include "kelvin/firmware_protocol/wire.pb.h"

namespace kelvin::driver::run_protocol {

// What RunStarted says about a run that was just started.
struct StartedRun {
  std::uint64_t run_id = 0;
  std::uint64_t first_tick = 0;
  std::uint64_t sample_count = 0;
};

// Throws Error(kProtocol) naming what arrived instead of `wanted`.
[[noreturn]] void unexpected_reply(const firmware_protocol::wire::Envelope& reply,
                                   const char* wanted);
void expect_ack(const firmware_protocol::wire::Envelope& reply, const char* request_name);
StartedRun parse_run_started(const firmware_protocol::wire::Envelope& reply);
firmware_protocol::wire::Envelope read_results(std::uint64_t run_id);

}  // namespace kelvin::driver::run_protocol
