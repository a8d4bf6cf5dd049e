#include "client_session.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "kelvin/common/logging.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/tools/kelvind/auth.hpp"

namespace kelvin::tools::kelvind {

namespace asio = boost::asio;
namespace wire = kelvin::firmware_protocol::wire;

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// How long a refused client gets to read its Error before the connection is cut.
constexpr std::chrono::seconds kLinger{2};

std::shared_ptr<spdlog::logger> log() {
  return common::logger("kelvin.server");
}

}  // namespace

ClientSession::ClientSession(SessionHost& host, Socket socket, std::uint64_t id, std::string peer)
    : host_(host),
      socket_(std::move(socket)),
      id_(id),
      peer_(std::move(peer)),
      decoder_(host.options().max_frame_bytes),
      read_buffer_(kReadChunk),
      timer_(socket_.get_executor()) {}

ClientSession::~ClientSession() {
  // Normally finish() ran already; otherwise (a server torn down before its loop ran) close
  // without calling back into the host's session table, which is what is destroying us.
  boost::system::error_code ignored;
  socket_.close(ignored);
  release_board();
}

void ClientSession::start() {
  timer_.expires_after(host_.options().attach_timeout);
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->state_ != State::kAwaitingAttach)
      return;
    log()->warn("client {} ({}): no Attach within {} ms; closing", self->id_, self->peer_,
                self->host_.options().attach_timeout.count());
    self->fail(wire::ERROR_CODE_UNEXPECTED_MESSAGE, "no Attach before the server's timeout");
  });
  read_more();
}

void ClientSession::refuse(wire::ErrorCode code, const std::string& message) {
  fail(code, message);
}

void ClientSession::read_more() {
  if (reading_ || paused_ || state_ == State::kClosing || state_ == State::kClosed)
    return;
  reading_ = true;
  socket_.async_read_some(asio::buffer(read_buffer_), [self = shared_from_this()](
                                                          const boost::system::error_code& ec,
                                                          std::size_t n) {
    self->reading_ = false;
    if (self->state_ == State::kClosed)
      return;
    if (self->state_ == State::kClosing) {
      self->drain_or_finish(ec);
      return;
    }
    if (ec) {
      self->finish(ec == asio::error::eof ? "client disconnected" : "read failed: " + ec.message());
      return;
    }
    self->on_read(n);
  });
}

// After an Error reply has gone out: the write side is shut, and whatever the client still
// sends is read and dropped until it closes (or the linger timer fires), so that closing with
// unread bytes does not reset the connection before the client has read the Error.
void ClientSession::drain_or_finish(const boost::system::error_code& ec) {
  if (ec) {
    finish("closed after an error reply");
    return;
  }
  if (reading_)
    return;
  reading_ = true;
  socket_.async_read_some(
      asio::buffer(read_buffer_),
      [self = shared_from_this()](const boost::system::error_code& read_ec, std::size_t) {
        self->reading_ = false;
        if (self->state_ == State::kClosing)
          self->drain_or_finish(read_ec);
      });
}

void ClientSession::on_read(std::size_t n) {
  decoder_.feed(std::span<const std::uint8_t>(read_buffer_.data(), n));
  while (state_ != State::kClosing && state_ != State::kClosed) {
    auto decoded = decoder_.next();
    if (!decoded)
      break;
    if (decoded->error) {
      ++host_.counters().dropped_bad_input;
      log()->warn("client {} ({}): undecodable bytes ({}, {} bytes); disconnecting", id_, peer_,
                  firmware_protocol::to_string(*decoded->error), decoded->discarded_bytes);
      // Request id 0: the frame could not be read, so neither could its id. The client's driver
      // takes an id-0 Error as a refusal of its connection and shows this reason to its caller.
      const std::size_t limit = host_.options().max_frame_bytes;
      fail(wire::ERROR_CODE_MALFORMED_FRAME,
           *decoded->error == firmware_protocol::FrameErrorKind::kTooLarge
               ? fmt::format("frame too large: a payload of {} bytes is over kelvind's "
                             "--max-frame-bytes {}; kelvind closes the connection",
                             decoded->declared_payload_bytes, limit)
               : fmt::format("undecodable frame ({}, {} bytes discarded; kelvind's "
                             "--max-frame-bytes is {}); kelvind closes the connection",
                             firmware_protocol::to_string(*decoded->error),
                             decoded->discarded_bytes, limit));
      return;
    }
    handle_payload(std::move(decoded->payload));
  }
  if (state_ == State::kClosing || state_ == State::kClosed)
    return;
  // Flow control toward the board: stop reading the client while the board has a backlog;
  // BoardLink's drained callback resumes.
  if (link_ && link_->queued_bytes() > host_.queued_bytes_limit()) {
    paused_ = true;
    return;
  }
  read_more();
}

void ClientSession::handle_payload(std::vector<std::uint8_t> payload) {
  if (state_ == State::kOpening || state_ == State::kRelaying) {
    // Relayed unchanged; the frame is rebuilt from its checked payload.
    link_->send(firmware_protocol::encode_frame(payload, host_.options().max_frame_bytes));
    return;
  }
  wire::Envelope request;
  try {
    request = firmware_protocol::parse_envelope(payload);
  } catch (const firmware_protocol::MessageError& e) {
    ++host_.counters().dropped_bad_input;
    log()->warn("client {} ({}): undecodable message before Attach; disconnecting", id_, peer_);
    fail(wire::ERROR_CODE_MALFORMED_MESSAGE, e.what());
    return;
  }
  if (request.protocol_version() != firmware_protocol::kProtocolVersion) {
    ++host_.counters().dropped_bad_input;
    fail(wire::ERROR_CODE_UNSUPPORTED_VERSION,
         fmt::format("this board server speaks protocol version {} only, not {}",
                     firmware_protocol::kProtocolVersion, request.protocol_version()),
         request.request_id());
    return;
  }
  if (!request.has_attach()) {
    ++host_.counters().dropped_bad_input;
    log()->warn("client {} ({}): sent {} before Attach; disconnecting", id_, peer_,
                firmware_protocol::body_name(request));
    fail(wire::ERROR_CODE_UNEXPECTED_MESSAGE,
         fmt::format("this is a board server: send Attach before {}",
                     firmware_protocol::body_name(request)),
         request.request_id());
    return;
  }
  handle_attach(request);
}

void ClientSession::handle_attach(const wire::Envelope& request) {
  const auto& attach = request.attach();
  const auto& options = host_.options();
  client_name_ = attach.client();
  attach_request_id_ = request.request_id();
  if (!options.token.empty() && !tokens_equal(options.token, attach.token())) {
    ++host_.counters().refused_token;
    log()->warn("client {} ({}, '{}'): wrong or missing token; disconnecting", id_, peer_,
                client_name_);
    fail(wire::ERROR_CODE_UNAUTHENTICATED, "the token is missing or wrong", request.request_id());
    return;
  }
  const auto boards = options.devices.size();
  if (attach.list_only()) {
    send_listing(request.request_id());
    return;
  }
  if (attach.board() >= boards) {
    fail(wire::ERROR_CODE_NO_SUCH_BOARD,
         fmt::format("this server has {} board{} (board=0..{})", boards, boards == 1 ? "" : "s",
                     boards - 1),
         request.request_id());
    return;
  }
  if (!host_.try_lease(attach.board(), id_)) {
    ++host_.counters().refused_leased;
    log()->info("client {} ({}, '{}'): board {} is leased to another client", id_, peer_,
                client_name_, attach.board());
    fail(wire::ERROR_CODE_LEASED,
         fmt::format("board {} ({}) is leased to another client", attach.board(),
                     options.devices[attach.board()]),
         request.request_id());
    return;
  }
  board_ = attach.board();
  state_ = State::kOpening;
  timer_.cancel();
  // A fresh board transport per lease, so that every client starts from a board in its power-on
  // state whatever the previous client left programmed or running.
  const std::uint32_t board = *board_;
  const auto executor = socket_.get_executor();
  auto weak = weak_from_this();
  BoardLinkCallbacks callbacks;
  callbacks.opened = [executor, weak](const std::string& error) {
    asio::post(executor, [weak, error] {
      if (auto self = weak.lock())
        self->on_board_opened(error);
    });
  };
  callbacks.from_board = [executor, weak](std::vector<std::uint8_t> bytes) {
    asio::post(executor, [weak, bytes = std::move(bytes)]() mutable {
      if (auto self = weak.lock())
        self->on_board_bytes(std::move(bytes));
    });
  };
  callbacks.board_gone = [executor, weak](const std::string& reason) {
    asio::post(executor, [weak, reason] {
      if (auto self = weak.lock())
        self->on_board_gone(reason);
    });
  };
  callbacks.drained = [executor, weak] {
    asio::post(executor, [weak] {
      if (auto self = weak.lock())
        self->on_board_drained();
    });
  };
  SessionHost* host = &host_;
  link_ = std::make_unique<BoardLink>([host, board] { return host->connect_board(board); },
                                      std::move(callbacks));
}

void ClientSession::send_listing(std::uint64_t request_id) {
  // The session stays unattached (and its attach timer keeps running): it may attach next.
  const auto& devices = host_.options().devices;
  log()->debug("client {} ({}, '{}'): listed {} boards", id_, peer_, client_name_, devices.size());
  wire::Envelope reply;
  reply.set_protocol_version(firmware_protocol::kProtocolVersion);
  reply.set_request_id(request_id);
  auto* attached = reply.mutable_attached();
  attached->set_boards(static_cast<std::uint32_t>(devices.size()));
  for (std::uint32_t k = 0; k < devices.size(); ++k) {
    auto* entry = attached->add_listing();
    entry->set_board(k);
    entry->set_device_uri(devices[k]);
    entry->set_leased(host_.leased(k));
  }
  send_envelope(reply);
}

void ClientSession::on_board_opened(const std::string& error) {
  if (state_ != State::kOpening)
    return;
  if (!error.empty()) {
    log()->error("client {} ({}): cannot open board {}: {}", id_, peer_, *board_, error);
    fail(wire::ERROR_CODE_INTERNAL,
         fmt::format("the server cannot open board {}: {}", *board_, error), attach_request_id_);
    return;
  }
  const auto lease = host_.next_lease_id();
  ++host_.counters().leases;
  log()->info("client {} ({}, '{}'): attached to board {} ({}), lease {}", id_, peer_, client_name_,
              *board_, host_.options().devices[*board_], lease);
  wire::Envelope reply;
  reply.set_protocol_version(firmware_protocol::kProtocolVersion);
  reply.set_request_id(attach_request_id_);
  auto* attached = reply.mutable_attached();
  attached->set_board(*board_);
  attached->set_boards(static_cast<std::uint32_t>(host_.options().devices.size()));
  attached->set_device_uri(host_.options().devices[*board_]);
  attached->set_lease_id(lease);
  send_envelope(reply);
  state_ = State::kRelaying;
}

void ClientSession::on_board_bytes(std::vector<std::uint8_t> bytes) {
  if (state_ == State::kRelaying)
    queue_to_client(std::move(bytes));
}

void ClientSession::on_board_gone(const std::string& reason) {
  if (state_ != State::kRelaying && state_ != State::kOpening)
    return;
  log()->error("client {} ({}): board {} went away: {}", id_, peer_, *board_, reason);
  finish("board went away");
}

void ClientSession::on_board_drained() {
  if (!paused_)
    return;
  paused_ = false;
  read_more();
}

void ClientSession::send_envelope(const wire::Envelope& envelope) {
  queue_to_client(firmware_protocol::encode_envelope(envelope));
}

void ClientSession::queue_to_client(std::vector<std::uint8_t> bytes) {
  if (state_ == State::kClosed)
    return;
  const std::size_t limit = host_.queued_bytes_limit();
  if (outbound_bytes_ + bytes.size() > limit && state_ != State::kClosing) {
    ++host_.counters().dropped_slow;
    log()->warn(
        "client {} ({}): not reading; {} bytes already queued toward it (limit {}); "
        "disconnecting",
        id_, peer_, outbound_bytes_, limit);
    finish("client does not read");
    return;
  }
  outbound_bytes_ += bytes.size();
  outbound_.push_back(std::move(bytes));
  write_next();
}

void ClientSession::write_next() {
  if (writing_ || state_ == State::kClosed)
    return;
  if (outbound_.empty()) {
    if (state_ == State::kClosing) {
      boost::system::error_code ignored;
      socket_.shutdown(asio::socket_base::shutdown_send, ignored);
      drain_or_finish({});
    }
    return;
  }
  writing_ = true;
  // Everything queued (up to kMaxGather buffers) goes out in one gathered write: a board's
  // reply arrives here in read-sized pieces, and one system call per piece would bound a
  // stream's rate. Buffers in a deque stay put while more are queued behind them.
  constexpr std::size_t kMaxGather = 64;
  writing_buffers_ = std::min(outbound_.size(), kMaxGather);
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(writing_buffers_);
  for (std::size_t i = 0; i < writing_buffers_; ++i)
    buffers.emplace_back(asio::buffer(outbound_[i]));
  asio::async_write(socket_, buffers,
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      self->writing_ = false;
                      if (self->state_ == State::kClosed)
                        return;
                      for (std::size_t i = 0; i < self->writing_buffers_; ++i) {
                        self->outbound_bytes_ -= self->outbound_.front().size();
                        self->outbound_.pop_front();
                      }
                      if (ec) {
                        self->finish("write failed: " + ec.message());
                        return;
                      }
                      self->write_next();
                    });
}

void ClientSession::fail(wire::ErrorCode code, const std::string& message,
                         std::uint64_t request_id) {
  if (state_ == State::kClosing || state_ == State::kClosed)
    return;
  state_ = State::kClosing;
  release_board();
  wire::Envelope reply;
  reply.set_protocol_version(firmware_protocol::kProtocolVersion);
  reply.set_request_id(request_id);
  reply.mutable_error()->set_code(code);
  reply.mutable_error()->set_message(message);
  send_envelope(reply);
  timer_.expires_after(kLinger);
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (auto self = weak.lock(); self && !ec)
      self->finish("the client did not take its error reply");
  });
}

void ClientSession::release_board() noexcept {
  link_.reset();  // closes the board transport and joins the link's threads
  if (board_) {
    host_.release(*board_, id_);
    board_.reset();
  }
}

void ClientSession::finish(const std::string& why) noexcept {
  if (state_ == State::kClosed)
    return;
  const bool was_attached = board_.has_value();
  state_ = State::kClosed;
  boost::system::error_code ignored;
  timer_.cancel(ignored);
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  release_board();
  try {
    log()->debug("client {} ({}): {}{}", id_, peer_, why, was_attached ? "; board released" : "");
  } catch (...) {
    // Logging must not make finish() throw.
  }
  host_.session_ended(id_);
}

}  // namespace kelvin::tools::kelvind
