// The "sim" scheme: emulated boards running in this process behind an InProcessTransport.
#pragma once

#include "kelvin/driver/registry.hpp"

namespace kelvin::driver::backends {

Backend make_sim_backend();

}  // namespace kelvin::driver::backends
