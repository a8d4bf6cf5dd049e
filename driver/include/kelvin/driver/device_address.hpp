// One string addresses a device everywhere (C++, CLI, Python): "scheme:target?key=value&...".
//   sim:resonator?cells=8&seed=1   an emulated board, in process
//   tcp:host:port?board=N          a board served by kelvind over TCP
//   unix:/path/to/socket?board=N   a board served by kelvind on a Unix-domain socket
//   usb:serial=ABC123              a board on USB (also usb:bus=1&address=2, or usb: for the
//                                  first board; docs/usb.md)
// Keys are case-sensitive; values are kept as text and parsed by the backend that uses them,
// through its table of parameters (uri_parameters.hpp).
//
// Thread contract: a plain value type.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace kelvin::driver {

struct DeviceAddress {
  std::string scheme;                         // "sim"
  std::string target;                         // "resonator"
  std::map<std::string, std::string> params;  // {"cells": "8", "seed": "1"}

  // Throws Error(kInvalidArgument) with the reason for a malformed address.
  static DeviceAddress parse(std::string_view uri);
  // Canonical form: parameters in key order.
  std::string to_string() const;

  std::optional<std::string> get(const std::string& key) const;
  // Typed parameter with a default; throws Error(kInvalidArgument) naming the key if the value is
  // not a number in [min, max].
  std::uint64_t get_uint(const std::string& key, std::uint64_t fallback, std::uint64_t min,
                         std::uint64_t max) const;
};

}  // namespace kelvin::driver
