// libFuzzer target: the board server's request handling (kelvind's logic, kelvin_tools_kelvind).
// One server with one emulated board and a token runs for the whole session on a Unix socket; each
// input arrives on a fresh client connection, either as raw bytes or (first byte odd) after a
// valid Attach, so that the relay path and the board behind it see the bytes too. Properties:
// no crash or sanitizer report, and every 64 inputs a well-behaved client can still attach and
// ping the board (a hostile client must not disturb the others).
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/ping.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/firmware_protocol/wire.pb.h"
#include "kelvin/tools/kelvind/board_server.hpp"

namespace {

constexpr const char* kToken = "fuzz-token";

struct Fixture {
  std::string path;
  std::unique_ptr<kelvin::tools::kelvind::BoardServer> server;

  Fixture() {
    path = "/tmp/kelvin-fuzz-server-" + std::to_string(::getpid()) + ".sock";
    ::unlink(path.c_str());
    kelvin::tools::kelvind::ServerOptions o;
    o.listen = "unix:" + path;
    o.devices = {"sim:resonator?cells=2&seed=3&ring=64"};
    o.token = kToken;
    o.attach_timeout = std::chrono::milliseconds(200);
    o.max_frame_bytes = 64 * 1024;
    server = std::make_unique<kelvin::tools::kelvind::BoardServer>(o);
    server->start();
    ::setenv("KELVIN_TOKEN", kToken, 1);
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

std::vector<std::uint8_t> attach_frame() {
  kelvin::firmware_protocol::wire::Envelope e;
  e.set_protocol_version(kelvin::firmware_protocol::kProtocolVersion);
  e.set_request_id(1);
  e.mutable_attach()->set_board(0);
  e.mutable_attach()->set_token(kToken);
  e.mutable_attach()->set_client("fuzz");
  return kelvin::firmware_protocol::encode_envelope(e);
}

// Sends the bytes on a new connection and reads whatever comes back for a short while.
void send_as_client(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0)
    return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0)
        break;
      sent += static_cast<std::size_t>(n);
    }
    std::uint8_t buffer[4096];
    for (int rounds = 0; rounds < 20; ++rounds) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5) <= 0)
        break;
      if (::recv(fd, buffer, sizeof buffer, 0) <= 0)
        break;
    }
  }
  ::close(fd);
}

// A well-behaved client attaches and pings; the board may still be leased to the connection
// that just closed for a moment, so this retries for up to 5 s.
void check_server_healthy(const std::string& path) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    try {
      auto device = kelvin::driver::backends::open("unix:" + path);
      (void)kelvin::driver::ping(*device, 64,
                                 kelvin::common::Deadline::after(std::chrono::seconds(2)));
      return;
    } catch (const kelvin::common::Error&) {
      if (std::chrono::steady_clock::now() >= until)
        std::abort();  // a fuzz client broke the server for everyone else
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::uint64_t inputs = 0;
  Fixture& f = fixture();
  if (size == 0)
    return 0;
  std::vector<std::uint8_t> bytes;
  if ((data[0] & 1) != 0)
    bytes = attach_frame();
  bytes.insert(bytes.end(), data + 1, data + size);
  send_as_client(f.path, bytes);
  if (++inputs % 64 == 0)
    check_server_healthy(f.path);
  return 0;
}
