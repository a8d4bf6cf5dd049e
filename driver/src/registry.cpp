#include "kelvin/driver/registry.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"

namespace kelvin::driver {

using common::Error;
using common::ErrorKind;

void Registry::add(Backend backend) {
  if (backend.scheme.empty() || !backend.find || !backend.connect) {
    throw Error(ErrorKind::kInvalidArgument, "a backend needs a scheme, find() and connect()");
  }
  for (const auto& table : backend.uri_tables) {
    // A table filed under another scheme would print help for addresses this backend refuses.
    if (table.scheme != backend.scheme) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("backend '{}' has a URI table for scheme '{}'", backend.scheme,
                              table.scheme));
    }
  }
  for (const auto& existing : backends_) {
    if (existing.scheme == backend.scheme) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("scheme '{}' is already registered", backend.scheme));
    }
  }
  backends_.push_back(std::move(backend));
}

const Backend& Registry::backend_for(const std::string& scheme) const {
  for (const auto& backend : backends_) {
    if (backend.scheme == scheme)
      return backend;
  }
  throw Error(ErrorKind::kNotFound, fmt::format("no backend for scheme '{}' (known: {})", scheme,
                                                fmt::join(schemes(), ", ")));
}

std::vector<DeviceAddress> Registry::find(std::string_view filter) const {
  std::vector<DeviceAddress> found;
  if (filter.empty()) {
    for (const auto& backend : backends_) {
      auto more = backend.find(DeviceAddress{backend.scheme, {}, {}});
      found.insert(found.end(), more.begin(), more.end());
    }
    return found;
  }
  // A bare scheme ("sim") is a filter too.
  const auto hint = filter.find(':') == std::string_view::npos
                        ? DeviceAddress{std::string(filter), {}, {}}
                        : DeviceAddress::parse(filter);
  return backend_for(hint.scheme).find(hint);
}

std::unique_ptr<Device> Registry::make(std::string_view uri, const OpenOptions& options) const {
  auto address = DeviceAddress::parse(uri);
  auto transport = backend_for(address.scheme).connect(address);
  return std::make_unique<Device>(std::move(transport), std::move(address), options);
}

std::unique_ptr<Transport> Registry::connect(std::string_view uri) const {
  const auto address = DeviceAddress::parse(uri);
  return backend_for(address.scheme).connect(address);
}

std::vector<std::string> Registry::schemes() const {
  std::vector<std::string> names;
  for (const auto& backend : backends_)
    names.push_back(backend.scheme);
  return names;
}

std::vector<UriParameterTable> Registry::uri_tables(std::string_view scheme) const {
  if (!scheme.empty())
    return backend_for(std::string(scheme)).uri_tables;
  std::vector<UriParameterTable> tables;
  for (const auto& backend : backends_)
    tables.insert(tables.end(), backend.uri_tables.begin(), backend.uri_tables.end());
  return tables;
}

std::string Registry::uri_help(std::string_view scheme) const {
  std::string out;
  for (const auto& backend : backends_) {
    if (!scheme.empty() && backend.scheme != scheme)
      continue;
    if (!out.empty())
      out += '\n';
    out += backend.uri_tables.empty() ? backend.scheme + ": " + backend.description
                                      : driver::uri_help(backend.uri_tables);
  }
  if (out.empty() && !scheme.empty())
    backend_for(std::string(scheme));  // throws kNotFound naming the known schemes
  return out;
}

}  // namespace kelvin::driver
