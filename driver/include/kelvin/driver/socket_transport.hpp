// A byte pipe over a TCP or Unix-domain stream socket, for boards served by kelvind. Boost.Asio
// does the I/O on one private thread per transport; it stays out of this header (pimpl) because
// it is expensive to compile.
//
// Received bytes are read ahead into a bounded buffer (so a read_some() that times out loses
// nothing and leaves the stream intact); write() queues whole buffers, so a write() that times
// out never leaves half a frame on the wire: its bytes go out once the peer reads again.
//
// Thread contract: as for Transport: one thread may write() while another calls read_some();
// close() may be called from any thread at any time and wakes every blocked write() and
// read_some() with Error(kDisconnected). A peer that closes or resets the connection fails
// blocked and later calls with Error(kDisconnected) as soon as the socket reports it (bytes it
// sent before are still delivered). The destructor closes, joins the I/O thread and never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "kelvin/common/deadline.hpp"
#include "kelvin/driver/transport.hpp"

namespace kelvin::driver {

class SocketTransport final : public Transport {
 public:
  // Resolves host and connects (TCP_NODELAY on), all within the deadline. Throws
  // Error(kNotFound) when nothing listens there (connection refused, unknown host),
  // Error(kTimeout) or Error(kDisconnected) for other socket failures. One exception to the
  // total deadline: the system resolver (getaddrinfo) cannot be interrupted, so a host name
  // whose DNS lookup hangs returns kTimeout only when the lookup ends; numeric addresses and
  // /etc/hosts names never wait.
  static std::unique_ptr<SocketTransport> connect_tcp(const std::string& host, std::uint16_t port,
                                                      common::Deadline deadline);
  // Connects to a Unix-domain stream socket. Throws as connect_tcp (kNotFound: no such socket).
  static std::unique_ptr<SocketTransport> connect_unix(const std::string& path,
                                                       common::Deadline deadline);

  ~SocketTransport() override;
  SocketTransport(const SocketTransport&) = delete;
  SocketTransport& operator=(const SocketTransport&) = delete;

  void write(std::span<const std::uint8_t> bytes, common::Deadline deadline) override;
  std::size_t read_some(std::span<std::uint8_t> out, common::Deadline deadline) override;
  void close() noexcept override;
  bool is_open() const noexcept override;
  std::string describe() const override;

 private:
  struct Impl;
  explicit SocketTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kelvin::driver
