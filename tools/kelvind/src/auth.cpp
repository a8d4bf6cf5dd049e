#include "kelvin/tools/kelvind/auth.hpp"

#include <cstdint>
#include <fstream>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/home_path.hpp"
#include "kelvin/common/logging.hpp"

namespace kelvin::tools::kelvind {

using common::Error;
using common::ErrorKind;

bool tokens_equal(std::string_view expected, std::string_view given) noexcept {
  // Walk the expected token's length whatever the given one is; a length mismatch is folded
  // into the same accumulator instead of returning early.
  std::uint8_t diff = expected.size() == given.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto g = i < given.size() ? static_cast<std::uint8_t>(given[i]) : std::uint8_t{0};
    diff = static_cast<std::uint8_t>(diff | (static_cast<std::uint8_t>(expected[i]) ^ g));
  }
  return diff == 0;
}

std::string read_token_file(const std::string& path, const char* home) {
  const std::string expanded = common::expand_home(path, home);
  std::ifstream in(expanded);
  if (!in) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("cannot read the token file '{}'", expanded));
  }
  std::string line;
  std::getline(in, line);
  const auto first = line.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    throw Error(ErrorKind::kInvalidArgument, fmt::format("the token file '{}' is empty", expanded));
  }
  const auto last = line.find_last_not_of(" \t\r\n");
  return line.substr(first, last - first + 1);
}

std::string server_token(const std::string& token_file, const char* kelvin_token,
                         const char* kelvind_token, const char* home) {
  const auto set = [](const char* value) { return value != nullptr && *value != '\0'; };
  if (!token_file.empty())
    return read_token_file(token_file, home);
  if (set(kelvin_token) && set(kelvind_token) && std::string_view(kelvin_token) != kelvind_token) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} and {} are both set and differ: unset {} (the deprecated "
                            "name), so that the server and its clients use {}",
                            kTokenVariable, kDeprecatedTokenVariable, kDeprecatedTokenVariable,
                            kTokenVariable));
  }
  if (set(kelvin_token)) {
    if (set(kelvind_token)) {
      common::logger("kelvin.server")
          ->warn("{} is deprecated and ignored (it equals {}): unset it", kDeprecatedTokenVariable,
                 kTokenVariable);
    }
    return kelvin_token;
  }
  if (set(kelvind_token)) {
    common::logger("kelvin.server")
        ->warn("{} is deprecated: set {} instead (the clients read that one too)",
               kDeprecatedTokenVariable, kTokenVariable);
    return kelvind_token;
  }
  return {};
}

}  // namespace kelvin::tools::kelvind
