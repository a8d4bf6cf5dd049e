#include "tcp_backend.hpp"

#include <cstdlib>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "kelvin/common/logging.hpp"
#include "kelvin/driver/error.hpp"
#include "kelvin/driver/remote_attach.hpp"
#include "kelvin/driver/socket_transport.hpp"

namespace kelvin::driver::backends {
namespace {

const std::set<std::string> kKnownParams = {"board", "token_file"};

[[noreturn]] void bad(const DeviceAddress& address, const std::string& why) {
  throw Error(ErrorKind::kInvalidArgument,
              fmt::format("bad device address '{}': {}", address.to_string(), why));
}

// Refuses parameters this scheme does not know, so that a typo ("bord=1") is not ignored.
void check_params(const DeviceAddress& address) {
  for (const auto& [key, value] : address.params) {
    if (!kKnownParams.contains(key)) {
      bad(address,
          fmt::format("unknown parameter '{}' (known: {})", key, fmt::join(kKnownParams, ", ")));
    }
  }
  address.get_uint("board", 0, 0, UINT32_MAX);  // validates
}

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

// "HOST:PORT", with "[v6::addr]:PORT" for IPv6 literals.
HostPort parse_host_port(const DeviceAddress& address) {
  const std::string& target = address.target;
  const auto colon = target.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == target.size())
    bad(address, "expected tcp:HOST:PORT (for example tcp:127.0.0.1:7817)");
  HostPort hp;
  hp.host = target.substr(0, colon);
  if (hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']')
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  const std::string port = target.substr(colon + 1);
  unsigned long value = 0;
  try {
    std::size_t used = 0;
    value = std::stoul(port, &used);
    if (used != port.size())
      throw std::invalid_argument(port);
  } catch (const std::exception&) {
    bad(address, fmt::format("port '{}' is not a number", port));
  }
  if (value == 0 || value > 65535)
    bad(address, fmt::format("port {} is not in 1..65535", value));
  hp.port = static_cast<std::uint16_t>(value);
  return hp;
}

// The token: the first line of token_file (surrounding whitespace dropped), else $KELVIN_TOKEN.
std::string token_for(const DeviceAddress& address) {
  if (const auto path = address.get("token_file")) {
    std::ifstream in(*path);
    if (!in)
      bad(address, fmt::format("cannot read token_file '{}'", *path));
    std::string line;
    std::getline(in, line);
    const auto first = line.find_first_not_of(" \t\r\n");
    if (first == std::string::npos)
      return {};
    const auto last = line.find_last_not_of(" \t\r\n");
    return line.substr(first, last - first + 1);
  }
  const char* env = std::getenv("KELVIN_TOKEN");
  return env != nullptr ? std::string(env) : std::string();
}

std::unique_ptr<Transport> attach(std::unique_ptr<SocketTransport> transport,
                                  const DeviceAddress& address, std::string token,
                                  Deadline deadline) {
  AttachRequest request;
  request.board = static_cast<std::uint32_t>(address.get_uint("board", 0, 0, UINT32_MAX));
  request.token = std::move(token);
  const std::string server = address.scheme + ":" + address.target;
  const auto attached = attach_remote_board(*transport, request, server, deadline);
  common::logger("kelvin.driver")
      ->debug("{}: attached to board {} of {} ({}), lease {}", server, attached.board,
              attached.boards, attached.device_uri, attached.lease_id);
  return transport;
}

std::unique_ptr<Transport> connect_tcp(const DeviceAddress& address) {
  check_params(address);
  const HostPort hp = parse_host_port(address);
  std::string token = token_for(address);  // a bad token_file fails before connecting
  const auto deadline = Deadline::after(kConnectBudget);
  return attach(SocketTransport::connect_tcp(hp.host, hp.port, deadline), address, std::move(token),
                deadline);
}

std::unique_ptr<Transport> connect_unix(const DeviceAddress& address) {
  check_params(address);
  if (address.target.empty())
    bad(address, "expected unix:/path/to/socket");
  std::string token = token_for(address);
  const auto deadline = Deadline::after(kConnectBudget);
  return attach(SocketTransport::connect_unix(address.target, deadline), address, std::move(token),
                deadline);
}

// A server's boards cannot be listed without connecting, so find() returns the hint itself when
// it names a server, and nothing for a bare scheme.
std::vector<DeviceAddress> find_tcp(const DeviceAddress& hint) {
  if (hint.target.empty())
    return {};
  check_params(hint);
  parse_host_port(hint);
  return {hint};
}

std::vector<DeviceAddress> find_unix(const DeviceAddress& hint) {
  if (hint.target.empty())
    return {};
  check_params(hint);
  return {hint};
}

}  // namespace

Backend make_tcp_backend() {
  return Backend{"tcp",
                 "boards served by kelvind over TCP (tcp:HOST:PORT?board=N&token_file=PATH; "
                 "token also from KELVIN_TOKEN)",
                 find_tcp, connect_tcp};
}

Backend make_unix_backend() {
  return Backend{"unix",
                 "boards served by kelvind on a Unix-domain socket "
                 "(unix:/path/to/socket?board=N&token_file=PATH)",
                 find_unix, connect_unix};
}

}  // namespace kelvin::driver::backends
