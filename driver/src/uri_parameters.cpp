#include "kelvin/driver/uri_parameters.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"

namespace kelvin::driver {

using common::Error;
using common::ErrorKind;
namespace {

[[noreturn]] void bad(const DeviceAddress& address, const std::string& why) {
  throw Error(ErrorKind::kInvalidArgument,
              fmt::format("bad device address '{}': {}", address.to_string(), why));
}

const UriParameter* lookup(const UriParameterTable& table, std::string_view name) {
  for (const auto& parameter : table.parameters) {
    if (parameter.name == name)
      return &parameter;
  }
  return nullptr;
}

// A backend asking for a parameter its own table does not list, or of another kind, is a bug in
// the backend: it must not read as the user's mistake.
const UriParameter& lookup(const UriParameterTable& table, std::string_view name,
                           std::initializer_list<UriParameterKind> kinds) {
  const UriParameter* parameter = lookup(table, name);
  if (parameter == nullptr) {
    throw std::logic_error(
        fmt::format("{}:{} has no parameter '{}'", table.scheme, table.target, name));
  }
  if (std::find(kinds.begin(), kinds.end(), parameter->kind) == kinds.end()) {
    throw std::logic_error(fmt::format("{}:{} parameter '{}' is read as the wrong kind",
                                       table.scheme, table.target, name));
  }
  return *parameter;
}

bool has_target_keys(const UriParameterTable& table) {
  return std::any_of(table.parameters.begin(), table.parameters.end(),
                     [](const UriParameter& p) { return p.place == UriParameterPlace::kTarget; });
}

// The known keys of a place, sorted, so that a long list is easy to search by eye (and reads as
// the messages always have).
std::string known_keys(const UriParameterTable& table, UriParameterPlace place) {
  auto names = table.names(place);
  std::sort(names.begin(), names.end());
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

// The target as key=value pairs ("serial=ABC", "bus=1&address=2"), for tables with target keys.
// Malformed pairs, unknown keys and repeated keys are refused here, so every reader of a target
// key sees a well-formed target.
std::map<std::string, std::string> target_pairs(const UriParameterTable& table,
                                                const DeviceAddress& address) {
  std::map<std::string, std::string> pairs;
  std::string_view rest = address.target;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty())
      continue;  // tolerate "a=1&&b=2" and a trailing '&', as the query does
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0)
      bad(address, fmt::format("'{}' is not key=value", pair));
    const std::string key(pair.substr(0, eq));
    const UriParameter* parameter = lookup(table, key);
    if (parameter == nullptr || parameter->place != UriParameterPlace::kTarget) {
      bad(address, fmt::format("unknown key '{}' (known: {})", key,
                               known_keys(table, UriParameterPlace::kTarget)));
    }
    if (!pairs.emplace(key, std::string(pair.substr(eq + 1))).second)
      bad(address, fmt::format("'{}' given twice", key));
  }
  return pairs;
}

std::optional<std::uint64_t> parse_uint(std::string_view text) {
  std::uint64_t value = 0;
  const char* first = text.data();
  const char* last = first + text.size();
  const auto [ptr, ec] = std::from_chars(first, last, value);
  if (text.empty() || ec != std::errc{} || ptr != last)
    return std::nullopt;
  return value;
}

std::uint64_t checked_uint(const DeviceAddress& address, const UriParameter& parameter,
                           const std::string& text) {
  const auto value = parse_uint(text);
  if (!value || *value < parameter.min || *value > parameter.max) {
    bad(address, fmt::format("{}={} must be an integer in [{}, {}]", parameter.name, text,
                             parameter.min, parameter.max));
  }
  return *value;
}

const std::string& checked_choice(const DeviceAddress& address, const UriParameter& parameter,
                                  const std::string& text) {
  if (std::find(parameter.choices.begin(), parameter.choices.end(), text) ==
      parameter.choices.end()) {
    bad(address, fmt::format("{}={} is not one of {}", parameter.name, text,
                             fmt::join(parameter.choices, ", ")));
  }
  return text;
}

// The value as written, else the default; nullopt when neither.
std::optional<std::string> value_or_default(const UriParameterTable& table,
                                            const DeviceAddress& address,
                                            const UriParameter& parameter) {
  if (auto text = table.raw(address, parameter.name))
    return text;
  if (parameter.has_default())
    return parameter.default_value;
  return std::nullopt;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

UriParameter UriParameter::unsigned_integer(std::string name, std::uint64_t min, std::uint64_t max,
                                            std::string default_value, std::string meaning) {
  UriParameter p;
  p.name = std::move(name);
  p.meaning = std::move(meaning);
  p.kind = UriParameterKind::kUnsigned;
  p.min = min;
  p.max = max;
  p.default_value = std::move(default_value);
  return p;
}

UriParameter UriParameter::choice(std::string name, std::vector<std::string> choices,
                                  std::string default_value, std::string meaning) {
  UriParameter p;
  p.name = std::move(name);
  p.meaning = std::move(meaning);
  p.kind = UriParameterKind::kChoice;
  p.choices = std::move(choices);
  p.default_value = std::move(default_value);
  return p;
}

UriParameter UriParameter::text(std::string name, std::string default_value, std::string meaning) {
  UriParameter p;
  p.name = std::move(name);
  p.meaning = std::move(meaning);
  p.kind = UriParameterKind::kText;
  p.default_value = std::move(default_value);
  return p;
}

UriParameter UriParameter::spec(std::string name, std::string syntax, std::string default_value,
                                std::string meaning) {
  UriParameter p;
  p.name = std::move(name);
  p.meaning = std::move(meaning);
  p.kind = UriParameterKind::kSpec;
  p.syntax = std::move(syntax);
  p.default_value = std::move(default_value);
  return p;
}

UriParameter UriParameter::in_target() const {
  UriParameter p = *this;
  p.place = UriParameterPlace::kTarget;
  return p;
}

std::string UriParameter::values_text() const {
  switch (kind) {
    case UriParameterKind::kUnsigned:
      // 2^64-1 says "any unsigned 64-bit value" more readably than its twenty digits.
      return max == UINT64_MAX ? fmt::format("{}..2^64-1", min) : fmt::format("{}..{}", min, max);
    case UriParameterKind::kChoice:
      return fmt::format("{}", fmt::join(choices, "|"));
    case UriParameterKind::kText:
      return "text";
    case UriParameterKind::kSpec:
      return syntax;
  }
  return {};
}

std::optional<UriParameter> UriParameterTable::find(std::string_view name) const {
  if (const UriParameter* parameter = lookup(*this, name))
    return *parameter;
  return std::nullopt;
}

std::vector<std::string> UriParameterTable::names(UriParameterPlace place) const {
  std::vector<std::string> out;
  for (const auto& parameter : parameters) {
    if (parameter.place == place)
      out.push_back(parameter.name);
  }
  return out;
}

void UriParameterTable::validate(const DeviceAddress& address) const {
  for (const auto& [key, value] : address.params) {
    const UriParameter* parameter = lookup(*this, key);
    if (parameter == nullptr) {
      bad(address, fmt::format("unknown parameter '{}' (known: {})", key,
                               known_keys(*this, UriParameterPlace::kQuery)));
    }
    if (parameter->place == UriParameterPlace::kTarget) {
      // usb:?serial=ABC: the right key in the wrong place deserves more than "unknown".
      bad(address,
          fmt::format("unknown parameter '{}' (known: {}); {} belongs in the target, "
                      "before '?' ({}:{}=...)",
                      key, known_keys(*this, UriParameterPlace::kQuery), key, scheme, key));
    }
  }
  if (has_target_keys(*this))
    target_pairs(*this, address);
  for (const auto& parameter : parameters) {
    const auto text = raw(address, parameter.name);
    if (!text)
      continue;
    if (parameter.kind == UriParameterKind::kUnsigned)
      checked_uint(address, parameter, *text);
    else if (parameter.kind == UriParameterKind::kChoice)
      checked_choice(address, parameter, *text);
  }
}

std::uint64_t UriParameterTable::get_uint(const DeviceAddress& address,
                                          std::string_view name) const {
  const auto value = find_uint(address, name);
  if (!value) {
    throw std::logic_error(
        fmt::format("{}:{} parameter '{}' has no default: use find_uint()", scheme, target, name));
  }
  return *value;
}

std::optional<std::uint64_t> UriParameterTable::find_uint(const DeviceAddress& address,
                                                          std::string_view name) const {
  const UriParameter& parameter = lookup(*this, name, {UriParameterKind::kUnsigned});
  const auto text = value_or_default(*this, address, parameter);
  if (!text)
    return std::nullopt;
  return checked_uint(address, parameter, *text);
}

std::string UriParameterTable::get_choice(const DeviceAddress& address,
                                          std::string_view name) const {
  const UriParameter& parameter = lookup(*this, name, {UriParameterKind::kChoice});
  const auto text = value_or_default(*this, address, parameter);
  if (!text) {
    throw std::logic_error(fmt::format("{}:{} choice '{}' has no default", scheme, target, name));
  }
  return checked_choice(address, parameter, *text);
}

std::optional<std::string> UriParameterTable::get_text(const DeviceAddress& address,
                                                       std::string_view name) const {
  const UriParameter& parameter =
      lookup(*this, name, {UriParameterKind::kText, UriParameterKind::kSpec});
  return value_or_default(*this, address, parameter);
}

std::optional<std::string> UriParameterTable::raw(const DeviceAddress& address,
                                                  std::string_view name) const {
  const UriParameter* parameter = lookup(*this, name);
  if (parameter != nullptr && parameter->place == UriParameterPlace::kTarget) {
    auto pairs = target_pairs(*this, address);
    const auto it = pairs.find(std::string(name));
    if (it == pairs.end())
      return std::nullopt;
    return it->second;
  }
  return address.get(std::string(name));
}

std::string UriParameterTable::synopsis() const {
  std::string out = scheme + ":" + target;
  char separator = '?';
  for (const auto& parameter : parameters) {
    if (parameter.place != UriParameterPlace::kQuery)
      continue;
    out += separator;
    out += parameter.name;
    out += '=';
    out += parameter.kind == UriParameterKind::kChoice ? parameter.values_text()
                                                       : upper(parameter.name);
    separator = '&';
  }
  return out;
}

std::string UriParameterTable::help() const {
  std::size_t width = 0;
  for (const auto& parameter : parameters)
    width = std::max(width, parameter.name.size());
  std::string out = synopsis();
  if (!summary.empty())
    out += "\n    " + summary;
  for (const auto& parameter : parameters) {
    out += fmt::format("\n    {:<{}}  {} (default {})", parameter.name, width,
                       parameter.values_text(), parameter.default_value);
    if (!parameter.meaning.empty())
      out += ": " + parameter.meaning;
  }
  return out;
}

std::string uri_help(const std::vector<UriParameterTable>& tables) {
  std::string out;
  for (const auto& table : tables) {
    if (!out.empty())
      out += '\n';
    out += table.help();
  }
  return out;
}

}  // namespace kelvin::driver
