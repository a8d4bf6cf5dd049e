// The level of kelvin's loggers from a name and from the environment: KELVIN_LOG_LEVEL sets the
// level of every kelvin logger in the CLI (tools/cli/main.cpp) and in the Python module at
// import; the CLI's --log-level and Python's kelvin.set_log_level() win over it.
//
// Thread contract: pure functions (log_level_from_environment reads the environment); safe from
// any thread that does not change the environment at the same time.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <spdlog/common.h>

namespace kelvin::common {

inline constexpr const char* kLogLevelVariable = "KELVIN_LOG_LEVEL";
inline constexpr const char* kLogLevelNames = "trace, debug, info, warn, error, critical, off";

// The level called `name` (one of kLogLevelNames, also "warning" and "err"); nullopt otherwise.
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name);
// What KELVIN_LOG_LEVEL says: nullopt if it is unset or empty. If it holds anything else, also
// nullopt, and `invalid` (if given) receives a one-line warning naming the value and the levels.
std::optional<spdlog::level::level_enum> log_level_from_environment(std::string* invalid = nullptr);

}  // namespace kelvin::common
