// The "tcp" and "unix" schemes: boards served by kelvind over a TCP or Unix-domain socket.
//   tcp:HOST:PORT?board=N&token_file=PATH     unix:/path/to/socket?board=N&token_file=PATH
// board: the server's board index (default 0). The token is the first line of token_file, or
// else the environment variable KELVIN_TOKEN, or else empty. Connecting and the Attach
// handshake share one budget of kConnectBudget; Device's Hello follows over the same socket.
#pragma once

#include <chrono>

#include "kelvin/driver/registry.hpp"

namespace kelvin::driver::backends {

inline constexpr std::chrono::seconds kConnectBudget{5};

Backend make_tcp_backend();
Backend make_unix_backend();

}  // namespace kelvin::driver::backends
