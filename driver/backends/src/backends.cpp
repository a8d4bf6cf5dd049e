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

}  // namespace kelvin::driver::backends
