// kelvin find [FILTER] [--json]
#include <memory>
#include <string>

#include <fmt/format.h>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/cli/options.hpp"

namespace kelvin::tools::cli {

Command add_find_command(CLI::App& app) {
  struct Options {
    std::string filter;
    CommonOptions common;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command =
      app.add_subcommand("find", "List the addresses of the devices that can be opened");
  command->add_option("filter", options->filter,
                      "Only devices of this scheme or partial address, for example \"sim\"");
  add_json_flag(*command, options->common, "\"devices\": [ADDRESS, ...]");
  command->footer(fmt::format(
      "Schemes: {}. Board servers (kelvind) are listed board by board: name one "
      "(kelvin find tcp:HOST:PORT) or list them, comma-separated, in KELVIN_REMOTES "
      "(for example KELVIN_REMOTES=tcp:lab-pc:7817,unix:/run/kelvind.sock); a server that does "
      "not answer within 2 s is skipped with a warning.",
      fmt::join(driver::backends::builtin_registry().schemes(), ", ")));

  return {command, [options] {
            const auto addresses = driver::backends::find(options->filter);
            if (options->common.json) {
              Json devices = Json::array();
              for (const auto& address : addresses)
                devices.push_back(address.to_string());
              return write_json(Json{{"devices", devices}});
            }
            std::string out;
            for (const auto& address : addresses)
              out += address.to_string() + "\n";
            return out;
          }};
}

}  // namespace kelvin::tools::cli
