#include "resonator_protocol.hpp"

#include "run_protocol.hpp"

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/firmware_protocol/wire_layout.hpp"

namespace kelvin::driver::resonator_protocol {

using common::Error;
using common::ErrorKind;
using firmware_protocol::pack_le16;
namespace {

firmware_protocol::wire::Dynamics to_wire(Dynamics dynamics) {
  return dynamics == Dynamics::kRlc ? firmware_protocol::wire::DYNAMICS_RLC
                                    : firmware_protocol::wire::DYNAMICS_OVERDAMPED;
}

}  // namespace

firmware_protocol::wire::Envelope program_couplings(const SymmetricCodes& codes) {
  firmware_protocol::wire::Envelope env;
  auto* msg = env.mutable_program_couplings();
  msg->set_cells(codes.size());
  msg->set_upper_codes_le16(pack_le16(codes.upper()));
  return env;
}

firmware_protocol::wire::Envelope program_biases(std::span<const std::int16_t> codes) {
  firmware_protocol::wire::Envelope env;
  auto* msg = env.mutable_program_biases();
  msg->set_cells(static_cast<std::uint32_t>(codes.size()));
  msg->set_codes_le16(pack_le16(codes));
  return env;
}

firmware_protocol::wire::Envelope set_noise(std::uint32_t code) {
  firmware_protocol::wire::Envelope env;
  env.mutable_set_noise()->set_code(code);
  return env;
}

firmware_protocol::wire::Envelope start_run(std::uint64_t duration_ticks,
                                            const RunRequest& request) {
  firmware_protocol::wire::Envelope env;
  auto* msg = env.mutable_start_run();
  msg->set_duration_ticks(duration_ticks);
  msg->set_reset_state(request.reset_state);
  msg->set_accumulate_products(request.accumulate_products);
  msg->set_record_samples(request.record_samples);
  msg->set_dynamics(to_wire(request.dynamics));
  msg->set_decimation(request.decimation);
  msg->set_average(request.average);
  return env;
}

firmware_protocol::wire::Envelope set_quartic(std::span<const std::uint16_t> codes) {
  firmware_protocol::wire::Envelope env;
  auto* msg = env.mutable_set_quartic();
  msg->set_cells(static_cast<std::uint32_t>(codes.size()));
  msg->set_codes_le16(pack_le16(codes));
  return env;
}

firmware_protocol::wire::Envelope start_stream(const StreamRequest& request) {
  firmware_protocol::wire::Envelope env;
  auto* msg = env.mutable_start_stream();
  msg->set_dynamics(to_wire(request.dynamics));
  msg->set_decimation(request.decimation);
  msg->set_average(request.average);
  msg->set_reset_state(request.reset_state);
  msg->set_start_tick(request.start_tick);
  return env;
}

firmware_protocol::wire::Envelope read_stream(std::uint32_t max_samples,
                                              std::optional<std::uint64_t> from_sequence) {
  firmware_protocol::wire::Envelope env;
  auto* read = env.mutable_read_stream();
  read->set_max_samples(max_samples);
  if (from_sequence.has_value())
    read->set_from_sequence(*from_sequence);
  return env;
}

firmware_protocol::wire::Envelope stop_stream() {
  firmware_protocol::wire::Envelope env;
  env.mutable_stop_stream();
  return env;
}

StreamTicket parse_stream_started(const firmware_protocol::wire::Envelope& reply) {
  if (!reply.has_stream_started())
    run_protocol::unexpected_reply(reply, "stream_started");
  const auto& msg = reply.stream_started();
  if (msg.ticks_per_output_sample() == 0 || msg.ring_capacity_samples() == 0) {
    throw Error(ErrorKind::kProtocol, "malformed stream_started: zero period or ring capacity");
  }
  return StreamTicket{msg.stream_id(), msg.first_tick(), msg.ticks_per_output_sample(),
                      msg.ring_capacity_samples()};
}

StreamChunk parse_stream_data(const firmware_protocol::wire::Envelope& reply,
                              const DeviceDescription& board) {
  if (!reply.has_stream_data())
    run_protocol::unexpected_reply(reply, "stream_data");
  const auto& msg = reply.stream_data();
  const std::size_t n = board.cells;
  if (msg.cells() != n || msg.samples_le16().size() != 2 * n * msg.sample_count()) {
    throw Error(ErrorKind::kProtocol,
                fmt::format("malformed stream data: {} bytes for {} samples of {} cells (board "
                            "has {})",
                            msg.samples_le16().size(), msg.sample_count(), msg.cells(), n));
  }
  if (msg.lost_samples() + msg.buffered() > msg.produced()) {
    throw Error(ErrorKind::kProtocol,
                fmt::format("malformed stream data: {} lost + {} buffered exceed {} produced",
                            msg.lost_samples(), msg.buffered(), msg.produced()));
  }
  StreamChunk chunk;
  chunk.stream_id = msg.stream_id();
  chunk.cells = msg.cells();
  chunk.first_sequence = msg.first_sequence();
  chunk.first_tick = msg.first_tick();
  chunk.sample_count = msg.sample_count();
  chunk.samples = firmware_protocol::unpack_le16(msg.samples_le16(), n * msg.sample_count(),
                                                 "StreamData.samples_le16");
  chunk.produced = msg.produced();
  chunk.lost = msg.lost_samples();
  chunk.overruns = msg.overruns();
  chunk.clipped_samples = msg.clipped_samples();
  chunk.buffered = msg.buffered();
  chunk.running = msg.running();
  chunk.clock_slip_us = msg.clock_slip_us();
  chunk.adc = board.adc;
  return chunk;
}

RunResult parse_run_results(const firmware_protocol::wire::Envelope& reply,
                            const DeviceDescription& board, std::uint64_t expected_run_id) {
  if (!reply.has_run_results())
    run_protocol::unexpected_reply(reply, "run_results");
  const auto& msg = reply.run_results();
  const std::size_t n = board.cells;
  const std::size_t pairs = firmware_protocol::upper_triangle_size(n);
  auto check = [&](bool ok, const std::string& what) {
    if (!ok)
      throw Error(ErrorKind::kProtocol, "malformed run results: " + what);
  };
  check(msg.run_id() == expected_run_id,
        fmt::format("results of run {} where run {} was asked for", msg.run_id(), expected_run_id));
  check(msg.cells() == n, fmt::format("{} cells, board has {}", msg.cells(), n));
  check(static_cast<std::size_t>(msg.sums_size()) == n,
        fmt::format("{} sums for {} cells", msg.sums_size(), n));
  check(msg.product_sums_size() == 0 || static_cast<std::size_t>(msg.product_sums_size()) == pairs,
        fmt::format("{} product sums, expected {}", msg.product_sums_size(), pairs));
  check(
      msg.samples_le16().size() % (2 * n) == 0 &&
          (msg.samples_le16().empty() || msg.samples_le16().size() / (2 * n) == msg.sample_count()),
      fmt::format("{} bytes of samples for {} samples of {} cells", msg.samples_le16().size(),
                  msg.sample_count(), n));

  RunResult result;
  result.run_id = msg.run_id();
  result.cells = msg.cells();
  result.first_tick = msg.first_tick();
  result.sample_count = msg.sample_count();
  result.sums.assign(msg.sums().begin(), msg.sums().end());
  result.product_sums.assign(msg.product_sums().begin(), msg.product_sums().end());
  // Checked above: either no record or sample_count samples of n cells.
  result.samples = firmware_protocol::unpack_le16(
      msg.samples_le16(), msg.samples_le16().empty() ? 0 : n * msg.sample_count(),
      "RunResults.samples_le16");
  result.clipped_samples = msg.clipped_samples();
  result.overflow_count = msg.overflow_count();
  result.adc = board.adc;
  return result;
}

}  // namespace kelvin::driver::resonator_protocol
