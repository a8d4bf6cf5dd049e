#include "sim_backend.hpp"

#include <set>

#include <fmt/format.h>

#include "kelvin/driver/error.hpp"
#include "kelvin/driver/inprocess_transport.hpp"
#include "kelvin/sim/resonator_config.hpp"
#include "kelvin/sim/resonator_firmware.hpp"

namespace kelvin::driver::backends {
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

sim::ResonatorConfig resonator_config(const DeviceAddress& address) {
  check_known_params(address, {"cells", "seed", "serial"});
  sim::ResonatorConfig config;
  config.cells = static_cast<std::uint32_t>(address.get_uint("cells", config.cells, 1, 256));
  config.seed = address.get_uint("seed", config.seed, 0, UINT64_MAX);
  config.serial = address.get("serial").value_or("");
  return config;
}

std::unique_ptr<Transport> connect(const DeviceAddress& address) {
  if (address.target != "resonator") {
    throw Error(ErrorKind::kNotFound,
                fmt::format("no emulated board '{}' (known: resonator); try {}", address.target,
                            "sim:resonator?cells=8&seed=1"));
  }
  const auto config = resonator_config(address);
  std::shared_ptr<sim::FirmwareEndpoint> firmware = sim::make_resonator_firmware(config);
  BoardHandler handler = [firmware](std::span<const std::uint8_t> bytes) {
    return firmware->on_bytes(bytes);
  };
  BoardIdle idle = [firmware] { return firmware->on_idle(); };
  BoardPowerOff power_off = [firmware]() noexcept { firmware->power_off(); };
  return std::make_unique<InProcessTransport>(std::move(handler),
                                              "in-process " + address.to_string(), std::move(idle),
                                              std::move(power_off));
}

std::vector<DeviceAddress> find(const DeviceAddress& hint) {
  // Emulated boards exist whenever they are asked for: list the default one, or the one the
  // hint describes if it is valid.
  if (hint.target.empty())
    return {DeviceAddress::parse("sim:resonator?cells=8&seed=1")};
  if (hint.target != "resonator")
    return {};
  resonator_config(hint);  // validates the parameters
  return {hint};
}

}  // namespace

Backend make_sim_backend() {
  return Backend{"sim", "emulated boards in this process (sim:resonator?cells=8&seed=1)", find,
                 connect};
}

}  // namespace kelvin::driver::backends
