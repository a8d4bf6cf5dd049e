// The compiled part of the `kelvin` Python package (python/kelvin/__init__.py re-exports it).
// Logging: like the CLI, the libraries' named loggers go to stderr at level "warn" unless
// KELVIN_LOG_LEVEL (read at import; an invalid value is warned about) or, later,
// kelvin.set_log_level() says otherwise (library code never prints).
#include <string>

#include <pybind11/pybind11.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "bindings.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/log_level.hpp"

PYBIND11_MODULE(_kelvin, m) {
  namespace py = pybind11;
  m.doc() = "kelvin's C++ runtime and driver (the package `kelvin` is the public face)";
  if (!spdlog::get("kelvin.python")) {
    spdlog::set_default_logger(spdlog::stderr_logger_mt("kelvin.python"));
    spdlog::set_level(spdlog::level::warn);
    std::string invalid;
    if (const auto level = kelvin::common::log_level_from_environment(&invalid))
      spdlog::set_level(*level);
    if (!invalid.empty())
      spdlog::get("kelvin.python")->warn("{}", invalid);
  }
  m.def(
      "set_log_level",
      [](const std::string& level) {
        const auto parsed = kelvin::common::parse_log_level(level);
        if (!parsed) {
          throw kelvin::common::Error(
              kelvin::common::ErrorKind::kInvalidArgument,
              "log level '" + level + "' is not one of " + kelvin::common::kLogLevelNames);
        }
        spdlog::set_level(*parsed);
      },
      py::arg("level"),
      "Level of kelvin's log messages on stderr: trace, debug, info, warn (default), error, "
      "critical or off.");
  kelvin::python::bind_errors(m);
  kelvin::python::bind_boards(m);
  kelvin::python::bind_linear_algebra(m);
  kelvin::python::bind_natural_gradient(m);
  kelvin::python::bind_quartic(m);
  kelvin::python::bind_sampling(m);
  kelvin::python::bind_stream(m);
}
