// The "sim" scheme: emulated boards running in this process behind an InProcessTransport.
//
// Thread contract: make_*_backend() may be called from any thread. The Backend's find() and
// connect() may run concurrently, as Registry allows: each call opens its own transport, and the
// parameter tables are built once (function-local statics) and only read afterwards.
#pragma once

#include "kelvin/driver/registry.hpp"

namespace kelvin::driver::backends {

Backend make_sim_backend();

}  // namespace kelvin::driver::backends
