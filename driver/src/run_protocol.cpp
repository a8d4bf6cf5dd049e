#include "run_protocol.hpp"

#include <fmt/format.h>

#include "kelvin/driver/error.hpp"
#include "kelvin/protocol/envelope_codec.hpp"

namespace kelvin::driver::run_protocol {

void unexpected_reply(const wire::v1::Envelope& reply, const char* wanted) {
  throw Error(ErrorKind::kProtocol, fmt::format("board answered {} where {} was expected",
                                                protocol::body_name(reply), wanted));
}

void expect_ack(const wire::v1::Envelope& reply, const char* request_name) {
  if (!reply.has_ack())
    unexpected_reply(reply, fmt::format("ack of {}", request_name).c_str());
}

StartedRun parse_run_started(const wire::v1::Envelope& reply) {
  if (!reply.has_run_started())
    unexpected_reply(reply, "run_started");
  const auto& msg = reply.run_started();
  return StartedRun{msg.run_id(), msg.first_tick(), msg.sample_count()};
}

wire::v1::Envelope read_results(std::uint64_t run_id) {
  wire::v1::Envelope env;
  env.mutable_read_results()->set_run_id(run_id);
  return env;
}

}  // namespace kelvin::driver::run_protocol
