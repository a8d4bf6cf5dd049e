// SocketTransport against a plain POSIX peer: bytes both ways, total deadlines, close() from
// another thread, a peer that goes away; and the tcp:/unix: URIs' parameter checks.
#include "kelvin/driver/socket_transport.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "driver_test_names.hpp"
#include "kelvin/driver/backends/backends.hpp"

namespace kelvin::driver {
namespace {

// A listening socket on 127.0.0.1 (any free port) whose accepted connection the test drives.
class Peer {
 public:
  Peer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listener_, 4);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~Peer() {
    if (conn_ >= 0)
      ::close(conn_);
    ::close(listener_);
  }
  std::uint16_t port() const { return port_; }
  void accept() { conn_ = ::accept(listener_, nullptr, nullptr); }
  int conn() const { return conn_; }
  void hang_up() {
    ::close(conn_);
    conn_ = -1;
  }

 private:
  int listener_ = -1;
  int conn_ = -1;
  std::uint16_t port_ = 0;
};

std::unique_ptr<SocketTransport> connect_to(Peer& peer) {
  auto transport = SocketTransport::connect_tcp("127.0.0.1", peer.port(), Deadline::after(5s));
  peer.accept();
  return transport;
}

TEST(SocketTransport, MovesBytesBothWays) {
  Peer peer;
  auto t = connect_to(peer);
  EXPECT_TRUE(t->is_open());
  EXPECT_EQ(t->describe(), "tcp:127.0.0.1:" + std::to_string(peer.port()));
  const std::vector<std::uint8_t> hello = {1, 2, 3, 4, 5};
  t->write(hello, Deadline::after(5s));
  std::array<std::uint8_t, 5> got{};
  std::size_t n = 0;
  while (n < got.size()) {
    const auto r = ::recv(peer.conn(), got.data() + n, got.size() - n, 0);
    ASSERT_GT(r, 0);
    n += static_cast<std::size_t>(r);
  }
  EXPECT_EQ(std::vector<std::uint8_t>(got.begin(), got.end()), hello);

  const std::uint8_t reply[] = {9, 8, 7};
  ASSERT_EQ(::send(peer.conn(), reply, sizeof reply, 0), 3);
  std::vector<std::uint8_t> back;
  std::array<std::uint8_t, 16> buffer{};
  while (back.size() < 3) {
    const auto m = t->read_some(buffer, Deadline::after(5s));
    back.insert(back.end(), buffer.begin(), buffer.begin() + m);
  }
  EXPECT_EQ(back, (std::vector<std::uint8_t>{9, 8, 7}));
}

TEST(SocketTransport, NothingListeningIsNotFound) {
  std::uint16_t port = 0;
  {
    Peer closed;  // a port that was free a moment ago and is closed again
    port = closed.port();
  }
  EXPECT_EQ(kind_of([&] { SocketTransport::connect_tcp("127.0.0.1", port, Deadline::after(5s)); }),
            ErrorKind::kNotFound);
  EXPECT_EQ(kind_of([] {
              SocketTransport::connect_unix("/nonexistent/kelvind.sock", Deadline::after(5s));
            }),
            ErrorKind::kNotFound);
}

TEST(SocketTransport, ReadDeadlineIsTotal) {
  Peer peer;
  auto t = connect_to(peer);
  std::array<std::uint8_t, 16> buffer{};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(kind_of([&] { t->read_some(buffer, Deadline::after(300ms)); }), ErrorKind::kTimeout);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 3s);
  // A timeout loses nothing: the stream is still usable.
  const std::uint8_t byte = 42;
  ASSERT_EQ(::send(peer.conn(), &byte, 1, 0), 1);
  EXPECT_EQ(t->read_some(buffer, Deadline::after(5s)), 1u);
  EXPECT_EQ(buffer[0], 42);
}

// Bytes for writes that must block: 16 MiB is far more than the socket buffers can take from a
// peer that never reads (a loopback TCP connection holds at most tcp_wmem's 4 MiB plus the
// peer's initial receive window), and small enough that write()'s copy of it into its queue
// takes well under a second even under ThreadSanitizer on a loaded machine (64 MiB took 3 s).
constexpr std::size_t kMoreThanTheSocketBuffers = std::size_t{16} << 20;

TEST(SocketTransport, WriteToAPeerThatNeverReadsTimesOutAtItsDeadline) {
  Peer peer;
  auto t = connect_to(peer);
  const std::vector<std::uint8_t> big(kMoreThanTheSocketBuffers, 0x55);
  // A write that ignored its deadline would block for good: the watchdog then closes the
  // transport at 30 s, so such a write fails (kDisconnected, far too late) instead of hanging.
  std::promise<void> done;
  std::thread watchdog([&, finished = done.get_future()] {
    if (finished.wait_for(30s) == std::future_status::timeout)
      t->close();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(kind_of([&] { t->write(big, Deadline::after(400ms)); }), ErrorKind::kTimeout);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  done.set_value();
  watchdog.join();
  EXPECT_GE(elapsed, 400ms);
  // The deadline plus a margin for the copy and for a loaded sanitizer build's wake-up; an
  // ignored deadline ends only at the watchdog's 30 s.
  EXPECT_LT(elapsed, 400ms + 10s);
}

TEST(SocketTransport, CloseFromAnotherThreadWakesABlockedRead) {
  Peer peer;
  auto t = connect_to(peer);
  std::thread closer([&] {
    std::this_thread::sleep_for(150ms);  // let read_some block first
    t->close();
  });
  std::array<std::uint8_t, 16> buffer{};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(kind_of([&] { t->read_some(buffer, Deadline::after(20s)); }), ErrorKind::kDisconnected);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  closer.join();
  EXPECT_FALSE(t->is_open());
  EXPECT_EQ(kind_of([&] { t->write(std::vector<std::uint8_t>{1}, Deadline::after(1s)); }),
            ErrorKind::kDisconnected);
}

TEST(SocketTransport, CloseFromAnotherThreadWakesABlockedWrite) {
  Peer peer;
  auto t = connect_to(peer);
  std::thread closer([&] {
    std::this_thread::sleep_for(150ms);
    t->close();
  });
  const std::vector<std::uint8_t> big(kMoreThanTheSocketBuffers, 0x55);
  const auto start = std::chrono::steady_clock::now();
  // Without the wake-up the write would end at its 20 s deadline with kTimeout.
  EXPECT_EQ(kind_of([&] { t->write(big, Deadline::after(20s)); }), ErrorKind::kDisconnected);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  closer.join();
}

TEST(SocketTransport, PeerHangingUpFailsABlockedReadPromptlyAfterItsLastBytes) {
  Peer peer;
  auto t = connect_to(peer);
  const std::uint8_t last[] = {1, 2};
  ASSERT_EQ(::send(peer.conn(), last, 2, 0), 2);
  std::thread hang_up([&] {
    std::this_thread::sleep_for(150ms);
    peer.hang_up();
  });
  std::array<std::uint8_t, 16> buffer{};
  std::size_t got = 0;
  while (got < 2)
    got += t->read_some(buffer, Deadline::after(5s));
  const auto start = std::chrono::steady_clock::now();
  try {
    t->read_some(buffer, Deadline::after(20s));
    ADD_FAILURE() << "read after the peer hung up";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDisconnected);
    EXPECT_NE(std::string(e.what()).find("closed the connection"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  hang_up.join();
  EXPECT_FALSE(t->is_open());
}

TEST(SocketTransport, ConnectsToAUnixSocket) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("kelvin-transport-" + std::to_string(::getpid()) + ".sock");
  std::filesystem::remove(path);
  const int listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::listen(listener, 1);
  auto t = SocketTransport::connect_unix(path.string(), Deadline::after(5s));
  const int conn = ::accept(listener, nullptr, nullptr);
  const std::uint8_t byte = 7;
  ASSERT_EQ(::send(conn, &byte, 1, 0), 1);
  std::array<std::uint8_t, 4> buffer{};
  EXPECT_EQ(t->read_some(buffer, Deadline::after(5s)), 1u);
  EXPECT_EQ(buffer[0], 7);
  EXPECT_EQ(t->describe(), "unix:" + path.string());
  ::close(conn);
  ::close(listener);
  std::filesystem::remove(path);
}

TEST(SocketTransport, DestructorWithCallsBlockedOnOtherThreadsDoesNotHang) {
  Peer peer;
  auto t = connect_to(peer);
  std::thread reader([&] {
    std::array<std::uint8_t, 16> buffer{};
    EXPECT_EQ(kind_of([&] { t->read_some(buffer, Deadline::after(20s)); }),
              ErrorKind::kDisconnected);
  });
  std::this_thread::sleep_for(100ms);
  t->close();
  reader.join();
  t.reset();
}

TEST(RemoteUris, RefuseUnknownParametersNamingTheKnownOnes) {
  try {
    backends::open("tcp:127.0.0.1:1?bord=1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("board, token_file"), std::string::npos) << e.what();
  }
  EXPECT_EQ(kind_of([] { backends::open("unix:/tmp/x.sock?tokenfile=a"); }),
            ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { backends::open("tcp:127.0.0.1"); }), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { backends::open("tcp:127.0.0.1:99999"); }), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { backends::open("tcp:127.0.0.1:1?board=x"); }),
            ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { backends::open("tcp:127.0.0.1:1?token_file=/nonexistent/token"); }),
            ErrorKind::kInvalidArgument);
}

// Listing a server's boards needs the server (tests/server has the live cases): without one,
// find() lists nothing for a bare scheme or a dead server, promptly, and refuses a malformed
// address as open() would.
TEST(RemoteUris, FindListsNothingWithoutAServerAndRefusesMalformedAddresses) {
  ::unsetenv("KELVIN_REMOTES");
  EXPECT_TRUE(backends::find("tcp").empty());
  const auto before = std::chrono::steady_clock::now();
  EXPECT_TRUE(backends::find("tcp:127.0.0.1:1").empty());  // nothing listens on port 1
  EXPECT_TRUE(backends::find("unix:/nonexistent/kelvind.sock").empty());
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
  EXPECT_EQ(kind_of([] { (void)backends::find("tcp:127.0.0.1"); }), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { (void)backends::find("tcp:127.0.0.1:7817?bord=1"); }),
            ErrorKind::kInvalidArgument);
  // A malformed entry in KELVIN_REMOTES is skipped (and logged), not fatal.
  ::setenv("KELVIN_REMOTES", "tcp:nonsense,usb:serial=X,,tcp:127.0.0.1:1", 1);
  EXPECT_TRUE(backends::find("tcp").empty());
  EXPECT_FALSE(backends::find("").empty());  // the emulated boards are still listed
  ::unsetenv("KELVIN_REMOTES");
}

}  // namespace
}  // namespace kelvin::driver
