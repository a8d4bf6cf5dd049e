#include "kelvin/common/logging.hpp"

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

}  // namespace kelvin::common
