// A deliberately misbehaving client for the board server tests: a plain blocking POSIX socket
// that can send garbage, frames out of order or nothing at all, and read the server's frames.
//
// Thread contract: one thread per RawClient.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/firmware_protocol/framing.hpp"

namespace kelvin::tools::kelvind::testing {

// The port of "tcp:127.0.0.1:PORT".
inline std::uint16_t port_of(const std::string& address) {
  return static_cast<std::uint16_t>(std::stoul(address.substr(address.rfind(':') + 1)));
}

class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      ADD_FAILURE() << "cannot connect to 127.0.0.1:" << port;
    // Sends give up after a while instead of blocking a test forever.
    timeval tv{0, 200 * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Sends all bytes; false once the server has cut the connection (or a send timed out).
  bool send(std::span<const std::uint8_t> bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const auto n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  bool send_envelope(firmware_protocol::wire::Envelope envelope) {
    envelope.set_protocol_version(firmware_protocol::kProtocolVersion);
    return send(firmware_protocol::encode_envelope(envelope));
  }

  // The next frame from the server, or nullopt on EOF, error or after `budget`.
  std::optional<firmware_protocol::wire::Envelope> read_envelope(
      std::chrono::milliseconds budget = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + budget;
    for (;;) {
      if (auto decoded = decoder_.next()) {
        if (decoded->error)
          return std::nullopt;
        return firmware_protocol::parse_envelope(decoded->payload);
      }
      if (!wait_readable(deadline))
        return std::nullopt;
      std::uint8_t buffer[4096];
      const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0)
        return std::nullopt;
      decoder_.feed(std::span<const std::uint8_t>(buffer, static_cast<std::size_t>(n)));
    }
  }

  // True if the server closes the connection within the budget (bytes before EOF are skipped).
  bool closed_by_server(std::chrono::milliseconds budget = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + budget;
    for (;;) {
      if (!wait_readable(deadline))
        return false;
      std::uint8_t buffer[4096];
      const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0)
        return true;
    }
  }

  // Attach (and Attached) without the driver.
  std::optional<firmware_protocol::wire::Envelope> attach(std::uint32_t board,
                                                          const std::string& token = {}) {
    firmware_protocol::wire::Envelope attach;
    attach.set_request_id(1);
    attach.mutable_attach()->set_board(board);
    attach.mutable_attach()->set_token(token);
    attach.mutable_attach()->set_client("raw test client");
    if (!send_envelope(attach))
      return std::nullopt;
    return read_envelope();
  }

 private:
  bool wait_readable(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return false;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
  }

  int fd_ = -1;
  firmware_protocol::FrameDecoder decoder_;
};

}  // namespace kelvin::tools::kelvind::testing

namespace kelvin::tools::kelvind {

using testing::port_of;
using testing::RawClient;

}  // namespace kelvin::tools::kelvind
