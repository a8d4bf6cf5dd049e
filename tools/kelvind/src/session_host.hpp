// What a client session needs from the server: options, leases, board transports, counters.
//
// Thread contract: every member runs on the server's event-loop thread, except connect_board()
// and options(), which link threads call too (they only read immutable state).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "kelvin/driver/transport.hpp"
#include "kelvin/tools/kelvind/board_server.hpp"

namespace kelvin::tools::kelvind {

struct Counters {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> leases{0};
  std::atomic<std::uint64_t> refused_token{0};
  std::atomic<std::uint64_t> refused_leased{0};
  std::atomic<std::uint64_t> dropped_bad_input{0};
  std::atomic<std::uint64_t> dropped_slow{0};
};

class SessionHost {
 public:
  virtual ~SessionHost() = default;
  virtual const ServerOptions& options() const = 0;
  virtual std::size_t queued_bytes_limit() const = 0;
  // Leases board to the session; false if another session holds it.
  virtual bool try_lease(std::uint32_t board, std::uint64_t session) = 0;
  virtual void release(std::uint32_t board, std::uint64_t session) = 0;
  virtual bool leased(std::uint32_t board) const = 0;
  virtual std::unique_ptr<driver::Transport> connect_board(std::uint32_t board) = 0;
  virtual std::uint64_t next_lease_id() = 0;
  virtual void session_ended(std::uint64_t session) = 0;
  virtual Counters& counters() = 0;
};

}  // namespace kelvin::tools::kelvind
