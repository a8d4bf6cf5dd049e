#include "kelvin/sim_backend/pbit_firmware.hpp"

#include <exception>
#include <string>

#include <spdlog/logger.h>

#include "firmware_support.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/sim_backend/pbit_registers.hpp"

namespace kelvin::sim_backend {
namespace {

namespace reg = pbit;
using detail::as_bytes;
using detail::fill_format;
using firmware_protocol::wire::Envelope;

}  // namespace

PbitFirmware::PbitFirmware(const PbitConfig& config)
    : model_(config), decoder_(reg::kMaxFramePayload), log_(common::logger("kelvin.sim")) {}

std::vector<std::uint8_t> PbitFirmware::on_bytes(std::span<const std::uint8_t> bytes) {
  return detail::serve_frames(
      decoder_, replies_, *log_, bytes, [this] { return model_.powered(); },
      [this](const Envelope& request) { return handle_request(request); });
}

std::vector<std::uint8_t> PbitFirmware::on_idle() {
  return detail::idle_work(*log_, [this] { model_.finish_pending(); });
}

std::vector<std::uint8_t> PbitFirmware::handle_request(const Envelope& request) {
  // Commands take effect in order: a started run uses the registers it was started with.
  model_.finish_pending();
  detail::check_envelope_version(request);
  Envelope reply = detail::reply_to(request);
  switch (request.body_case()) {
    case Envelope::kPing:
      return detail::pong(request, model_.sweep());
    case Envelope::kHello: {
      detail::check_hello_version(request.hello());
      log_->debug("hello from '{}'", request.hello().client());
      *reply.mutable_device_info() = device_info();
      return firmware_protocol::encode_envelope(reply);
    }
    case Envelope::kProgramLattice: {
      const auto& body = request.program_lattice();
      model_.program_lattice(body.nodes(), as_bytes(body.weights_i8()), as_bytes(body.biases_i8()));
      reply.mutable_ack();
      return firmware_protocol::encode_envelope(reply);
    }
    case Envelope::kSetClamps: {
      const auto& body = request.set_clamps();
      model_.set_clamps({body.nodes().data(), static_cast<std::size_t>(body.nodes_size())},
                        as_bytes(body.values_i8()));
      reply.mutable_ack();
      return firmware_protocol::encode_envelope(reply);
    }
    case Envelope::kSetBetaSchedule: {
      const auto& codes = request.set_beta_schedule().beta_codes();
      model_.set_beta_schedule({codes.data(), static_cast<std::size_t>(codes.size())});
      reply.mutable_ack();
      return firmware_protocol::encode_envelope(reply);
    }
    case Envelope::kStartSampling: {
      const auto& body = request.start_sampling();
      SamplingRequest run;
      run.sweeps = body.sweeps();
      run.chains = body.chains();
      run.burn_in_sweeps = body.burn_in_sweeps();
      run.sample_every = body.sample_every();
      run.accumulate_moments = body.accumulate_moments();
      run.record_samples = body.record_samples();
      run.reset_state = body.reset_state();
      run.chain_beta_codes.assign(body.chain_beta_codes().begin(), body.chain_beta_codes().end());
      const SamplingTicket ticket = model_.begin_run(run);
      auto* started = reply.mutable_run_started();
      started->set_run_id(ticket.run_id);
      started->set_first_tick(ticket.first_tick);
      started->set_sample_count(ticket.sample_count);
      // Acknowledge at once; the run is computed in on_idle() or before the next request.
      return firmware_protocol::encode_envelope(reply);
    }
    case Envelope::kReadResults: {
      const std::uint64_t run_id = request.read_results().run_id();
      const SamplingRecord& record = model_.results(run_id);
      auto* results = reply.mutable_sampling_results();
      results->set_run_id(record.ticket.run_id);
      results->set_chains(record.request.chains);
      results->set_sweeps(record.request.sweeps);
      results->set_sample_count(record.ticket.sample_count);
      results->mutable_spin_sums()->Assign(record.spin_sums.begin(), record.spin_sums.end());
      results->mutable_edge_sums()->Assign(record.edge_sums.begin(), record.edge_sums.end());
      results->set_samples_bits(record.samples_bits);
      results->set_overflow_count(model_.overflow_count());
      results->set_nodes(model_.nodes());
      results->set_first_tick(record.ticket.first_tick);
      auto frame = firmware_protocol::encode_envelope(reply);
      model_.release(run_id);  // only once the reply exists
      return frame;
    }
    default:
      break;
  }
  detail::refuse_request(request, "p-bit");
}

firmware_protocol::wire::DeviceInfo PbitFirmware::device_info() const {
  const PbitConfig& config = model_.config();
  const firmware_protocol::PbitLattice& lattice = model_.lattice();
  firmware_protocol::wire::DeviceInfo info;
  info.set_family(firmware_protocol::wire::BOARD_FAMILY_PBIT);
  info.set_serial(config.effective_serial());
  info.set_firmware_version(std::string(reg::kFirmwareVersion));
  info.set_protocol_version(firmware_protocol::kProtocolVersion);
  info.set_model(std::string(reg::kModel));
  info.set_cell_count(lattice.nodes());
  info.set_tick_rate_hz(reg::kSweepRateHz);
  info.set_ticks_per_sample(1);
  info.set_capabilities(reg::kCapabilities);
  info.set_max_frame_payload(static_cast<std::uint32_t>(reg::kMaxFramePayload));
  info.set_max_samples_per_run(reg::kMaxSweeps * reg::kMaxChains);
  info.set_max_record_samples(
      static_cast<std::uint32_t>(reg::kMaxRecordBits / 8 / reg::sample_bytes(lattice.nodes())));
  auto* p = info.mutable_pbit();
  p->set_rows(lattice.rows());
  p->set_cols(lattice.cols());
  p->set_degree(lattice.degree());
  p->set_edge_count(static_cast<std::uint32_t>(lattice.edges().size()));
  fill_format(p->mutable_weight(), reg::kWeightBits, true, -reg::kWeightMaxMagnitude,
              reg::kWeightMaxMagnitude, 1.0, reg::kCouplingUnit);
  fill_format(p->mutable_bias(), reg::kBiasBits, true, -reg::kBiasMaxMagnitude,
              reg::kBiasMaxMagnitude, 1.0, reg::kCouplingUnit);
  fill_format(p->mutable_beta(), reg::kBetaBits, false, 0, reg::kBetaMaxCode, reg::kBetaLsb,
              reg::kBetaUnit);
  p->set_lut_entries(reg::kLutEntries);
  p->set_rng_bits(reg::kRngBits);
  p->set_max_chains(reg::kMaxChains);
  p->set_sweep_rate_hz(reg::kSweepRateHz);
  p->set_max_record_bits(reg::kMaxRecordBits);
  p->set_max_schedule_length(static_cast<std::uint32_t>(reg::kMaxScheduleLength));
  return info;
}

std::unique_ptr<FirmwareEndpoint> make_pbit_firmware(const PbitConfig& config) {
  config.validate();
  return std::make_unique<PbitFirmware>(config);
}

}  // namespace kelvin::sim_backend
