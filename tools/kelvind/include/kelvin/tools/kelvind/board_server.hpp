// The board server behind kelvind: serves local boards (any driver URI: sim:, usb:, even another
// server's tcp:) to remote clients over TCP or a Unix-domain socket. Each connection starts with
// Attach{board, token, client}; the server checks the token, leases the board to that connection
// exclusively until it closes, opens a fresh transport to the board, answers Attached and from
// then on relays frames unchanged (each client frame is checked by a FrameDecoder first). See
// docs/remote-boards.md.
//
// All the logic lives here, not in kelvind's main, so that tests (and a future fuzzer) drive a
// server in process.
//
// A server without a token listens only where no other machine can connect (loopback, unix:)
// unless ServerOptions::allow_remote_without_token says otherwise.
//
// Thread contract: the constructor binds and listens. Either run() serves on the calling thread
// until stop(), or start() serves on a background thread (joined by stop() and the destructor);
// not both. stop(), listening_address() and stats() may be called from any thread at any time.
// The destructor stops and never throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kelvin/driver/transport.hpp"
#include "kelvin/firmware_protocol/framing.hpp"

namespace kelvin::tools::kelvind {

struct ServerOptions {
  // Where to listen: "tcp:HOST:PORT" (port 0 picks a free port) or "unix:/path/to/socket".
  std::string listen = "tcp:127.0.0.1:0";
  // Board i is devices[i]: driver URIs, opened with the registry's backend connect().
  std::vector<std::string> devices;
  // Shared secret every Attach must carry; empty: no authentication (kelvind: --token-file,
  // else $KELVIN_TOKEN; see auth.hpp's server_token()).
  std::string token;
  // Serve a TCP address other machines can reach (0.0.0.0, ::, a LAN address, a host name not
  // resolving to loopback only) with an empty token. Default false: the constructor refuses
  // with Error (kInvalidArgument), because anyone on the network would get the boards; true
  // (kelvind --no-auth) serves and logs a warning. Loopback and unix: never need it.
  bool allow_remote_without_token = false;
  // Connections served at once; more are answered RESOURCE_EXHAUSTED and closed.
  std::size_t max_clients = 16;
  // Largest frame payload accepted from a client (bytes).
  std::size_t max_frame_bytes = firmware_protocol::kMaxFramePayload;
  // Bytes queued toward one client (not yet taken by its socket) past which that client is
  // dropped, so that a client that stops reading cannot make the server buffer without limit.
  // 0: four maximum frames.
  std::size_t max_queued_bytes = 0;
  // A connection that has not attached by then is closed.
  std::chrono::milliseconds attach_timeout{10000};
  // Stop on SIGINT and SIGTERM (kelvind's main; tests leave signals alone).
  bool stop_on_signals = false;
  // Opens board transports; default: kelvin::driver::backends::builtin_registry().connect(uri).
  std::function<std::unique_ptr<driver::Transport>(const std::string& uri)> connect;
};

struct ServerStats {
  std::uint64_t connections = 0;        // accepted, ever
  std::uint64_t active_clients = 0;     // connections open now
  std::uint64_t leases = 0;             // successful attaches, ever
  std::uint64_t refused_token = 0;      // UNAUTHENTICATED answers
  std::uint64_t refused_leased = 0;     // LEASED answers
  std::uint64_t dropped_bad_input = 0;  // clients disconnected for garbage or protocol misuse
  std::uint64_t dropped_slow = 0;       // clients disconnected for not reading
};

class BoardServer {
 public:
  // Validates the options, opens and closes each device once (so that a bad --device fails at
  // start, not at a client's first attach), checks that a server without a token is not
  // reachable from the network (see allow_remote_without_token), binds and listens. Throws Error.
  explicit BoardServer(ServerOptions options);
  ~BoardServer();
  BoardServer(const BoardServer&) = delete;
  BoardServer& operator=(const BoardServer&) = delete;

  // The address clients use, with the real port: "tcp:127.0.0.1:40123" or "unix:/path".
  std::string listening_address() const;

  void run();
  void start();
  // Stops accepting, closes every client (releasing their boards) and makes run() return.
  void stop() noexcept;

  ServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kelvin::tools::kelvind
