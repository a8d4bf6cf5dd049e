#include "kelvin/driver/remote_attach.hpp"

#include <array>
#include <optional>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/firmware_protocol/framing.hpp"

namespace kelvin::driver {

using common::Deadline;
using common::Error;
using common::ErrorKind;

namespace wire = kelvin::firmware_protocol::wire;

namespace {

// Reads one frame. The server sends nothing after its answer until the client speaks again
// (Hello), so no byte of the board's conversation can be read here by mistake.
wire::Envelope read_one_envelope(Transport& transport, const std::string& server,
                                 Deadline deadline) {
  firmware_protocol::FrameDecoder decoder;
  std::array<std::uint8_t, 4096> buffer{};
  for (;;) {
    if (auto decoded = decoder.next()) {
      if (decoded->error) {
        throw Error(ErrorKind::kBadFrame,
                    fmt::format("{}: undecodable answer to Attach ({}); is this a kelvind board "
                                "server?",
                                server, firmware_protocol::to_string(*decoded->error)));
      }
      try {
        return firmware_protocol::parse_envelope(decoded->payload);
      } catch (const firmware_protocol::MessageError& e) {
        throw Error(ErrorKind::kBadFrame,
                    fmt::format("{}: undecodable answer to Attach: {}", server, e.what()));
      }
    }
    const std::size_t n = transport.read_some(buffer, deadline);
    decoder.feed(std::span<const std::uint8_t>(buffer.data(), n));
  }
}

// Throws the Error a server answered Attach with, mapped as attach_remote_board() documents.
[[noreturn]] void raise_attach_error(const wire::Error& err, const wire::Attach& body,
                                     const std::string& server) {
  const int code = static_cast<int>(err.code());
  switch (err.code()) {
    case wire::ERROR_CODE_UNAUTHENTICATED:
      throw Error(ErrorKind::kPermissionDenied,
                  fmt::format("{}: the server refused the token; set KELVIN_TOKEN or "
                              "?token_file=PATH to the server's token",
                              server),
                  code);
    case wire::ERROR_CODE_LEASED:
      throw Error(ErrorKind::kDevice,
                  fmt::format("{}: board {} is busy: leased to another client ({}); try again "
                              "when it disconnects, or use another board=N",
                              server, body.board(), err.message()),
                  code);
    case wire::ERROR_CODE_NO_SUCH_BOARD:
      throw Error(ErrorKind::kNotFound,
                  fmt::format("{}: no board {} there: {}", server, body.board(), err.message()),
                  code);
    case wire::ERROR_CODE_UNEXPECTED_MESSAGE:
      throw Error(ErrorKind::kProtocol,
                  fmt::format("{} does not speak the board server's Attach (is it a board "
                              "itself?): {}",
                              server, err.message()),
                  code);
    default:
      throw Error(ErrorKind::kDevice,
                  fmt::format("{} refused Attach: {} ({})", server, err.message(),
                              wire::ErrorCode_Name(err.code())),
                  code);
  }
}

// Sends one Attach and returns the server's Attached, or throws the error it answered with.
wire::Attached exchange_attach(Transport& transport, const wire::Attach& body,
                               const std::string& server, Deadline deadline) {
  wire::Envelope attach;
  attach.set_protocol_version(firmware_protocol::kProtocolVersion);
  attach.set_request_id(1);
  *attach.mutable_attach() = body;
  try {
    transport.write(firmware_protocol::encode_envelope(attach), deadline);
  } catch (const Error& e) {
    // A server that refuses a connection outright (too many clients) sends its Error and shuts
    // its side without waiting for our Attach, so the write can find the connection gone while
    // that Error sits read ahead. It says why; only without it is the write's failure the answer.
    if (e.kind() != ErrorKind::kDisconnected)
      throw;
    std::optional<wire::Envelope> early;
    try {
      early = read_one_envelope(transport, server, deadline);
    } catch (const Error&) {
      throw e;
    }
    if (!early->has_error())
      throw;
    raise_attach_error(early->error(), body, server);
  }

  const wire::Envelope reply = read_one_envelope(transport, server, deadline);
  if (reply.has_attached())
    return reply.attached();
  if (!reply.has_error()) {
    throw Error(ErrorKind::kProtocol, fmt::format("{} answered Attach with {}", server,
                                                  firmware_protocol::body_name(reply)));
  }
  raise_attach_error(reply.error(), body, server);
}

}  // namespace

AttachResult attach_remote_board(Transport& transport, const AttachRequest& request,
                                 const std::string& server, Deadline deadline) {
  wire::Attach body;
  body.set_board(request.board);
  body.set_token(request.token);
  body.set_client(request.client);
  const wire::Attached a = exchange_attach(transport, body, server, deadline);
  return AttachResult{a.board(), a.boards(), a.device_uri(), a.lease_id()};
}

std::vector<RemoteBoard> list_remote_boards(Transport& transport, const std::string& token,
                                            const std::string& server, Deadline deadline) {
  wire::Attach body;
  body.set_token(token);
  body.set_client("kelvin find");
  body.set_list_only(true);
  const wire::Attached a = exchange_attach(transport, body, server, deadline);
  if (static_cast<std::size_t>(a.listing_size()) != a.boards()) {
    throw Error(ErrorKind::kProtocol, fmt::format("{} listed {} boards but says it serves {}",
                                                  server, a.listing_size(), a.boards()));
  }
  std::vector<RemoteBoard> boards;
  for (const auto& entry : a.listing())
    boards.push_back(RemoteBoard{entry.board(), entry.device_uri(), entry.leased()});
  return boards;
}

}  // namespace kelvin::driver
