// The "tcp" and "unix" schemes: boards served by kelvind over a TCP or Unix-domain socket.
//   tcp:HOST:PORT?board=N&token_file=PATH     unix:/path/to/socket?board=N&token_file=PATH
// board: the server's board index (default 0). The token is the first line of token_file (a
// leading ~ is $HOME), or else the environment variable KELVIN_TOKEN (which kelvind reads too),
// or else empty. Connecting and the Attach handshake share one budget of kConnectBudget;
// Device's Hello follows over the same socket.
// find(): a named server lists every board it serves (tcp:HOST:PORT?board=N for each); a bare
// scheme lists the boards of the servers in $KELVIN_REMOTES (comma-separated tcp:/unix:
// addresses, for example "tcp:lab-pc:7817,unix:/run/kelvind.sock"); each server gets
// kFindBudget, and one that does not answer is logged and skipped.
//
// Thread contract: make_*_backend() may be called from any thread. The Backend's find() and
// connect() may run concurrently, as Registry allows: each call opens its own transport, and the
// parameter tables are built once (function-local statics) and only read afterwards.
#pragma once

#include <chrono>

#include "kelvin/driver/registry.hpp"

namespace kelvin::driver::backends {

inline constexpr std::chrono::seconds kConnectBudget{5};
inline constexpr std::chrono::seconds kFindBudget{2};
inline constexpr const char* kRemotesVariable = "KELVIN_REMOTES";

Backend make_tcp_backend();
Backend make_unix_backend();

}  // namespace kelvin::driver::backends
