#include "kelvin/driver/device_address.hpp"

#include <charconv>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"

namespace kelvin::driver {

using common::Error;
using common::ErrorKind;
namespace {

bool valid_scheme(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok)
      return false;
  }
  return true;
}

[[noreturn]] void bad(std::string_view uri, const std::string& why) {
  throw Error(ErrorKind::kInvalidArgument, fmt::format("bad device address '{}': {}", uri, why));
}

}  // namespace

DeviceAddress DeviceAddress::parse(std::string_view uri) {
  const auto colon = uri.find(':');
  if (colon == std::string_view::npos) {
    bad(uri, "expected scheme:target (for example sim:resonator?cells=8)");
  }
  DeviceAddress address;
  address.scheme = std::string(uri.substr(0, colon));
  if (!valid_scheme(address.scheme))
    bad(uri, "the scheme must be lower-case letters and digits");
  std::string_view rest = uri.substr(colon + 1);
  const auto question = rest.find('?');
  address.target = std::string(rest.substr(0, question));
  if (question == std::string_view::npos)
    return address;

  std::string_view query = rest.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty())
      continue;  // tolerate "a=1&&b=2" and a trailing '&'
    const auto eq = pair.find('=');
    if (eq == 0)
      bad(uri, fmt::format("parameter '{}' has no name", pair));
    const std::string key(pair.substr(0, eq));
    const std::string value = eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
    if (!address.params.emplace(key, value).second) {
      bad(uri, fmt::format("parameter '{}' given twice", key));
    }
  }
  return address;
}

std::string DeviceAddress::to_string() const {
  std::string out = scheme + ":" + target;
  char sep = '?';
  for (const auto& [key, value] : params) {
    out += sep;
    out += key;
    if (!value.empty())
      out += "=" + value;
    sep = '&';
  }
  return out;
}

std::optional<std::string> DeviceAddress::get(const std::string& key) const {
  auto it = params.find(key);
  if (it == params.end())
    return std::nullopt;
  return it->second;
}

std::uint64_t DeviceAddress::get_uint(const std::string& key, std::uint64_t fallback,
                                      std::uint64_t min, std::uint64_t max) const {
  const auto text = get(key);
  if (!text)
    return fallback;
  std::uint64_t value = 0;
  const char* first = text->data();
  const char* last = first + text->size();
  const auto [ptr, ec] = std::from_chars(first, last, value);
  if (text->empty() || ec != std::errc{} || ptr != last || value < min || value > max) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("bad device address '{}': {}={} must be an integer in [{}, {}]",
                            to_string(), key, *text, min, max));
  }
  return value;
}

}  // namespace kelvin::driver
