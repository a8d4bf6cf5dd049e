#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli.hpp"
#include "kelvin/driver/backends.hpp"

namespace kelvin::cli {

CLI::Option* add_uri_option(CLI::App& command, std::string& uri) {
  uri = kDefaultUri;
  return command
      .add_option("--uri", uri, "Device address, for example " + std::string(kDefaultUri))
      ->capture_default_str();
}

driver::ResonatorBoard open_resonator_board(const std::string& uri) {
  std::unique_ptr<driver::Device> device = driver::open(uri);
  return driver::ResonatorBoard(std::shared_ptr<driver::Device>(std::move(device)));
}

std::vector<std::string> capability_names(std::uint64_t bits) {
  // kelvin.wire.v1.Capability
  std::vector<std::string> names;
  for (unsigned bit = 0; bit < 64; ++bit) {
    const std::uint64_t mask = std::uint64_t{1} << bit;
    if ((bits & mask) == 0)
      continue;
    switch (mask) {
      case 1:
        names.emplace_back("second_moments");
        break;
      case 2:
        names.emplace_back("sample_record");
        break;
      case 4:
        names.emplace_back("state_reset");
        break;
      default:
        names.push_back("bit_" + std::to_string(bit));
        break;
    }
  }
  return names;
}

}  // namespace kelvin::cli
