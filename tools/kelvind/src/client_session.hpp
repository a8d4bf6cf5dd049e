// One client connection to the board server: the Attach handshake, then the relay between the
// client's socket and its leased board (a BoardLink), with frame checks, flow control toward the
// board and a cap on the bytes queued toward the client.
//
// Thread contract: every member function runs on the server's event-loop thread; the board
// link's threads only post work to it. Sessions are owned by shared_ptr (pending operations hold
// one); finish() ends a session at once and is idempotent.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include "board_link.hpp"
#include "kelvin/firmware_protocol/framing.hpp"
#include "kelvin/firmware_protocol/wire.pb.h"
#include "session_host.hpp"

namespace kelvin::tools::kelvind {

class ClientSession : public std::enable_shared_from_this<ClientSession> {
 public:
  using Socket = boost::asio::generic::stream_protocol::socket;

  ClientSession(SessionHost& host, Socket socket, std::uint64_t id, std::string peer);
  ~ClientSession();

  // Starts the attach timer and reading.
  void start();
  // Answers one Error and closes (for connections the server cannot take).
  void refuse(firmware_protocol::wire::ErrorCode code, const std::string& message);
  // Closes the connection and releases the board now.
  void finish(const std::string& why) noexcept;

 private:
  enum class State { kAwaitingAttach, kOpening, kRelaying, kClosing, kClosed };

  void read_more();
  void drain_or_finish(const boost::system::error_code& ec);
  void on_read(std::size_t n);
  void handle_payload(std::vector<std::uint8_t> payload);
  void handle_attach(const firmware_protocol::wire::Envelope& request);
  // Answers Attach.list_only with every board and its lease state; attaches nothing.
  void send_listing(std::uint64_t request_id);
  // Sends an Error, stops reading, releases the board and closes once the Error went out (or
  // after a short linger, for a client that does not read).
  void fail(firmware_protocol::wire::ErrorCode code, const std::string& message,
            std::uint64_t request_id = 0);
  void send_envelope(const firmware_protocol::wire::Envelope& envelope);
  void queue_to_client(std::vector<std::uint8_t> bytes);
  void write_next();
  void release_board() noexcept;

  void on_board_opened(const std::string& error);
  void on_board_bytes(std::vector<std::uint8_t> bytes);
  void on_board_gone(const std::string& reason);
  void on_board_drained();

  SessionHost& host_;
  Socket socket_;
  std::uint64_t id_;
  std::string peer_;  // for logs
  State state_ = State::kAwaitingAttach;
  firmware_protocol::FrameDecoder decoder_;
  std::vector<std::uint8_t> read_buffer_;
  bool reading_ = false;
  bool paused_ = false;  // reading stopped until the board's queue drains
  std::deque<std::vector<std::uint8_t>> outbound_;
  std::size_t outbound_bytes_ = 0;
  bool writing_ = false;
  std::size_t writing_buffers_ = 0;  // the first outbound_ buffers the write in flight sends
  boost::asio::steady_timer timer_;  // attach timeout, then the closing linger
  std::optional<std::uint32_t> board_;
  std::uint64_t attach_request_id_ = 0;
  std::string client_name_;
  std::unique_ptr<BoardLink> link_;
};

}  // namespace kelvin::tools::kelvind
