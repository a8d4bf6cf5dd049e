#include "sim_backend.hpp"

#include <set>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/inprocess_transport.hpp"
#include "kelvin/sim_backend/fault_injection.hpp"
#include "kelvin/sim_backend/pbit_config.hpp"
#include "kelvin/sim_backend/pbit_firmware.hpp"
#include "kelvin/sim_backend/resonator_config.hpp"
#include "kelvin/sim_backend/resonator_firmware.hpp"

namespace kelvin::driver::backends {

using common::Error;
using common::ErrorKind;
namespace {

// Refuses parameters the board does not know, so that a typo ("cell=16") is not silently
// ignored.
void check_known_params(const DeviceAddress& address, const std::set<std::string>& known) {
  for (const auto& [key, value] : address.params) {
    if (!known.contains(key)) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("bad device address '{}': unknown parameter '{}' (known: {})",
                              address.to_string(), key, fmt::join(known, ", ")));
    }
  }
}

// One of a few named values, or a clear error listing them.
std::string get_choice(const DeviceAddress& address, const std::string& key,
                       const std::string& fallback, const std::set<std::string>& choices) {
  const std::string value = address.get(key).value_or(fallback);
  if (!choices.contains(value)) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("bad device address '{}': {}={} is not one of {}", address.to_string(),
                            key, value, fmt::join(choices, ", ")));
  }
  return value;
}

sim_backend::ResonatorConfig resonator_config(const DeviceAddress& address) {
  check_known_params(address,
                     {"cells", "seed", "serial", "couplings", "imperfections", "ring", "fault"});
  sim_backend::ResonatorConfig config;
  config.cells = static_cast<std::uint32_t>(address.get_uint("cells", config.cells, 1, 256));
  config.seed = address.get_uint("seed", config.seed, 0, UINT64_MAX);
  config.serial = address.get("serial").value_or("");
  config.coupling_kind =
      get_choice(address, "couplings", "signed", {"signed", "capacitive"}) == "capacitive"
          ? sim_backend::CouplingKind::kCapacitive
          : sim_backend::CouplingKind::kSigned;
  config.imperfections_name = get_choice(address, "imperfections", "ideal", {"ideal", "typical"});
  config.imperfections = config.imperfections_name == "typical"
                             ? sim_backend::ImperfectionModel::typical()
                             : sim_backend::ImperfectionModel::ideal();
  // Ring capacity in samples; 0 (default) means 4 MiB of codes.
  const std::uint64_t max_ring = (std::uint64_t{1} << 30) / (2 * std::uint64_t{config.cells});
  config.ring_samples = address.get_uint("ring", 0, 0, max_ring);
  if (config.ring_samples != 0 && config.ring_samples < 16) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("bad device address '{}': ring must be 0 (default) or at least 16 "
                            "samples",
                            address.to_string()));
  }
  return config;
}

constexpr const char* kDefaultResonator = "sim:resonator?cells=8&seed=1";
constexpr const char* kDefaultPbit = "sim:pbit?rows=70&cols=70&degree=12&seed=1";

sim_backend::PbitConfig pbit_config(const DeviceAddress& address) {
  check_known_params(address, {"rows", "cols", "degree", "seed", "serial", "fault"});
  sim_backend::PbitConfig config;
  config.rows = static_cast<std::uint32_t>(address.get_uint("rows", config.rows, 1, 256));
  config.cols = static_cast<std::uint32_t>(address.get_uint("cols", config.cols, 1, 256));
  config.degree = static_cast<std::uint32_t>(address.get_uint("degree", config.degree, 8, 16));
  if (config.degree != 8 && config.degree != 12 && config.degree != 16) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("bad device address '{}': degree must be 8, 12 or 16, got {}",
                            address.to_string(), config.degree));
  }
  config.seed = address.get_uint("seed", config.seed, 0, UINT64_MAX);
  config.serial = address.get("serial").value_or("");
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
                            address.target, kDefaultResonator, kDefaultPbit));
  }
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

std::vector<DeviceAddress> find(const DeviceAddress& hint) {
  // Emulated boards exist whenever they are asked for: list the default one, or the one the
  // hint describes if it is valid.
  if (hint.target.empty())
    return {DeviceAddress::parse(kDefaultResonator), DeviceAddress::parse(kDefaultPbit)};
  fault_spec(hint);  // validates the fault parameter
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
  return Backend{
      "sim",
      fmt::format("emulated boards in this process ({}, {})", kDefaultResonator, kDefaultPbit),
      find, connect};
}

}  // namespace kelvin::driver::backends
