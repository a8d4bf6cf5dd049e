#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli.hpp"
#include "kelvin/driver/backends/backends.hpp"

namespace kelvin::tools::cli {

CLI::Option* add_uri_option(CLI::App& command, std::string& uri) {
  uri = kDefaultUri;
  return command
      .add_option("--uri", uri, "Device address, for example " + std::string(kDefaultUri))
      ->capture_default_str();
}

CLI::Option* add_preconditioning_option(CLI::App& command, runtime::Preconditioning& mode) {
  static const std::map<std::string, runtime::Preconditioning> kModes{
      {"auto", runtime::Preconditioning::kAuto},
      {"jacobi", runtime::Preconditioning::kJacobi},
      {"none", runtime::Preconditioning::kNone}};
  mode = runtime::Preconditioning::kAuto;
  return command
      .add_option("--preconditioning", mode,
                  "auto (Jacobi when it at least halves the predicted quantization error), "
                  "jacobi or none")
      ->transform(CLI::CheckedTransformer(kModes, CLI::ignore_case))
      ->default_str("auto");
}

nlohmann::ordered_json preconditioning_json(bool jacobi, const std::string& reason,
                                            double predicted_quantization_error) {
  return nlohmann::ordered_json{{"jacobi", jacobi},
                                {"reason", reason},
                                {"predicted_quantization_error", predicted_quantization_error}};
}

driver::ResonatorBoard open_resonator_board(const std::string& uri) {
  return driver::ResonatorBoard(driver::backends::open(uri));
}

}  // namespace kelvin::tools::cli
