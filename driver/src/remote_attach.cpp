#include "kelvin/driver/remote_attach.hpp"

#include <array>

#include <fmt/format.h>

#include "kelvin/driver/error.hpp"
#include "kelvin/protocol/envelope_codec.hpp"
#include "kelvin/protocol/framing.hpp"

namespace kelvin::driver {

namespace wire = kelvin::wire::v1;

namespace {

// Reads one frame. The server sends nothing after its answer until the client speaks again
// (Hello), so no byte of the board's conversation can be read here by mistake.
wire::Envelope read_one_envelope(Transport& transport, const std::string& server,
                                 Deadline deadline) {
  protocol::FrameDecoder decoder;
  std::array<std::uint8_t, 4096> buffer{};
  for (;;) {
    if (auto decoded = decoder.next()) {
      if (decoded->error) {
        throw Error(ErrorKind::kBadFrame,
                    fmt::format("{}: undecodable answer to Attach ({}); is this a kelvind board "
                                "server?",
                                server, protocol::to_string(*decoded->error)));
      }
      try {
        return protocol::parse_envelope(decoded->payload);
      } catch (const protocol::MessageError& e) {
        throw Error(ErrorKind::kBadFrame,
                    fmt::format("{}: undecodable answer to Attach: {}", server, e.what()));
      }
    }
    const std::size_t n = transport.read_some(buffer, deadline);
    decoder.feed(std::span<const std::uint8_t>(buffer.data(), n));
  }
}

}  // namespace

AttachResult attach_remote_board(Transport& transport, const AttachRequest& request,
                                 const std::string& server, Deadline deadline) {
  wire::Envelope attach;
  attach.set_protocol_version(protocol::kProtocolVersion);
  attach.set_request_id(1);
  attach.mutable_attach()->set_board(request.board);
  attach.mutable_attach()->set_token(request.token);
  attach.mutable_attach()->set_client(request.client);
  transport.write(protocol::encode_envelope(attach), deadline);

  const wire::Envelope reply = read_one_envelope(transport, server, deadline);
  if (reply.has_attached()) {
    const auto& a = reply.attached();
    return AttachResult{a.board(), a.boards(), a.device_uri(), a.lease_id()};
  }
  if (!reply.has_error()) {
    throw Error(ErrorKind::kProtocol,
                fmt::format("{} answered Attach with {}", server, protocol::body_name(reply)));
  }
  const auto& err = reply.error();
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
                              server, request.board, err.message()),
                  code);
    case wire::ERROR_CODE_NO_SUCH_BOARD:
      throw Error(ErrorKind::kNotFound,
                  fmt::format("{}: no board {} there: {}", server, request.board, err.message()),
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

}  // namespace kelvin::driver
