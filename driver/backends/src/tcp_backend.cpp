#include "tcp_backend.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/home_path.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/driver/remote_attach.hpp"
#include "kelvin/driver/socket_transport.hpp"

namespace kelvin::driver::backends {

using common::Deadline;
using common::Error;
using common::ErrorKind;
namespace {

[[noreturn]] void bad(const DeviceAddress& address, const std::string& why) {
  throw Error(ErrorKind::kInvalidArgument,
              fmt::format("bad device address '{}': {}", address.to_string(), why));
}

// tcp: and unix: reach the same server and take the same parameters; only the target differs.
UriParameterTable remote_table(std::string scheme, std::string target, std::string summary) {
  return UriParameterTable{
      std::move(scheme),
      std::move(target),
      std::move(summary),
      {UriParameter::unsigned_integer("board", 0, UINT32_MAX, "0",
                                      "the server's board index (kelvind --device order)"),
       UriParameter::text("token_file", std::string(kNoDefault),
                          "file whose first line is the token, ~ is $HOME (none: $KELVIN_TOKEN, "
                          "else no token)")}};
}

const UriParameterTable& tcp_table() {
  static const UriParameterTable table =
      remote_table("tcp", "HOST:PORT", "a board served by kelvind over TCP ([v6::addr]:PORT)");
  return table;
}

const UriParameterTable& unix_table() {
  static const UriParameterTable table =
      remote_table("unix", "/path/to/socket", "a board served by kelvind on a Unix-domain socket");
  return table;
}

const UriParameterTable& table_of(const DeviceAddress& address) {
  return address.scheme == "tcp" ? tcp_table() : unix_table();
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

// The token: the first line of token_file (surrounding whitespace dropped), else $KELVIN_TOKEN
// (the variable kelvind reads too).
std::string token_for(const DeviceAddress& address) {
  if (const auto given = table_of(address).get_text(address, "token_file")) {
    // A quoted URI keeps "~" from the shell, hence the expansion here (as kelvind does).
    std::string path;
    try {
      path = common::expand_home(*given, std::getenv("HOME"));
    } catch (const common::Error& e) {
      bad(address, fmt::format("token_file: {}", e.what()));
    }
    std::ifstream in(path);
    if (!in)
      bad(address, fmt::format("cannot read token_file '{}'", path));
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
  request.board = static_cast<std::uint32_t>(table_of(address).get_uint(address, "board"));
  request.token = std::move(token);
  const std::string server = address.scheme + ":" + address.target;
  const auto attached = attach_remote_board(*transport, request, server, deadline);
  common::logger("kelvin.driver")
      ->debug("{}: attached to board {} of {} ({}), lease {}", server, attached.board,
              attached.boards, attached.device_uri, attached.lease_id);
  return transport;
}

std::unique_ptr<Transport> connect_tcp(const DeviceAddress& address) {
  table_of(address).validate(address);
  const HostPort hp = parse_host_port(address);
  std::string token = token_for(address);  // a bad token_file fails before connecting
  const auto deadline = Deadline::after(kConnectBudget);
  return attach(SocketTransport::connect_tcp(hp.host, hp.port, deadline), address, std::move(token),
                deadline);
}

std::unique_ptr<Transport> connect_unix(const DeviceAddress& address) {
  table_of(address).validate(address);
  if (address.target.empty())
    bad(address, "expected unix:/path/to/socket");
  std::string token = token_for(address);
  const auto deadline = Deadline::after(kConnectBudget);
  return attach(SocketTransport::connect_unix(address.target, deadline), address, std::move(token),
                deadline);
}

void validate_server(const DeviceAddress& address) {
  table_of(address).validate(address);
  if (address.scheme == "tcp")
    parse_host_port(address);
  else if (address.target.empty())
    bad(address, "expected unix:/path/to/socket");
}

// Every board of one server, as addresses that open it (?board=N, keeping token_file). A server
// that cannot be reached or refuses is logged and lists nothing: find() reports what can be
// opened, and one dead server must not hide the others.
// A malformed address throws Error(kInvalidArgument) (validate_server).
std::vector<DeviceAddress> list_server(const DeviceAddress& server_address) {
  const std::string server = server_address.scheme + ":" + server_address.target;
  validate_server(server_address);
  try {
    std::string token = token_for(server_address);
    const auto deadline = Deadline::after(kFindBudget);
    std::unique_ptr<SocketTransport> transport;
    if (server_address.scheme == "tcp") {
      const HostPort hp = parse_host_port(server_address);
      transport = SocketTransport::connect_tcp(hp.host, hp.port, deadline);
    } else {
      transport = SocketTransport::connect_unix(server_address.target, deadline);
    }
    std::vector<DeviceAddress> found;
    for (const RemoteBoard& board : list_remote_boards(*transport, token, server, deadline)) {
      DeviceAddress address{server_address.scheme, server_address.target, {}};
      if (const auto token_file = server_address.get("token_file"))
        address.params["token_file"] = *token_file;
      address.params["board"] = std::to_string(board.board);
      found.push_back(std::move(address));
    }
    return found;
  } catch (const std::exception& e) {
    common::logger("kelvin.driver")->warn("find: {} lists no boards: {}", server, e.what());
    return {};
  }
}

// The servers named in $KELVIN_REMOTES (comma-separated tcp:/unix: addresses) of one scheme.
std::vector<DeviceAddress> configured_servers(const std::string& scheme) {
  std::vector<DeviceAddress> servers;
  const char* env = std::getenv(kRemotesVariable);
  if (env == nullptr)
    return servers;
  const std::string list(env);
  std::size_t begin = 0;
  while (begin <= list.size()) {
    const auto comma = std::min(list.find(',', begin), list.size());
    const auto first = list.find_first_not_of(" \t", begin);
    if (first < comma) {
      const auto last = list.find_last_not_of(" \t", comma - 1);
      const std::string uri = list.substr(first, last - first + 1);
      // find() asks once per scheme; each bad entry is reported once: by its own scheme's
      // call, or by the tcp call when it has no usable scheme.
      const bool reporter = scheme == "tcp";
      try {
        auto address = DeviceAddress::parse(uri);
        if (address.scheme != "tcp" && address.scheme != "unix") {
          if (reporter) {
            throw Error(ErrorKind::kInvalidArgument, "only tcp: and unix: servers can be listed");
          }
        } else if (address.scheme == scheme) {
          validate_server(address);
          servers.push_back(std::move(address));
        }
      } catch (const Error& e) {
        const bool own_scheme = uri.rfind(scheme + ":", 0) == 0;
        if (own_scheme || (reporter && uri.rfind("unix:", 0) != 0)) {
          common::logger("kelvin.driver")
              ->warn("{}: ignoring '{}': {}", kRemotesVariable, uri, e.what());
        }
      }
    }
    begin = comma + 1;
  }
  return servers;
}

// A named server (tcp:HOST:PORT) lists its boards; a bare scheme lists the boards of the
// servers configured in $KELVIN_REMOTES. With ?board=N the hint names one board: it is listed
// if the server has it.
std::vector<DeviceAddress> find_remote(const DeviceAddress& hint) {
  std::vector<DeviceAddress> found;
  const auto servers =
      hint.target.empty() ? configured_servers(hint.scheme) : std::vector<DeviceAddress>{hint};
  for (const auto& server : servers) {
    auto boards = list_server(server);
    for (auto& board : boards) {
      if (const auto wanted = hint.get("board"); wanted && board.get("board") != wanted)
        continue;
      found.push_back(std::move(board));
    }
  }
  return found;
}

}  // namespace

Backend make_tcp_backend() {
  return Backend{"tcp",
                 fmt::format("boards served by kelvind over TCP ({}; token also from "
                             "KELVIN_TOKEN)",
                             tcp_table().synopsis()),
                 find_remote,
                 connect_tcp,
                 {tcp_table()}};
}

Backend make_unix_backend() {
  return Backend{
      "unix",
      fmt::format("boards served by kelvind on a Unix-domain socket ({})", unix_table().synopsis()),
      find_remote,
      connect_unix,
      {unix_table()}};
}

}  // namespace kelvin::driver::backends
