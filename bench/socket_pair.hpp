// Connected socket pairs (a Unix socketpair, a loopback TCP connection) and blocking
// send/receive-all helpers, for the raw socket baselines of the link benchmarks.
//
// Thread contract: free functions; a SocketPair's two ends may be used by two threads (one
// each). The SocketPair closes both ends when destroyed.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <stdexcept>

namespace kelvin::bench {

struct SocketPair {
  int writer = -1;
  int reader = -1;
  SocketPair(int w, int r) : writer(w), reader(r) {}
  SocketPair(SocketPair&& other) noexcept : writer(other.writer), reader(other.reader) {
    other.writer = other.reader = -1;
  }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;
  SocketPair& operator=(SocketPair&&) = delete;
  ~SocketPair() {
    if (writer >= 0)
      ::close(writer);
    if (reader >= 0)
      ::close(reader);
  }
};

inline SocketPair unix_socket_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
    throw std::runtime_error("socketpair failed");
  return SocketPair(fds[0], fds[1]);
}

// A TCP connection over 127.0.0.1 (TCP_NODELAY on both ends, as SocketTransport sets it).
inline SocketPair loopback_tcp_pair() {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("loopback listen failed");
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  if (client < 0 || ::connect(client, reinterpret_cast<sockaddr*>(&addr), len) != 0)
    throw std::runtime_error("loopback connect failed");
  const int server = ::accept(listener, nullptr, nullptr);
  ::close(listener);
  if (server < 0)
    throw std::runtime_error("loopback accept failed");
  const int one = 1;
  ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return SocketPair(server, client);
}

inline bool send_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t sent = ::send(fd, data, n, MSG_NOSIGNAL);
    if (sent <= 0)
      return false;
    data += sent;
    n -= static_cast<std::size_t>(sent);
  }
  return true;
}

inline bool recv_all(int fd, char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t got = ::recv(fd, data, n, 0);
    if (got <= 0)
      return false;
    data += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

}  // namespace kelvin::bench
