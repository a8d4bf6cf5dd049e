#include "kelvin/tools/kelvind/auth.hpp"

#include <cstdint>
#include <fstream>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"

namespace kelvin::tools::kelvind {

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

std::string read_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw common::Error(common::ErrorKind::kInvalidArgument,
                        fmt::format("cannot read the token file '{}'", path));
  }
  std::string line;
  std::getline(in, line);
  const auto first = line.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    throw common::Error(common::ErrorKind::kInvalidArgument,
                        fmt::format("the token file '{}' is empty", path));
  }
  const auto last = line.find_last_not_of(" \t\r\n");
  return line.substr(first, last - first + 1);
}

}  // namespace kelvin::tools::kelvind
