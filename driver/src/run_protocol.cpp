#include "run_protocol.hpp"

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"

namespace kelvin::driver::run_protocol {

using common::Error;
using common::ErrorKind;

void unexpected_reply(const firmware_protocol::wire::Envelope& reply, const char* wanted) {
  throw Error(ErrorKind::kProtocol, fmt::format("board answered {} where {} was expected",
                                                firmware_protocol::body_name(reply), wanted));
}

void expect_ack(const firmware_protocol::wire::Envelope& reply, const char* request_name) {
  if (!reply.has_ack())
    unexpected_reply(reply, fmt::format("ack of {}", request_name).c_str());
}

StartedRun parse_run_started(const firmware_protocol::wire::Envelope& reply) {
  if (!reply.has_run_started())
    unexpected_reply(reply, "run_started");
  const auto& msg = reply.run_started();
  return StartedRun{msg.run_id(), msg.first_tick(), msg.sample_count()};
}

firmware_protocol::wire::Envelope read_results(std::uint64_t run_id) {
  firmware_protocol::wire::Envelope env;
  env.mutable_read_results()->set_run_id(run_id);
  return env;
}

}  // namespace kelvin::driver::run_protocol
