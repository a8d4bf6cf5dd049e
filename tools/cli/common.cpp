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
  return driver::ResonatorBoard(driver::open(uri));
}

}  // namespace kelvin::cli
