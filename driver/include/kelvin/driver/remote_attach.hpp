// The client side of a board server's session handshake (since protocol v5): the first frame on a
// connection to kelvind is Attach{board, token, client}; the server answers Attached (the board
// is leased to this connection until it closes) or Error. From then on the connection is a plain
// byte pipe to the board, and Device performs its Hello through it as with any transport.
// Attach with list_only (v6) lists the server's boards instead (`kelvin find`).
//
// Thread contract: attach_remote_board() uses the transport from the calling thread only and
// must finish before anyone else uses the transport; close() from another thread wakes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kelvin/common/deadline.hpp"
#include "kelvin/driver/transport.hpp"

namespace kelvin::driver {

struct AttachRequest {
  std::uint32_t board = 0;  // index among the server's boards, from 0
  std::string token;        // the server's shared secret; empty when it requires none
  std::string client = "kelvin";
};

struct AttachResult {
  std::uint32_t board = 0;
  std::uint32_t boards = 0;  // how many boards the server serves
  std::string device_uri;    // the board's address on the server
  std::uint64_t lease_id = 0;
};

// Sends Attach and waits for the answer within the deadline. `server` names the server in
// errors ("tcp:host:port"). Throws Error: kPermissionDenied (the token was refused), kDevice with
// device_code LEASED (another client holds the board), kNotFound (no such board; the message
// says how many the server has), kTimeout, kDisconnected, kBadFrame or kProtocol.
AttachResult attach_remote_board(Transport& transport, const AttachRequest& request,
                                 const std::string& server, common::Deadline deadline);

// One board of a server's listing (Attach.list_only, since protocol v6).
struct RemoteBoard {
  std::uint32_t board = 0;  // index for ?board=N
  std::string device_uri;   // its address on the server
  bool leased = false;      // leased to a client when listed
};

// Asks the server for its boards without attaching (nothing is leased). Same errors as
// attach_remote_board() (kPermissionDenied for a refused token).
std::vector<RemoteBoard> list_remote_boards(Transport& transport, const std::string& token,
                                            const std::string& server, common::Deadline deadline);

}  // namespace kelvin::driver
