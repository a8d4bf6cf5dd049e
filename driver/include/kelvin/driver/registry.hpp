// Device registry: one backend per URI scheme (sim, tcp, usb), each with find() and make(), as in
// UHD's device registry and libiio's URI backends.
//
// Each backend also carries the tables of its URI parameters (uri_parameters.hpp), from which
// Registry::uri_help() makes the help text.
//
// Thread contract: add() must not race with other calls (register backends at start-up);
// find(), make(), connect(), uri_tables() and uri_help() may run concurrently from any thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/driver/device.hpp"
#include "kelvin/driver/device_address.hpp"
#include "kelvin/driver/transport.hpp"
#include "kelvin/driver/uri_parameters.hpp"

namespace kelvin::driver {

struct Backend {
  std::string scheme;       // "sim"
  std::string description;  // one line for `kelvin find --help`
  // Addresses of the devices this backend can reach now (hint: the user's partial address,
  // scheme already matched; may be empty of target and params).
  std::function<std::vector<DeviceAddress>(const DeviceAddress& hint)> find;
  // Opens a transport to the addressed device. Throws Error (kNotFound, kInvalidArgument, ...).
  std::function<std::unique_ptr<Transport>(const DeviceAddress& address)> connect;
  // The address forms of this scheme with their parameters (sim: one per board), the same
  // tables find() and connect() parse with, so that the help printed from them cannot drift
  // from what is accepted. Empty for a backend that documents nothing.
  std::vector<UriParameterTable> uri_tables = {};
};

class Registry {
 public:
  // Throws Error(kInvalidArgument) if the scheme is empty or already registered.
  void add(Backend backend);

  // All reachable devices; with a filter ("sim", "sim:resonator?cells=16"), those of its scheme.
  std::vector<DeviceAddress> find(std::string_view filter = {}) const;
  // Connects and performs hello. Throws Error(kNotFound) for an unknown scheme.
  std::unique_ptr<Device> make(std::string_view uri, const OpenOptions& options = {}) const;
  // Only the backend's connect(): a raw transport, no hello (for relays such as kelvind, whose
  // clients do their own). Throws as make().
  std::unique_ptr<Transport> connect(std::string_view uri) const;
  std::vector<std::string> schemes() const;
  // The parameter tables of one scheme, or of every scheme (empty: in registration order).
  // Throws Error(kNotFound) for an unknown scheme.
  std::vector<UriParameterTable> uri_tables(std::string_view scheme = {}) const;
  // The help made from those tables (UriParameterTable::help(), one table after the other); a
  // scheme without tables contributes "scheme: description". Throws as uri_tables().
  std::string uri_help(std::string_view scheme = {}) const;

 private:
  const Backend& backend_for(const std::string& scheme) const;
  std::vector<Backend> backends_;
};

}  // namespace kelvin::driver
