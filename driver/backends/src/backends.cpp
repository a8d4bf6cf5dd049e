#include "kelvin/driver/backends/backends.hpp"

#include "sim_backend.hpp"
#include "tcp_backend.hpp"
#include "usb_backend.hpp"

namespace kelvin::driver::backends {

const Registry& builtin_registry() {
  static const Registry registry = [] {
    Registry r;
    r.add(make_sim_backend());
    r.add(make_tcp_backend());
    r.add(make_unix_backend());
    r.add(make_usb_backend());
    return r;
  }();
  return registry;
}

std::unique_ptr<Device> open(std::string_view uri, const OpenOptions& options) {
  return builtin_registry().make(uri, options);
}

std::vector<DeviceAddress> find(std::string_view filter) {
  return builtin_registry().find(filter);
}

std::string uri_help(std::string_view scheme) {
  // Registry::uri_help() separates lines by '\n'; the footers place the block after two spaces.
  const std::string help = builtin_registry().uri_help(scheme);
  std::string out;
  out.reserve(help.size() + help.size() / 16);
  for (const char c : help) {
    out += c;
    if (c == '\n')
      out += "  ";
  }
  return out;
}

}  // namespace kelvin::driver::backends
