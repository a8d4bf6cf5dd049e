#include "sim_backend.hpp"

#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/inprocess_transport.hpp"
#include "kelvin/sim_backend/board_defects.hpp"
#include "kelvin/sim_backend/fault_injection.hpp"
#include "kelvin/sim_backend/firmware_bugs.hpp"
#include "kelvin/sim_backend/pbit_config.hpp"
#include "kelvin/sim_backend/pbit_firmware.hpp"
#include "kelvin/sim_backend/resonator_config.hpp"
#include "kelvin/sim_backend/resonator_firmware.hpp"

namespace kelvin::driver::backends {

using common::Error;
using common::ErrorKind;
namespace {

[[noreturn]] void bad(const DeviceAddress& address, const std::string& why) {
  throw Error(ErrorKind::kInvalidArgument,
              fmt::format("bad device address '{}': {}", address.to_string(), why));
}

// The largest stream ring: 1 GiB of 16-bit codes, all of it for one cell.
constexpr std::uint64_t kMaxRingCodes = (std::uint64_t{1} << 30) / 2;

// Both boards take fault=...: the emulated link in front of the firmware, not the board itself.
UriParameter fault_parameter() {
  return UriParameter::spec(
      "fault", "drop:P,corrupt:P,duplicate:P,reorder:P,delay:D,stall:D@T,disconnect:T,overflow:P",
      std::string(kNoDefault),
      "an emulated faulty link (P in [0, 1]; D and T in us, ms or s; docs/streaming.md)");
}

// Both boards take defect=...: broken parts for bring-up work (board_defects.hpp).
UriParameter defect_parameter(std::string_view index) {
  return UriParameter::spec(
      "defect", fmt::format("stuck:{0},open:{0}-{0},noisy:{0},offset:{0},bias_dead:{0}", index),
      std::string(kNoDefault),
      "injected board defects for bring-up: a stuck read-out, an open coupling, 10x noise, a "
      "large offset, a dead bias DAC (docs/boards.md)");
}

// The resonator board takes firmware_bug=...: deliberately broken protocol behaviours, to show
// what `kelvin conformance` catches (sim_backend/firmware_bugs.hpp, docs/protocol.md).
UriParameter firmware_bug_parameter() {
  return UriParameter::spec(
      "firmware_bug",
      "any_hello_version,out_of_range_acked,stream_loss_uncounted,timed_start_ignored,"
      "resume_ignored",
      std::string(kNoDefault),
      "deliberately broken firmware behaviours, for conformance demos (docs/protocol.md)");
}

UriParameter seed_parameter(std::uint64_t fallback, std::string_view stream) {
  return UriParameter::unsigned_integer(
      "seed", 0, UINT64_MAX, std::to_string(fallback),
      fmt::format("noise key: the same seed gives the same {}, bit for bit", stream));
}

// The defaults come from the firmware's own configs, so the help and the parser apply what the
// emulator would have chosen anyway.
const UriParameterTable& resonator_table() {
  static const UriParameterTable table = [] {
    const sim_backend::ResonatorConfig defaults;
    return UriParameterTable{
        "sim",
        "resonator",
        "an emulated resonator board, in this process",
        {UriParameter::unsigned_integer("cells", 1, 256, std::to_string(defaults.cells),
                                        "coupled analog cells"),
         seed_parameter(defaults.seed, "ADC stream"),
         UriParameter::text("serial", std::string(kNoDefault),
                            "the serial number the board reports (none: SIM-RES-CELLS-SEED)"),
         UriParameter::choice(
             "couplings", {"capacitive", "signed"},
             defaults.coupling_kind == sim_backend::CouplingKind::kCapacitive ? "capacitive"
                                                                              : "signed",
             "realizable couplings: any sign, or only off-diagonals <= 0 (capacitors)"),
         UriParameter::choice("imperfections", {"ideal", "typical"}, defaults.imperfections_name,
                              "component flaws: none, or the serial's flaws drawn from +-1% "
                              "component spreads"),
         UriParameter::unsigned_integer(
             "ring", 0, kMaxRingCodes, std::to_string(defaults.ring_samples),
             "stream ring buffer in samples: 0 for 4 MiB of codes, else at least 16 and at most "
             "1 GiB of codes"),
         defect_parameter("C"), fault_parameter(), firmware_bug_parameter()}};
  }();
  return table;
}

const UriParameterTable& pbit_table() {
  static const UriParameterTable table = [] {
    const sim_backend::PbitConfig defaults;
    return UriParameterTable{
        "sim",
        "pbit",
        "an emulated p-bit (TSU) board, in this process",
        {UriParameter::unsigned_integer("rows", 1, 256, std::to_string(defaults.rows),
                                        "lattice rows"),
         UriParameter::unsigned_integer("cols", 1, 256, std::to_string(defaults.cols),
                                        "lattice columns"),
         UriParameter::choice("degree", {"8", "12", "16"}, std::to_string(defaults.degree),
                              "bulk degree of the lattice (couplings per p-bit)"),
         seed_parameter(defaults.seed, "samples"),
         UriParameter::text("serial", std::string(kNoDefault),
                            "the serial number the board reports (none: SIM-PBIT-ROWSxCOLS-SEED)"),
         UriParameter::choice("imperfections", {"ideal", "typical"}, defaults.imperfections_name,
                              "p-bit flaws: none, or the serial's sigmoid gains (+-5%) and "
                              "offsets (+-0.1 J)"),
         defect_parameter("P"), fault_parameter()}};
  }();
  return table;
}

// The defects of `defect=...` (none when absent), checked against the board's size (`check`
// throws std::invalid_argument), or a clear error.
template <typename Config>
void apply_defects(const DeviceAddress& address, Config& config) {
  const auto text = address.get("defect");
  if (!text)
    return;
  try {
    config.defects = sim_backend::parse_defect_spec(*text);
    config.validate();
  } catch (const std::invalid_argument& e) {
    bad(address, e.what());
  }
}

sim_backend::ResonatorConfig resonator_config(const DeviceAddress& address) {
  const UriParameterTable& table = resonator_table();
  table.validate(address);
  sim_backend::ResonatorConfig config;
  config.cells = static_cast<std::uint32_t>(table.get_uint(address, "cells"));
  config.seed = table.get_uint(address, "seed");
  config.serial = table.get_text(address, "serial").value_or("");
  config.coupling_kind = table.get_choice(address, "couplings") == "capacitive"
                             ? sim_backend::CouplingKind::kCapacitive
                             : sim_backend::CouplingKind::kSigned;
  config.imperfections_name = table.get_choice(address, "imperfections");
  config.imperfections = config.imperfections_name == "typical"
                             ? sim_backend::ImperfectionModel::typical()
                             : sim_backend::ImperfectionModel::ideal();
  // The ring's bounds depend on the cells, which a per-parameter table cannot say.
  const std::uint64_t max_ring = kMaxRingCodes / config.cells;
  config.ring_samples = table.get_uint(address, "ring");
  if (config.ring_samples > max_ring) {
    bad(address, fmt::format("ring={} must be an integer in [0, {}] with {} cells",
                             config.ring_samples, max_ring, config.cells));
  }
  if (config.ring_samples != 0 && config.ring_samples < 16)
    bad(address, "ring must be 0 (default) or at least 16 samples");
  apply_defects(address, config);
  return config;
}

sim_backend::PbitConfig pbit_config(const DeviceAddress& address) {
  const UriParameterTable& table = pbit_table();
  table.validate(address);
  sim_backend::PbitConfig config;
  config.rows = static_cast<std::uint32_t>(table.get_uint(address, "rows"));
  config.cols = static_cast<std::uint32_t>(table.get_uint(address, "cols"));
  config.degree = static_cast<std::uint32_t>(std::stoul(table.get_choice(address, "degree")));
  config.seed = table.get_uint(address, "seed");
  config.serial = table.get_text(address, "serial").value_or("");
  config.imperfections_name = table.get_choice(address, "imperfections");
  config.imperfections = config.imperfections_name == "typical"
                             ? sim_backend::PbitImperfectionModel::typical()
                             : sim_backend::PbitImperfectionModel::ideal();
  apply_defects(address, config);
  return config;
}

// The fault spec of `fault=...` (empty when absent), or a clear error.
sim_backend::FaultSpec fault_spec(const DeviceAddress& address) {
  const auto text = address.get("fault");
  if (!text)
    return {};
  try {
    return sim_backend::parse_fault_spec(*text);
  } catch (const std::invalid_argument& e) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("bad device address '{}': {}", address.to_string(), e.what()));
  }
}

// The firmware bugs of `firmware_bug=...` (none when absent), or a clear error.
sim_backend::FirmwareBugSpec firmware_bug_spec(const DeviceAddress& address) {
  const auto text = address.get("firmware_bug");
  if (!text)
    return {};
  try {
    return sim_backend::parse_firmware_bug_spec(*text);
  } catch (const std::invalid_argument& e) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("bad device address '{}': {}", address.to_string(), e.what()));
  }
}

// The firmware for an address, with its parameters validated (Error(kNotFound) for an unknown
// board), behind an emulated faulty link when the address asks for one.
std::unique_ptr<sim_backend::FirmwareEndpoint> make_firmware(const DeviceAddress& address) {
  std::unique_ptr<sim_backend::FirmwareEndpoint> firmware;
  std::uint64_t seed = 0;
  if (address.target == "resonator") {
    const sim_backend::ResonatorConfig config = resonator_config(address);
    seed = config.seed;
    firmware = sim_backend::make_resonator_firmware(config);
  } else if (address.target == "pbit") {
    const sim_backend::PbitConfig config = pbit_config(address);
    seed = config.seed;
    firmware = sim_backend::make_pbit_firmware(config);
  } else {
    throw Error(ErrorKind::kNotFound,
                fmt::format("no emulated board '{}' (known: resonator, pbit); try {} or {}",
                            address.target, kDefaultResonatorUri, kDefaultPbitUri));
  }
  sim_backend::FirmwareBugSpec bugs = firmware_bug_spec(address);
  if (!bugs.none())
    firmware = std::make_unique<sim_backend::BuggyFirmware>(std::move(firmware), std::move(bugs));
  const sim_backend::FaultSpec faults = fault_spec(address);
  if (faults.none())
    return firmware;
  return std::make_unique<sim_backend::FaultyLink>(std::move(firmware), faults, seed);
}

std::unique_ptr<Transport> connect(const DeviceAddress& address) {
  std::shared_ptr<sim_backend::FirmwareEndpoint> firmware = make_firmware(address);
  BoardHandler handler = [firmware](std::span<const std::uint8_t> bytes) {
    return firmware->on_bytes(bytes);
  };
  BoardIdle idle = [firmware] { return firmware->on_idle(); };
  BoardPowerOff power_off = [firmware]() noexcept { firmware->power_off(); };
  BoardWakeup wakeup = [firmware] {
    return firmware->next_wakeup().value_or(std::chrono::steady_clock::time_point::max());
  };
  return std::make_unique<InProcessTransport>(std::move(handler),
                                              "in-process " + address.to_string(), std::move(idle),
                                              std::move(power_off), std::move(wakeup));
}

std::vector<DeviceAddress> find_boards(const DeviceAddress& hint) {
  // Emulated boards exist whenever they are asked for: list the default one, or the one the
  // hint describes if it is valid.
  if (hint.target.empty())
    return {DeviceAddress::parse(kDefaultResonatorUri), DeviceAddress::parse(kDefaultPbitUri)};
  fault_spec(hint);  // validates the fault parameter
  firmware_bug_spec(hint);
  if (hint.target == "resonator") {
    resonator_config(hint);  // validates the parameters
    return {hint};
  }
  if (hint.target == "pbit") {
    pbit_config(hint);
    return {hint};
  }
  return {};
}

}  // namespace

Backend make_sim_backend() {
  return Backend{"sim",
                 fmt::format("emulated boards in this process ({}, {})", kDefaultResonatorUri,
                             kDefaultPbitUri),
                 find_boards,
                 connect,
                 {resonator_table(), pbit_table()}};
}

}  // namespace kelvin::driver::backends
