#include "kelvin/tools/kelvind/board_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include "client_session.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "session_host.hpp"

namespace kelvin::tools::kelvind {

using common::Error;
using common::ErrorKind;

namespace asio = boost::asio;
namespace wire = kelvin::firmware_protocol::wire;
using common::Error;
using common::ErrorKind;
using GenericEndpoint = asio::generic::stream_protocol::endpoint;
using Acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;

namespace {

std::shared_ptr<spdlog::logger> log() {
  return common::logger("kelvin.server");
}

[[noreturn]] void bad_listen(const std::string& listen, const std::string& why) {
  throw Error(ErrorKind::kInvalidArgument,
              fmt::format("bad listen address '{}': {} (expected tcp:HOST:PORT or unix:/path)",
                          listen, why));
}

// "1.2.3.4:5678" for IP endpoints, "unix socket" otherwise (for logs).
std::string describe_peer(const GenericEndpoint& endpoint) {
  const auto* addr = endpoint.data();
  char text[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return fmt::format("{}:{}", text, ntohs(in->sin_port));
  }
  if (addr->sa_family == AF_INET6) {
    const auto* in = reinterpret_cast<const sockaddr_in6*>(addr);
    ::inet_ntop(AF_INET6, &in->sin6_addr, text, sizeof text);
    return fmt::format("[{}]:{}", text, ntohs(in->sin6_port));
  }
  return "unix socket";
}

// 127.0.0.0/8 and ::1, also written as an IPv4-mapped IPv6 address (::ffff:127.0.0.1).
bool is_loopback(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback();
  return address.is_loopback();
}

std::uint16_t port_of(const GenericEndpoint& endpoint) {
  const auto* addr = endpoint.data();
  if (addr->sa_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(addr)->sin_port);
  if (addr->sa_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_port);
  return 0;
}

// A socket file left behind by a server that died is removed; a live server's is not.
void remove_stale_socket(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return;
  if (!S_ISSOCK(st.st_mode)) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("cannot listen at unix:{}: the file exists and is not a socket", path));
  }
  asio::io_context io;
  asio::local::stream_protocol::socket probe(io);
  boost::system::error_code ec;
  probe.connect(asio::local::stream_protocol::endpoint(path), ec);
  if (!ec) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("cannot listen at unix:{}: another server is listening there", path));
  }
  ::unlink(path.c_str());
}

}  // namespace

struct BoardServer::Impl final : SessionHost {
  explicit Impl(ServerOptions opts) : options_(std::move(opts)) {
    validate_options();
    leases_.assign(options_.devices.size(), std::nullopt);
    check_devices();
    listen();
    if (options_.stop_on_signals) {
      signals_.add(SIGINT);
      signals_.add(SIGTERM);
      signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
        if (ec)
          return;
        log()->info("signal {}: shutting down", signal);
        do_stop();
      });
    }
    accept_next();
  }

  ~Impl() override {
    // The loop is not running any more (or never ran): end what is left directly.
    do_stop();
    if (!unix_path_.empty())
      ::unlink(unix_path_.c_str());
  }

  void validate_options() {
    if (options_.devices.empty()) {
      throw Error(ErrorKind::kInvalidArgument,
                  "a board server needs at least one device (--device URI)");
    }
    if (options_.max_clients == 0)
      throw Error(ErrorKind::kInvalidArgument, "max_clients must be at least 1");
    if (options_.max_frame_bytes < 64 ||
        options_.max_frame_bytes > firmware_protocol::kMaxFramePayload) {
      throw Error(ErrorKind::kInvalidArgument, fmt::format("max_frame_bytes must be in 64..{}",
                                                           firmware_protocol::kMaxFramePayload));
    }
    if (!options_.connect) {
      options_.connect = [](const std::string& uri) {
        return driver::backends::builtin_registry().connect(uri);
      };
    }
    // Board replies may be as large as any board sends, whatever limit clients get.
    queued_limit_ =
        options_.max_queued_bytes != 0
            ? options_.max_queued_bytes
            : 4 * (firmware_protocol::kMaxFramePayload + firmware_protocol::kFrameOverheadBytes);
  }

  // Eagerly opens and closes every board once so that a mistyped --device fails at start with
  // its reason; the boards themselves are opened afresh for each lease (see ClientSession).
  void check_devices() {
    for (std::size_t i = 0; i < options_.devices.size(); ++i) {
      try {
        auto transport = options_.connect(options_.devices[i]);
        transport->close();
      } catch (const Error& e) {
        throw Error(e.kind(), fmt::format("device {} ({}): {}", i, options_.devices[i], e.what()));
      }
    }
  }

  void listen() {
    const std::string& listen = options_.listen;
    const auto colon = listen.find(':');
    if (colon == std::string::npos)
      bad_listen(listen, "no scheme");
    const std::string scheme = listen.substr(0, colon);
    const std::string target = listen.substr(colon + 1);
    GenericEndpoint endpoint;
    if (scheme == "tcp") {
      const auto port_colon = target.rfind(':');
      if (port_colon == std::string::npos)
        bad_listen(listen, "no port");
      host_ = target.substr(0, port_colon);
      if (host_.size() >= 2 && host_.front() == '[' && host_.back() == ']')
        host_ = host_.substr(1, host_.size() - 2);
      unsigned long port = 0;
      try {
        std::size_t used = 0;
        port = std::stoul(target.substr(port_colon + 1), &used);
        if (used != target.size() - port_colon - 1 || port > 65535)
          throw std::out_of_range("port");
      } catch (const std::exception&) {
        bad_listen(listen, "the port must be a number in 0..65535");
      }
      boost::system::error_code ec;
      asio::ip::tcp::resolver resolver(io_);
      const auto results = resolver.resolve(host_, std::to_string(port), ec);
      if (ec || results.empty())
        bad_listen(listen, fmt::format("cannot resolve '{}': {}", host_, ec.message()));
      // Every address the name stands for is judged, not only the one bound: a name that
      // also resolves to a LAN address is not a safe promise of "this machine only".
      for (const auto& result : results) {
        if (!is_loopback(result.endpoint().address())) {
          check_network_exposure(result.endpoint().address().to_string());
          break;
        }
      }
      endpoint = GenericEndpoint(results.begin()->endpoint());
    } else if (scheme == "unix") {
      if (target.empty())
        bad_listen(listen, "no path");
      remove_stale_socket(target);
      endpoint = GenericEndpoint(asio::local::stream_protocol::endpoint(target));
    } else {
      bad_listen(listen, fmt::format("unknown scheme '{}'", scheme));
    }
    boost::system::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec && scheme == "tcp")
      acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
      acceptor_.bind(endpoint, ec);
    if (!ec)
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("cannot listen at {}: {}", listen, ec.message()));
    }
    if (scheme == "unix") {
      unix_path_ = target;
      address_ = "unix:" + target;
    } else {
      const auto port = port_of(acceptor_.local_endpoint());
      address_ = host_.find(':') != std::string::npos ? fmt::format("tcp:[{}]:{}", host_, port)
                                                      : fmt::format("tcp:{}:{}", host_, port);
    }
    log()->info("listening at {} with {} board(s), {}", address_, options_.devices.size(),
                options_.token.empty() ? "no token required" : "clients must send the token");
  }

  // A server without a token on an address other machines reach hands the boards to anyone on
  // the network: refused unless asked for explicitly, and then said loudly.
  void check_network_exposure(const std::string& exposed) const {
    if (!options_.token.empty())
      return;
    const std::string where =
        exposed == host_
            ? fmt::format("{} is not a loopback address", host_)
            : fmt::format("'{}' resolves to {}, which is not loopback", host_, exposed);
    if (!options_.allow_remote_without_token) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("refusing to listen at {} without a token: {}, so anyone who can "
                              "reach it could use the boards. Set KELVIN_TOKEN or pass "
                              "--token-file FILE, listen on 127.0.0.1 or a unix: socket, or pass "
                              "--no-auth to serve without authentication on purpose",
                              options_.listen, where));
    }
    log()->warn(
        "serving {} WITHOUT authentication (--no-auth): {}, so anyone who can reach it "
        "can use the boards",
        options_.listen, where);
  }

  void accept_next() {
    acceptor_.async_accept(
        [this](const boost::system::error_code& ec, ClientSession::Socket socket) {
          if (stopping_)
            return;
          if (ec) {
            if (ec != asio::error::operation_aborted) {
              log()->warn("accept failed: {}", ec.message());
              accept_next();
            }
            return;
          }
          on_accept(std::move(socket));
          accept_next();
        });
  }

  void on_accept(ClientSession::Socket socket) {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    const std::string peer = ec ? std::string("unknown peer") : describe_peer(remote);
    if (remote.data()->sa_family != AF_UNIX)
      socket.set_option(asio::ip::tcp::no_delay(true), ec);
    const std::uint64_t id = ++next_session_;
    ++counters_.connections;
    auto session = std::make_shared<ClientSession>(*this, std::move(socket), id, peer);
    sessions_.emplace(id, session);
    active_ = sessions_.size();
    if (sessions_.size() > options_.max_clients) {
      log()->warn("client {} ({}): refused, {} clients already", id, peer, options_.max_clients);
      session->refuse(
          wire::ERROR_CODE_RESOURCE_EXHAUSTED,
          fmt::format("the board server serves at most {} clients at once", options_.max_clients));
      return;
    }
    log()->debug("client {} ({}) connected", id, peer);
    session->start();
  }

  void do_stop() noexcept {
    stopping_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    signals_.cancel(ignored);
    auto sessions = sessions_;  // finish() removes itself from sessions_
    for (auto& [id, session] : sessions)
      session->finish("server shutting down");
    sessions_.clear();
    active_ = 0;
  }

  // --- SessionHost ---
  const ServerOptions& options() const override { return options_; }
  std::size_t queued_bytes_limit() const override { return queued_limit_; }
  bool try_lease(std::uint32_t board, std::uint64_t session) override {
    if (leases_.at(board))
      return false;
    leases_[board] = session;
    return true;
  }
  bool leased(std::uint32_t board) const override { return leases_.at(board).has_value(); }
  void release(std::uint32_t board, std::uint64_t session) override {
    if (board < leases_.size() && leases_[board] == session)
      leases_[board].reset();
  }
  std::unique_ptr<driver::Transport> connect_board(std::uint32_t board) override {
    return options_.connect(options_.devices.at(board));
  }
  std::uint64_t next_lease_id() override { return ++next_lease_; }
  void session_ended(std::uint64_t session) override {
    sessions_.erase(session);
    active_ = sessions_.size();
  }
  Counters& counters() override { return counters_; }

  ServerOptions options_;
  std::size_t queued_limit_ = 0;
  asio::io_context io_;
  Acceptor acceptor_{io_};
  asio::signal_set signals_{io_};
  std::string host_;
  std::string address_;
  std::string unix_path_;
  bool stopping_ = false;
  // Event-loop thread only:
  std::map<std::uint64_t, std::shared_ptr<ClientSession>> sessions_;
  std::vector<std::optional<std::uint64_t>> leases_;  // board -> session holding it
  std::uint64_t next_session_ = 0;
  std::uint64_t next_lease_ = 0;
  // Any thread:
  Counters counters_;
  std::atomic<std::uint64_t> active_{0};
  std::mutex thread_mutex_;
  std::thread thread_;  // start()'s
};

BoardServer::BoardServer(ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

BoardServer::~BoardServer() {
  stop();
  std::lock_guard lock(impl_->thread_mutex_);
  if (impl_->thread_.joinable()) {
    try {
      impl_->thread_.join();
    } catch (...) {
      // Only throws for a thread that cannot be joined.
    }
  }
}

std::string BoardServer::listening_address() const {
  return impl_->address_;
}

void BoardServer::run() {
  impl_->io_.run();
}

void BoardServer::start() {
  std::lock_guard lock(impl_->thread_mutex_);
  if (impl_->thread_.joinable())
    throw Error(ErrorKind::kInvalidArgument, "the board server is already running");
  impl_->thread_ = std::thread([impl = impl_.get()] { impl->io_.run(); });
}

void BoardServer::stop() noexcept {
  try {
    asio::post(impl_->io_, [impl = impl_.get()] { impl->do_stop(); });
  } catch (...) {
    // post() throws only on allocation failure; the destructor still ends every session.
  }
}

ServerStats BoardServer::stats() const {
  const auto& c = impl_->counters_;
  ServerStats s;
  s.connections = c.connections;
  s.active_clients = impl_->active_;
  s.leases = c.leases;
  s.refused_token = c.refused_token;
  s.refused_leased = c.refused_leased;
  s.dropped_bad_input = c.dropped_bad_input;
  s.dropped_slow = c.dropped_slow;
  return s;
}

}  // namespace kelvin::tools::kelvind
