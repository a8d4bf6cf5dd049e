#include "kelvin/common/logging.hpp"
#include "kelvin/common/log_level.hpp"

#include <cstdlib>
#include <mutex>

#include <spdlog/spdlog.h>

namespace kelvin::common {

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
  static std::mutex mutex;  // makes get-or-create atomic
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get(name))
    return existing;
  auto fallback = spdlog::default_logger();
  auto created =
      std::make_shared<spdlog::logger>(name, fallback->sinks().begin(), fallback->sinks().end());
  created->set_level(fallback->level());
  spdlog::register_logger(created);
  return created;
}

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name) {
  const std::string text(name);
  const auto parsed = spdlog::level::from_str(text);
  if (parsed == spdlog::level::off && text != "off")
    return std::nullopt;  // from_str() answers "off" for any name it does not know
  return parsed;
}

std::optional<spdlog::level::level_enum> log_level_from_environment(std::string* invalid) {
  const char* value = std::getenv(kLogLevelVariable);
  if (value == nullptr || *value == '\0')
    return std::nullopt;
  const auto parsed = parse_log_level(value);
  if (!parsed && invalid != nullptr) {
    *invalid = std::string(kLogLevelVariable) + "='" + value + "' is not a log level (" +
               kLogLevelNames + "); using the default";
  }
  return parsed;
}

}  // namespace kelvin::common
