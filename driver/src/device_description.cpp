#include "kelvin/driver/device_description.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "device_info_mapping.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/firmware_protocol/pbit_lattice.hpp"

namespace kelvin::driver {

using common::Error;
using common::ErrorKind;

const char* to_string(BoardFamily family) noexcept {
  switch (family) {
    case BoardFamily::kResonator:
      return "resonator";
    case BoardFamily::kPbit:
      return "pbit";
  }
  return "unknown";
}

const char* to_string(Dynamics dynamics) noexcept {
  return dynamics == Dynamics::kRlc ? "rlc" : "overdamped";
}

const char* to_string(CouplingKind kind) noexcept {
  return kind == CouplingKind::kCapacitive ? "capacitive" : "signed";
}

bool ResonatorDescription::supports(Dynamics d) const noexcept {
  for (Dynamics x : dynamics) {
    if (x == d)
      return true;
  }
  return false;
}

std::vector<std::string> capability_names(std::uint64_t bits) {
  std::vector<std::string> names;
  for (unsigned bit = 0; bit < 64; ++bit) {
    const std::uint64_t mask = std::uint64_t{1} << bit;
    if ((bits & mask) == 0)
      continue;
    switch (mask) {
      case capability::kSecondMoments:
        names.emplace_back("second_moments");
        break;
      case capability::kSampleRecord:
        names.emplace_back("sample_record");
        break;
      case capability::kStateReset:
        names.emplace_back("state_reset");
        break;
      case capability::kRlcDynamics:
        names.emplace_back("rlc_dynamics");
        break;
      case capability::kQuartic:
        names.emplace_back("quartic");
        break;
      case capability::kDecimation:
        names.emplace_back("decimation");
        break;
      case capability::kStreaming:
        names.emplace_back("streaming");
        break;
      case capability::kPerChainBeta:
        names.emplace_back("per_chain_beta");
        break;
      case capability::kTimedStart:
        names.emplace_back("timed_start");
        break;
      case capability::kResumableRead:
        names.emplace_back("resumable_read");
        break;
      default:
        names.push_back(fmt::format("bit_{}", bit));
        break;
    }
  }
  return names;
}

namespace detail {

CodeScale from_wire(const firmware_protocol::wire::CodeFormat& format) {
  CodeScale scale;
  scale.bits = format.bits();
  scale.is_signed = format.is_signed();
  scale.min_code = format.min_code();
  scale.max_code = format.max_code();
  scale.lsb = format.lsb();
  scale.offset = format.offset();
  scale.unit = format.unit();
  return scale;
}

namespace {

// The p-bit part of DeviceInfo, checked against the lattice geometry both sides share.
PbitDescription pbit_from_wire(const firmware_protocol::wire::PbitInfo& info, std::uint32_t cells) {
  PbitDescription p;
  p.rows = info.rows();
  p.cols = info.cols();
  p.degree = info.degree();
  p.edge_count = info.edge_count();
  p.weight = from_wire(info.weight());
  p.bias = from_wire(info.bias());
  p.beta = from_wire(info.beta());
  p.lut_entries = info.lut_entries();
  p.rng_bits = info.rng_bits();
  p.max_chains = info.max_chains();
  p.sweep_rate_hz = info.sweep_rate_hz();
  p.max_record_bits = info.max_record_bits();
  p.max_schedule_length = info.max_schedule_length();
  std::size_t edges = 0;
  try {
    edges = firmware_protocol::make_pbit_lattice(p.rows, p.cols, p.degree).edges().size();
  } catch (const std::invalid_argument& e) {
    throw Error(ErrorKind::kProtocol,
                fmt::format("device reported an invalid lattice: {}", e.what()));
  }
  if (p.nodes() != cells || p.edge_count != edges) {
    throw Error(ErrorKind::kProtocol,
                fmt::format("device reported a {}x{} degree-{} lattice with {} nodes and {} edges; "
                            "that lattice has {} nodes and {} edges",
                            p.rows, p.cols, p.degree, cells, p.edge_count, p.nodes(), edges));
  }
  p.weight.validate("weight format");
  p.bias.validate("bias format");
  p.beta.validate("beta format");
  if (p.max_chains == 0 || p.max_schedule_length == 0) {
    throw Error(ErrorKind::kProtocol, "device reported zero max_chains or max_schedule_length");
  }
  return p;
}

// The resonator part of DeviceInfo (protocol version >= 3).
ResonatorDescription resonator_from_wire(const firmware_protocol::wire::ResonatorInfo& info) {
  ResonatorDescription r;
  switch (info.coupling_kind()) {
    case firmware_protocol::wire::COUPLING_KIND_SIGNED:
      r.coupling_kind = CouplingKind::kSigned;
      break;
    case firmware_protocol::wire::COUPLING_KIND_CAPACITIVE:
      r.coupling_kind = CouplingKind::kCapacitive;
      break;
    default:
      throw Error(ErrorKind::kProtocol, fmt::format("device reported unknown coupling kind {}",
                                                    static_cast<int>(info.coupling_kind())));
  }
  for (int d : info.dynamics()) {
    if (d == firmware_protocol::wire::DYNAMICS_OVERDAMPED)
      r.dynamics.push_back(Dynamics::kOverdamped);
    else if (d == firmware_protocol::wire::DYNAMICS_RLC)
      r.dynamics.push_back(Dynamics::kRlc);
    // Dynamics this host does not know are not offered to its callers.
  }
  r.quartic = from_wire(info.quartic_dac());
  r.quartic_substeps = info.quartic_substeps();
  r.max_decimation = std::max<std::uint32_t>(1, info.max_decimation());
  r.ring_capacity_samples = info.ring_capacity_samples();
  const auto& spec = info.imperfections();
  r.imperfections = ImperfectionSpec{spec.name(),
                                     spec.resistance(),
                                     spec.capacitance(),
                                     spec.noise(),
                                     spec.adc_offset_codes(),
                                     spec.adc_gain(),
                                     spec.coupling_dac_gain()};
  r.resistance_ohm = info.resistance_ohm();
  r.inductance_henry = info.inductance_henry();
  r.capacitance_per_unit = info.capacitance_per_unit();
  r.noise_intensity_per_unit = info.noise_intensity_per_unit();
  r.bias_current_per_unit = info.bias_current_per_unit();
  if (info.has_quartic_dac())
    r.quartic.validate("quartic DAC");
  return r;
}

}  // namespace

DeviceDescription from_wire(const firmware_protocol::wire::DeviceInfo& info) {
  DeviceDescription d;
  switch (info.family()) {
    case firmware_protocol::wire::BOARD_FAMILY_RESONATOR:
      d.family = BoardFamily::kResonator;
      break;
    case firmware_protocol::wire::BOARD_FAMILY_PBIT:
      d.family = BoardFamily::kPbit;
      break;
    default:
      throw Error(ErrorKind::kProtocol, fmt::format("device reported unknown board family {}",
                                                    static_cast<int>(info.family())));
  }
  d.serial = info.serial();
  d.firmware_version = info.firmware_version();
  d.protocol_version = info.protocol_version();
  d.model = info.model();
  d.cells = info.cell_count();
  d.coupling = from_wire(info.coupling_dac());
  d.bias = from_wire(info.bias_dac());
  d.noise = from_wire(info.noise_dac());
  d.adc = from_wire(info.adc());
  d.tick_rate_hz = info.tick_rate_hz();
  d.ticks_per_sample = info.ticks_per_sample();
  d.capabilities = info.capabilities();
  d.max_frame_payload = info.max_frame_payload();
  d.max_samples_per_run = info.max_samples_per_run();
  d.max_record_samples = info.max_record_samples();
  static_assert(capability::kSecondMoments == firmware_protocol::wire::CAPABILITY_SECOND_MOMENTS &&
                capability::kSampleRecord == firmware_protocol::wire::CAPABILITY_SAMPLE_RECORD &&
                capability::kStateReset == firmware_protocol::wire::CAPABILITY_STATE_RESET &&
                capability::kRlcDynamics == firmware_protocol::wire::CAPABILITY_RLC_DYNAMICS &&
                capability::kQuartic == firmware_protocol::wire::CAPABILITY_QUARTIC &&
                capability::kDecimation == firmware_protocol::wire::CAPABILITY_DECIMATION &&
                capability::kStreaming == firmware_protocol::wire::CAPABILITY_STREAMING &&
                capability::kPerChainBeta == firmware_protocol::wire::CAPABILITY_PER_CHAIN_BETA &&
                capability::kTimedStart == firmware_protocol::wire::CAPABILITY_TIMED_START);

  if (d.cells == 0)
    throw Error(ErrorKind::kProtocol, "device reported zero cells");
  if (!(d.tick_rate_hz > 0.0) || d.ticks_per_sample == 0) {
    throw Error(ErrorKind::kProtocol,
                fmt::format("device reported an invalid clock: {} Hz, {} ticks per sample",
                            d.tick_rate_hz, d.ticks_per_sample));
  }
  if (d.family == BoardFamily::kResonator) {
    d.coupling.validate("coupling DAC");
    d.bias.validate("bias DAC");
    d.noise.validate("noise DAC");
    d.adc.validate("ADC");
    if (info.has_resonator())
      d.resonator = resonator_from_wire(info.resonator());
  } else {
    if (!info.has_pbit())
      throw Error(ErrorKind::kProtocol, "p-bit device did not describe its lattice");
    d.pbit = pbit_from_wire(info.pbit(), d.cells);
  }
  return d;
}

}  // namespace detail
}  // namespace kelvin::driver
