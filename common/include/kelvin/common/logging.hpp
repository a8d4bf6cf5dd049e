// Named loggers for kelvin's libraries. Library code never prints: it logs through these, and
// the application decides where logs go (the CLI sends them to stderr at level "warn").
//
// Thread contract: logger() may be called from any thread; spdlog loggers are thread-safe.
#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

namespace kelvin::common {

// Returns the logger called `name` (for example "kelvin.sim"), creating it on first use with
// the sinks and level of spdlog's default logger at that moment.
std::shared_ptr<spdlog::logger> logger(const std::string& name);

}  // namespace kelvin::common
