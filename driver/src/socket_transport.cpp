#include "kelvin/driver/socket_transport.hpp"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "kelvin/common/deadline_wait.hpp"
#include "kelvin/common/error.hpp"

namespace kelvin::driver {

using common::Deadline;
using common::Error;
using common::ErrorKind;

namespace asio = boost::asio;
using GenericSocket = asio::generic::stream_protocol::socket;
using GenericEndpoint = asio::generic::stream_protocol::endpoint;

namespace {

// Read-ahead limit: the I/O thread stops reading from the socket while this many received bytes
// wait for read_some(), so a caller that stops reading pushes back on the peer through TCP
// instead of growing memory.
constexpr std::size_t kInboundLimit = std::size_t{4} << 20;
// Queued-but-unsent bytes above which write() waits for room (only reached when the peer stops
// reading and the caller keeps writing after timeouts).
constexpr std::size_t kOutboundLimit = std::size_t{4} << 20;

bool is_not_found(const boost::system::error_code& ec) {
  return ec == asio::error::connection_refused || ec == asio::error::host_not_found ||
         ec == asio::error::host_not_found_try_again || ec == asio::error::no_data ||
         ec == asio::error::not_found || ec == boost::system::errc::no_such_file_or_directory ||
         ec == asio::error::service_not_found;
}

}  // namespace

struct SocketTransport::Impl {
  explicit Impl(std::string what) : description(std::move(what)) {
    io_thread = std::thread([this] { io.run(); });
  }

  ~Impl() {
    shut();
    work.reset();
    try {
      if (io_thread.joinable())
        io_thread.join();
    } catch (...) {
      // join() only throws for a thread that cannot be joined; nothing left to do.
    }
  }

  // --- connecting (the caller's thread waits; the chain runs on the I/O thread) ---

  void connect(std::vector<GenericEndpoint> endpoints, Deadline deadline) {
    asio::post(io, [this, endpoints = std::move(endpoints)] { try_connect(endpoints, 0, {}); });
    wait_connected(deadline);
  }

  void try_connect(const std::vector<GenericEndpoint>& endpoints, std::size_t i,
                   boost::system::error_code last) {
    if (i == endpoints.size()) {
      finish_connect(last ? last : asio::error::host_not_found);
      return;
    }
    boost::system::error_code ignored;
    socket.close(ignored);
    socket.async_connect(endpoints[i], [this, endpoints, i](const boost::system::error_code& ec) {
      if (!ec) {
        finish_connect({});
        return;
      }
      if (ec == asio::error::operation_aborted) {
        finish_connect(ec);
        return;
      }
      try_connect(endpoints, i + 1, ec);
    });
  }

  void finish_connect(boost::system::error_code ec) {
    std::lock_guard lock(mutex);
    connect_result = ec;
    cv.notify_all();
  }

  void wait_connected(Deadline deadline) {
    std::unique_lock lock(mutex);
    if (!common::detail::wait_until(cv, lock, deadline,
                                    [&] { return connect_result.has_value(); })) {
      lock.unlock();
      shut();
      throw Error(ErrorKind::kTimeout,
                  fmt::format("could not connect to {} before the deadline", description));
    }
    const auto ec = *connect_result;
    lock.unlock();
    if (ec) {
      shut();
      throw Error(is_not_found(ec) ? ErrorKind::kNotFound : ErrorKind::kDisconnected,
                  fmt::format("cannot connect to {}: {}", description, ec.message()));
    }
    asio::post(io, [this] {
      boost::system::error_code ignored;
      if (socket.local_endpoint(ignored).protocol().family() != AF_UNIX)
        socket.set_option(asio::ip::tcp::no_delay(true), ignored);
      start_read();
    });
  }

  // --- reading: the I/O thread reads ahead into `inbound` ---

  void start_read() {  // I/O thread
    {
      std::lock_guard lock(mutex);
      if (closed || peer_gone || peer_eof || inbound_size() >= kInboundLimit) {
        reading = false;
        return;
      }
      reading = true;
    }
    socket.async_read_some(asio::buffer(read_buffer),
                           [this](const boost::system::error_code& ec, std::size_t n) {
                             {
                               std::lock_guard lock(mutex);
                               append_inbound_locked(n);
                               if (ec == asio::error::eof)
                                 peer_eof = true;  // reads end; writes may still go out
                               else if (ec)
                                 mark_gone_locked(ec);
                               cv.notify_all();
                             }
                             start_read();
                           });
  }

  std::size_t read_some(std::span<std::uint8_t> out, Deadline deadline) {
    if (out.empty())
      return 0;
    std::unique_lock lock(mutex);
    common::detail::wait_until(
        cv, lock, deadline, [&] { return closed || peer_gone || peer_eof || inbound_size() > 0; });
    if (closed)
      throw Error(ErrorKind::kDisconnected, description + " is closed");
    if (inbound_size() > 0) {
      const std::size_t n = std::min(out.size(), inbound_size());
      std::memcpy(out.data(), inbound.data() + inbound_read, n);
      inbound_read += n;
      if (inbound_read == inbound.size()) {
        inbound.clear();
        inbound_read = 0;
      }
      if (!reading && !peer_gone && !peer_eof && inbound_size() < kInboundLimit) {
        reading = true;  // read-ahead had stopped at the limit: resume it
        asio::post(io, [this] { start_read(); });
      }
      return n;
    }
    if (peer_gone)
      throw Error(ErrorKind::kDisconnected, fmt::format("{}: {}", description, gone_reason));
    if (peer_eof)
      throw Error(ErrorKind::kDisconnected,
                  fmt::format("{}: the server closed the connection", description));
    throw Error(ErrorKind::kTimeout,
                fmt::format("no bytes from {} before the deadline", description));
  }

  std::size_t inbound_size() const { return inbound.size() - inbound_read; }

  // Appends the first n bytes of read_buffer to inbound, first dropping the bytes already read
  // (a contiguous buffer: read_some() copies out with one memcpy).
  void append_inbound_locked(std::size_t n) {  // I/O thread
    if (inbound_read == inbound.size()) {
      inbound.clear();
      inbound_read = 0;
    } else if (inbound_read > 0 && inbound_read >= inbound.size() / 2) {
      inbound.erase(inbound.begin(), inbound.begin() + static_cast<std::ptrdiff_t>(inbound_read));
      inbound_read = 0;
    }
    inbound.insert(inbound.end(), read_buffer.begin(),
                   read_buffer.begin() + static_cast<std::ptrdiff_t>(n));
  }

  // --- writing: whole buffers queued, sent in order by the I/O thread ---

  void write(std::span<const std::uint8_t> bytes, Deadline deadline) {
    std::unique_lock lock(mutex);
    const auto room = [&] {
      return closed || peer_gone || queued_bytes == 0 ||
             queued_bytes + bytes.size() <= kOutboundLimit;
    };
    if (!common::detail::wait_until(cv, lock, deadline, room)) {
      throw Error(ErrorKind::kTimeout,
                  fmt::format("{} did not accept bytes before the deadline", description));
    }
    throw_if_down_locked();
    if (bytes.empty())
      return;
    outbound.emplace_back(bytes.begin(), bytes.end());
    queued_bytes += bytes.size();
    enqueued_total += bytes.size();
    const std::uint64_t target = enqueued_total;
    if (!writing) {
      writing = true;
      asio::post(io, [this] { write_next(); });
    }
    const bool sent = common::detail::wait_until(
        cv, lock, deadline, [&] { return closed || peer_gone || written_total >= target; });
    if (written_total >= target)
      return;
    throw_if_down_locked();
    (void)sent;
    throw Error(ErrorKind::kTimeout,
                fmt::format("{} did not take all bytes before the deadline (the rest stays "
                            "queued in order)",
                            description));
  }

  void write_next() {  // I/O thread
    {
      std::lock_guard lock(mutex);
      if (outbound.empty() || closed || peer_gone) {
        writing = false;
        cv.notify_all();
        return;
      }
      current_write = std::move(outbound.front());
      outbound.pop_front();
    }
    asio::async_write(socket, asio::buffer(current_write),
                      [this](const boost::system::error_code& ec, std::size_t n) {
                        {
                          std::lock_guard lock(mutex);
                          written_total += n;
                          queued_bytes -= current_write.size();
                          if (ec)
                            mark_gone_locked(ec);
                          cv.notify_all();
                        }
                        write_next();
                      });
  }

  void throw_if_down_locked() const {
    if (closed)
      throw Error(ErrorKind::kDisconnected, description + " is closed");
    if (peer_gone)
      throw Error(ErrorKind::kDisconnected, fmt::format("{}: {}", description, gone_reason));
  }

  void mark_gone_locked(const boost::system::error_code& ec) {
    if (peer_gone || closed)
      return;
    peer_gone = true;
    gone_reason = ec == asio::error::eof ? std::string("the server closed the connection")
                                         : "connection lost: " + ec.message();
  }

  // --- closing ---

  // Marks the transport closed, wakes every waiter and closes the socket on the I/O thread.
  void shut() noexcept {
    {
      std::lock_guard lock(mutex);
      if (closed)
        return;
      closed = true;
      cv.notify_all();
    }
    try {
      asio::post(io, [this] {
        boost::system::error_code ignored;
        socket.shutdown(asio::socket_base::shutdown_both, ignored);
        socket.close(ignored);
      });
    } catch (...) {
      // post() only throws on allocation failure; the socket closes with the Impl anyway.
    }
  }

  std::string description;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  GenericSocket socket{io};
  std::array<std::uint8_t, 64 * 1024> read_buffer{};  // I/O thread only
  std::vector<std::uint8_t> current_write;            // I/O thread only

  mutable std::mutex mutex;
  std::condition_variable cv;  // every state change notifies all waiters
  std::optional<boost::system::error_code> connect_result;
  bool closed = false;  // close() was called
  // A socket error: nothing more goes either way.
  bool peer_gone = false;
  // The peer shut its sending side (EOF): reads end once `inbound` is drained, but writes still
  // go out, so that a request the server refused before closing (kelvind answers an oversized
  // frame with an Error, shuts its side and drains) completes and its caller reads the Error
  // instead of a disconnect. A peer that has gone entirely resets the connection, and the write
  // fails then.
  bool peer_eof = false;
  std::string gone_reason;
  std::vector<std::uint8_t> inbound;  // received bytes; the first inbound_read are consumed
  std::size_t inbound_read = 0;
  bool reading = false;  // a read is in flight or scheduled
  std::deque<std::vector<std::uint8_t>> outbound;
  std::size_t queued_bytes = 0;  // in outbound or current_write
  std::uint64_t enqueued_total = 0;
  std::uint64_t written_total = 0;
  bool writing = false;  // write_next() chain active

  std::thread io_thread;  // last: started after every member above exists
};

std::unique_ptr<SocketTransport> SocketTransport::connect_tcp(const std::string& host,
                                                              std::uint16_t port,
                                                              Deadline deadline) {
  auto impl = std::make_unique<Impl>(fmt::format("tcp:{}:{}", host, port));
  // Resolve on the I/O thread too, so that the deadline covers a slow DNS answer.
  asio::ip::tcp::resolver resolver(impl->io);
  std::mutex mutex;
  std::condition_variable cv;
  std::optional<boost::system::error_code> resolved;
  std::vector<GenericEndpoint> endpoints;
  resolver.async_resolve(
      host, std::to_string(port),
      [&](const boost::system::error_code& ec, asio::ip::tcp::resolver::results_type results) {
        std::lock_guard lock(mutex);
        for (const auto& entry : results)
          endpoints.emplace_back(entry.endpoint());
        resolved = ec;
        cv.notify_all();
      });
  {
    std::unique_lock lock(mutex);
    if (!common::detail::wait_until(cv, lock, deadline, [&] { return resolved.has_value(); })) {
      asio::post(impl->io, [&resolver] { resolver.cancel(); });
      cv.wait(lock, [&] { return resolved.has_value(); });  // the handler refers to locals
      throw Error(ErrorKind::kTimeout,
                  fmt::format("could not resolve {} before the deadline", impl->description));
    }
    if (*resolved) {
      throw Error(ErrorKind::kNotFound,
                  fmt::format("cannot resolve host '{}': {}", host, resolved->message()));
    }
  }
  impl->connect(std::move(endpoints), deadline);
  return std::unique_ptr<SocketTransport>(new SocketTransport(std::move(impl)));
}

std::unique_ptr<SocketTransport> SocketTransport::connect_unix(const std::string& path,
                                                               Deadline deadline) {
  auto impl = std::make_unique<Impl>("unix:" + path);
  std::vector<GenericEndpoint> endpoints{
      GenericEndpoint(asio::local::stream_protocol::endpoint(path))};
  impl->connect(std::move(endpoints), deadline);
  return std::unique_ptr<SocketTransport>(new SocketTransport(std::move(impl)));
}

SocketTransport::SocketTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SocketTransport::~SocketTransport() = default;

void SocketTransport::write(std::span<const std::uint8_t> bytes, Deadline deadline) {
  impl_->write(bytes, deadline);
}

std::size_t SocketTransport::read_some(std::span<std::uint8_t> out, Deadline deadline) {
  return impl_->read_some(out, deadline);
}

void SocketTransport::close() noexcept {
  impl_->shut();
}

bool SocketTransport::is_open() const noexcept {
  std::lock_guard lock(impl_->mutex);
  return !impl_->closed && !impl_->peer_gone && !impl_->peer_eof;
}

std::string SocketTransport::describe() const {
  return impl_->description;
}

}  // namespace kelvin::driver
