#include "kelvin/common/home_path.hpp"

#include <fmt/format.h>

#include "kelvin/common/error.hpp"

namespace kelvin::common {

std::string expand_home(const std::string& path, const char* home) {
  if (path != "~" && path.rfind("~/", 0) != 0)
    return path;
  if (home == nullptr || *home == '\0') {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("cannot expand '~' in '{}': HOME is not set", path));
  }
  std::string expanded = home;
  // "~/x" with HOME=/home/ann/ must not become "/home/ann//x" in messages.
  if (path.size() > 1 && expanded.size() > 1 && expanded.back() == '/')
    expanded.pop_back();
  return expanded + path.substr(1);
}

}  // namespace kelvin::common
