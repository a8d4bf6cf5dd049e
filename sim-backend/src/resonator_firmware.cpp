#include "kelvin/sim_backend/resonator_firmware.hpp"

#include <exception>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "firmware_support.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/firmware_protocol/wire_layout.hpp"
#include "kelvin/sim_backend/resonator_registers.hpp"

namespace kelvin::sim_backend {
namespace {

namespace reg = resonator;
using detail::as_bytes;
using detail::fill_format;
using detail::reply_to;
using firmware_protocol::wire::Envelope;

Dynamics dynamics_from_wire(firmware_protocol::wire::Dynamics dynamics) {
  switch (dynamics) {
    case firmware_protocol::wire::DYNAMICS_OVERDAMPED:
      return Dynamics::kOverdamped;
    case firmware_protocol::wire::DYNAMICS_RLC:
      return Dynamics::kRlc;
    default:
      break;
  }
  throw BoardError(BoardErrorCode::kInvalidArgument,
                   fmt::format("unknown dynamics {}; this board knows DYNAMICS_OVERDAMPED (0) "
                               "and DYNAMICS_RLC (1)",
                               static_cast<int>(dynamics)));
}

void fill_imperfections(firmware_protocol::wire::ImperfectionSpec* spec,
                        const ResonatorConfig& config) {
  const ImperfectionModel& m = config.imperfections;
  spec->set_name(config.imperfections_name);
  spec->set_resistance(m.resistance);
  spec->set_capacitance(m.capacitance);
  spec->set_noise(m.noise);
  spec->set_adc_offset_codes(m.adc_offset_codes);
  spec->set_adc_gain(m.adc_gain);
  spec->set_coupling_dac_gain(m.coupling_dac_gain);
}

}  // namespace

ResonatorFirmware::ResonatorFirmware(const ResonatorConfig& config)
    : model_(config), decoder_(reg::kMaxFramePayload), log_(common::logger("kelvin.sim")) {}

std::vector<std::uint8_t> ResonatorFirmware::on_bytes(std::span<const std::uint8_t> bytes) {
  return detail::serve_frames(
      decoder_, replies_, *log_, bytes, [this] { return model_.powered(); },
      [this](const Envelope& request) { return handle_request(request); });
}

std::vector<std::uint8_t> ResonatorFirmware::on_idle() {
  return detail::idle_work(*log_, [this] { model_.finish_pending(); });
}

std::vector<std::uint8_t> ResonatorFirmware::handle_request(const Envelope& request) {
  // Commands take effect in order: a run that was started but not yet integrated occupies the
  // time before this request (and must use the registers it was started with), and so do the
  // stream samples due by now.
  model_.catch_up();
  detail::check_envelope_version(request);
  Envelope reply = reply_to(request);
  switch (request.body_case()) {
    case Envelope::kPing:
      return detail::pong(request, model_.tick());
    case Envelope::kHello: {
      const auto& hello = request.hello();
      detail::check_hello_version(hello);
      log_->debug("hello from '{}'", hello.client());
      *reply.mutable_device_info() = device_info();
      return firmware_protocol::encode_envelope(reply);
    }
    case Envelope::kProgramCouplings: {
      const auto& body = request.program_couplings();
      model_.program_couplings(body.cells(), as_bytes(body.upper_codes_le16()));
      reply.mutable_ack();
      return firmware_protocol::encode_envelope(reply);
    }
    case Envelope::kProgramBiases: {
      const auto& body = request.program_biases();
      model_.program_biases(body.cells(), as_bytes(body.codes_le16()));
      reply.mutable_ack();
      return firmware_protocol::encode_envelope(reply);
    }
    case Envelope::kSetNoise: {
      model_.set_noise(request.set_noise().code());
      reply.mutable_ack();
      return firmware_protocol::encode_envelope(reply);
    }
    case Envelope::kStartRun: {
      const auto& body = request.start_run();
      RunRequest run;
      run.duration_ticks = body.duration_ticks();
      run.reset_state = body.reset_state();
      run.accumulate_products = body.accumulate_products();
      run.record_samples = body.record_samples();
      run.dynamics = dynamics_from_wire(body.dynamics());
      run.decimation = body.decimation();
      run.average = body.average();
      const RunTicket ticket = model_.begin_run(run);
      auto* started = reply.mutable_run_started();
      started->set_run_id(ticket.run_id);
      started->set_first_tick(ticket.first_tick);
      started->set_sample_count(ticket.sample_count);
      // Acknowledge at once, as a board would; the run is integrated in on_idle() or, at the
      // latest, before the next request is handled.
      return firmware_protocol::encode_envelope(reply);
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
      auto frame = firmware_protocol::encode_envelope(reply);
      model_.release(run_id);  // only once the reply exists
      return frame;
    }
    case Envelope::kSetQuartic: {
      const auto& body = request.set_quartic();
      model_.set_quartic(body.cells(), as_bytes(body.codes_le16()));
      reply.mutable_ack();
      return firmware_protocol::encode_envelope(reply);
    }
    case Envelope::kStartStream: {
      const auto& body = request.start_stream();
      StreamRequest stream;
      stream.dynamics = dynamics_from_wire(body.dynamics());
      stream.decimation = body.decimation();
      stream.average = body.average();
      stream.reset_state = body.reset_state();
      stream.start_tick = body.start_tick();
      const StreamTicket ticket = model_.begin_stream(stream);
      auto* started = reply.mutable_stream_started();
      started->set_stream_id(ticket.stream_id);
      started->set_first_tick(ticket.first_tick);
      started->set_ticks_per_output_sample(ticket.ticks_per_output_sample);
      started->set_ring_capacity_samples(ticket.ring_capacity_samples);
      return firmware_protocol::encode_envelope(reply);
    }
    case Envelope::kReadStream: {
      const auto& read_request = request.read_stream();
      const StreamRead read = model_.read_stream(read_request.max_samples(),
                                                 read_request.has_from_sequence()
                                                     ? std::optional(read_request.from_sequence())
                                                     : std::nullopt);
      auto* data = reply.mutable_stream_data();
      data->set_stream_id(read.stream_id);
      data->set_cells(model_.cells());
      data->set_first_sequence(read.chunk.first_sequence);
      data->set_first_tick(read.first_tick);
      data->set_sample_count(read.chunk.count);
      data->set_samples_le16(firmware_protocol::pack_le16(read.chunk.codes));
      data->set_produced(read.produced);
      data->set_lost_samples(read.lost);
      data->set_overruns(read.overruns);
      data->set_clipped_samples(read.chunk.clipped);
      data->set_running(read.running);
      data->set_buffered(read.buffered);
      data->set_clock_slip_us(read.clock_slip_us);
      return firmware_protocol::encode_envelope(reply);
    }
    case Envelope::kStopStream: {
      model_.stop_stream();
      reply.mutable_ack();
      return firmware_protocol::encode_envelope(reply);
    }
    default:
      break;
  }
  detail::refuse_request(request, "resonator");
}

firmware_protocol::wire::DeviceInfo ResonatorFirmware::device_info() const {
  const ResonatorConfig& config = model_.config();
  firmware_protocol::wire::DeviceInfo info;
  info.set_family(firmware_protocol::wire::BOARD_FAMILY_RESONATOR);
  info.set_serial(config.effective_serial());
  info.set_firmware_version(std::string(reg::kFirmwareVersion));
  info.set_protocol_version(firmware_protocol::kProtocolVersion);
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
  auto* res = info.mutable_resonator();
  res->set_coupling_kind(config.coupling_kind == CouplingKind::kCapacitive
                             ? firmware_protocol::wire::COUPLING_KIND_CAPACITIVE
                             : firmware_protocol::wire::COUPLING_KIND_SIGNED);
  res->add_dynamics(firmware_protocol::wire::DYNAMICS_OVERDAMPED);
  res->add_dynamics(firmware_protocol::wire::DYNAMICS_RLC);
  fill_format(res->mutable_quartic_dac(), reg::kQuarticBits, false, reg::kQuarticMinCode,
              reg::kQuarticMaxCode, reg::kQuarticLsb, reg::kQuarticUnit);
  res->set_quartic_substeps(reg::kQuarticSubsteps);
  res->set_max_decimation(reg::kMaxDecimation);
  res->set_ring_capacity_samples(config.effective_ring_samples());
  fill_imperfections(res->mutable_imperfections(), config);
  res->set_resistance_ohm(reg::kRlcResistanceOhm);
  res->set_inductance_henry(reg::kRlcInductanceHenry);
  res->set_capacitance_per_unit(reg::kRlcCapacitancePerUnit);
  res->set_noise_intensity_per_unit(reg::kRlcNoiseIntensityPerUnit);
  res->set_bias_current_per_unit(reg::kRlcBiasCurrentPerUnit);
  return info;
}

std::unique_ptr<FirmwareEndpoint> make_resonator_firmware(const ResonatorConfig& config) {
  config.validate();
  return std::make_unique<ResonatorFirmware>(config);
}

}  // namespace kelvin::sim_backend
