#include "kelvin/sim/resonator_firmware.hpp"

#include <exception>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "kelvin/common/logging.hpp"
#include "kelvin/protocol/envelope_codec.hpp"
#include "kelvin/sim/resonator_registers.hpp"

namespace kelvin::sim {
namespace {

namespace reg = resonator;
using wire::v1::Envelope;
using wire::v1::ErrorCode;

static_assert(reg::kProtocolVersion == protocol::kProtocolVersion);

// Error messages are for humans; keep a runaway what() from bloating a reply.
constexpr std::size_t kMaxErrorMessage = 1024;

std::vector<std::uint8_t> encode_error(std::uint64_t request_id, ErrorCode code,
                                       std::string_view message) {
  Envelope reply;
  reply.set_protocol_version(reg::kProtocolVersion);
  reply.set_request_id(request_id);
  auto* error = reply.mutable_error();
  error->set_code(code);
  error->set_message(std::string(message.substr(0, kMaxErrorMessage)));
  return protocol::encode_envelope(reply);
}

Envelope reply_to(const Envelope& request) {
  Envelope reply;
  reply.set_protocol_version(reg::kProtocolVersion);
  reply.set_request_id(request.request_id());
  return reply;
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void fill_format(wire::v1::CodeFormat* f, std::uint32_t bits, bool is_signed, std::int64_t min_code,
                 std::int64_t max_code, double lsb, std::string_view unit) {
  f->set_bits(bits);
  f->set_is_signed(is_signed);
  f->set_min_code(min_code);
  f->set_max_code(max_code);
  f->set_lsb(lsb);
  f->set_offset(0.0);
  f->set_unit(std::string(unit));
}

void append(std::vector<std::uint8_t>& out, const std::vector<std::uint8_t>& frame) {
  out.insert(out.end(), frame.begin(), frame.end());
}

}  // namespace

ResonatorFirmware::ResonatorFirmware(const ResonatorConfig& config)
    : model_(config), decoder_(reg::kMaxFramePayload), log_(common::logger("kelvin.sim")) {}

std::vector<std::uint8_t> ResonatorFirmware::on_bytes(std::span<const std::uint8_t> bytes) {
  std::vector<std::uint8_t> out;
  if (!model_.powered())
    return out;  // a board without power says nothing
  try {
    decoder_.feed(bytes);
    while (auto frame = decoder_.next()) {
      if (frame->error) {
        const auto message =
            fmt::format("malformed frame: {} ({} bytes discarded)",
                        protocol::to_string(*frame->error), frame->discarded_bytes);
        log_->debug("{}", message);
        append(out, encode_error(0, ErrorCode::ERROR_CODE_MALFORMED_FRAME, message));
      } else {
        append(out, handle_payload(frame->payload));
      }
    }
  } catch (const std::exception& e) {
    log_->error("internal fault in the frame loop: {}", e.what());
    try {
      append(out, encode_error(0, ErrorCode::ERROR_CODE_INTERNAL,
                               fmt::format("internal fault: {}", e.what())));
    } catch (...) {  // out of memory: nothing more can be said
    }
  } catch (...) {
    log_->error("internal fault in the frame loop: unknown exception");
    try {
      append(out, encode_error(0, ErrorCode::ERROR_CODE_INTERNAL, "internal fault"));
    } catch (...) {
    }
  }
  if (!model_.powered())
    out.clear();  // power went off mid-request: the reply is lost
  return out;
}

std::vector<std::uint8_t> ResonatorFirmware::on_idle() {
  try {
    model_.finish_pending();
  } catch (const std::exception& e) {
    log_->error("internal fault while integrating a run: {}", e.what());
  }
  return {};
}

std::vector<std::uint8_t> ResonatorFirmware::handle_payload(std::span<const std::uint8_t> payload) {
  Envelope request;
  try {
    request = protocol::parse_envelope(payload);
  } catch (const protocol::MessageError& e) {
    log_->debug("{}", e.what());
    return encode_error(0, ErrorCode::ERROR_CODE_MALFORMED_MESSAGE, e.what());
  }
  const std::uint64_t id = request.request_id();
  try {
    return handle_request(request);
  } catch (const BoardError& e) {
    log_->debug("request {} ({}) refused: {}", id, protocol::body_name(request), e.what());
    return encode_error(id, e.code(), e.what());
  } catch (const protocol::FrameError& e) {
    log_->warn("reply to request {} ({}) cannot be sent: {}", id, protocol::body_name(request),
               e.what());
    return encode_error(id, ErrorCode::ERROR_CODE_RESOURCE_EXHAUSTED, e.what());
  } catch (const std::exception& e) {
    log_->error("internal fault handling request {} ({}): {}", id, protocol::body_name(request),
                e.what());
    return encode_error(
        id, ErrorCode::ERROR_CODE_INTERNAL,
        fmt::format("internal fault handling {}: {}", protocol::body_name(request), e.what()));
  } catch (...) {
    log_->error("internal fault handling request {}: unknown exception", id);
    return encode_error(id, ErrorCode::ERROR_CODE_INTERNAL, "internal fault");
  }
}

std::vector<std::uint8_t> ResonatorFirmware::handle_request(const Envelope& request) {
  // Commands take effect in order: a run that was started but not yet integrated occupies the
  // time before this request (and must use the registers it was started with).
  model_.finish_pending();
  if (request.protocol_version() != reg::kProtocolVersion) {
    throw BoardError(ErrorCode::ERROR_CODE_UNSUPPORTED_VERSION,
                     fmt::format("request uses protocol version {}; this board speaks version {} "
                                 "only",
                                 request.protocol_version(), reg::kProtocolVersion));
  }
  Envelope reply = reply_to(request);
  switch (request.body_case()) {
    case Envelope::kHello: {
      const auto& hello = request.hello();
      if (hello.min_version() > reg::kProtocolVersion ||
          hello.max_version() < reg::kProtocolVersion) {
        throw BoardError(
            ErrorCode::ERROR_CODE_UNSUPPORTED_VERSION,
            fmt::format("host asked for protocol versions [{}, {}]; this board "
                        "speaks version {} only",
                        hello.min_version(), hello.max_version(), reg::kProtocolVersion));
      }
      log_->debug("hello from '{}'", hello.client());
      *reply.mutable_device_info() = device_info();
      return protocol::encode_envelope(reply);
    }
    case Envelope::kProgramCouplings: {
      const auto& body = request.program_couplings();
      model_.program_couplings(body.cells(), as_bytes(body.upper_codes_le16()));
      reply.mutable_ack();
      return protocol::encode_envelope(reply);
    }
    case Envelope::kProgramBiases: {
      const auto& body = request.program_biases();
      model_.program_biases(body.cells(), as_bytes(body.codes_le16()));
      reply.mutable_ack();
      return protocol::encode_envelope(reply);
    }
    case Envelope::kSetNoise: {
      model_.set_noise(request.set_noise().code());
      reply.mutable_ack();
      return protocol::encode_envelope(reply);
    }
    case Envelope::kStartRun: {
      const auto& body = request.start_run();
      RunRequest run;
      run.duration_ticks = body.duration_ticks();
      run.reset_state = body.reset_state();
      run.accumulate_products = body.accumulate_products();
      run.record_samples = body.record_samples();
      const RunTicket ticket = model_.begin_run(run);
      auto* started = reply.mutable_run_started();
      started->set_run_id(ticket.run_id);
      started->set_first_tick(ticket.first_tick);
      started->set_sample_count(ticket.sample_count);
      // Acknowledge at once, as a board would; the run is integrated in on_idle() or, at the
      // latest, before the next request is handled.
      return protocol::encode_envelope(reply);
    }
    case Envelope::kReadResults: {
      const std::uint64_t run_id = request.read_results().run_id();
      const RunRecord& record = model_.results(run_id);
      auto* results = reply.mutable_run_results();
      results->set_run_id(record.ticket.run_id);
      results->set_cells(model_.cells());
      results->set_first_tick(record.ticket.first_tick);
      results->set_sample_count(record.ticket.sample_count);
      results->mutable_sums()->Assign(record.sums.begin(), record.sums.end());
      results->mutable_product_sums()->Assign(record.product_sums.begin(),
                                              record.product_sums.end());
      results->set_clipped_samples(record.clipped_samples);
      results->set_overflow_count(model_.overflow_count());
      results->set_samples_le16(record.samples_le16);
      auto frame = protocol::encode_envelope(reply);
      model_.release(run_id);  // only once the reply exists
      return frame;
    }
    case Envelope::kDeviceInfo:
    case Envelope::kAck:
    case Envelope::kRunStarted:
    case Envelope::kRunResults:
    case Envelope::kError:
      throw BoardError(ErrorCode::ERROR_CODE_UNEXPECTED_MESSAGE,
                       fmt::format("{} is a reply, not a request", protocol::body_name(request)));
    case Envelope::BODY_NOT_SET:
      break;
  }
  throw BoardError(ErrorCode::ERROR_CODE_UNEXPECTED_MESSAGE, "request has no body");
}

wire::v1::DeviceInfo ResonatorFirmware::device_info() const {
  const ResonatorConfig& config = model_.config();
  wire::v1::DeviceInfo info;
  info.set_family(wire::v1::BOARD_FAMILY_RESONATOR);
  info.set_serial(config.effective_serial());
  info.set_firmware_version(std::string(reg::kFirmwareVersion));
  info.set_protocol_version(reg::kProtocolVersion);
  info.set_model(std::string(reg::kModel));
  info.set_cell_count(config.cells);
  fill_format(info.mutable_coupling_dac(), reg::kCouplingBits, true, reg::kCouplingMinCode,
              reg::kCouplingMaxCode, reg::kCouplingLsb, reg::kCouplingUnit);
  fill_format(info.mutable_bias_dac(), reg::kBiasBits, true, reg::kBiasMinCode, reg::kBiasMaxCode,
              reg::kBiasLsb, reg::kBiasUnit);
  fill_format(info.mutable_noise_dac(), reg::kNoiseBits, false, reg::kNoiseMinCode,
              reg::kNoiseMaxCode, reg::kNoiseLsb, reg::kNoiseUnit);
  fill_format(info.mutable_adc(), reg::kAdcBits, true, reg::kAdcMinCode, reg::kAdcMaxCode,
              reg::kAdcLsb, reg::kAdcUnit);
  info.set_tick_rate_hz(reg::kTickRateHz);
  info.set_ticks_per_sample(reg::kTicksPerSample);
  info.set_capabilities(reg::kCapabilities);
  info.set_max_frame_payload(static_cast<std::uint32_t>(reg::kMaxFramePayload));
  info.set_max_samples_per_run(reg::kMaxSamplesPerRun);
  info.set_max_record_samples(reg::max_record_samples(config.cells));
  return info;
}

std::unique_ptr<FirmwareEndpoint> make_resonator_firmware(const ResonatorConfig& config) {
  config.validate();
  return std::make_unique<ResonatorFirmware>(config);
}

}  // namespace kelvin::sim
