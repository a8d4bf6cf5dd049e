// The board server's leases and limits: a leased board is refused to a second client while
// another board works and is fresh again once released; a missing board is named; a listing
// names every board and its lease without leasing any; clients past the limit are refused with
// the reason, even when the refusal arrives before their Attach is written.
#include "kelvin/tools/kelvind/board_server.hpp"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "board_server_fixture.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/remote_attach.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/driver/socket_transport.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "raw_client.hpp"

namespace kelvin::tools::kelvind {
namespace {

namespace wire = kelvin::firmware_protocol::wire;

TEST(BoardServer, SecondClientOnALeasedBoardIsRefusedWhileAnotherBoardWorks) {
  BoardServer server(two_boards());
  server.start();
  const auto address = server.listening_address();
  auto holder = std::make_unique<ResonatorBoard>(driver::backends::open(address));

  try {
    driver::backends::open(address + "?board=0");
    FAIL() << "a leased board opened twice";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDevice);
    EXPECT_EQ(e.device_code(), wire::ERROR_CODE_LEASED);
    EXPECT_NE(std::string(e.what()).find("leased to another client"), std::string::npos)
        << e.what();
  }
  ResonatorBoard other(driver::backends::open(address + "?board=1"));
  expect_same(run_job(other), reference_job(kBoard1));

  // The holder leaves: the board is free again, and fresh (same results as a new board).
  run_job(*holder);
  holder.reset();
  std::unique_ptr<ResonatorBoard> next;
  ASSERT_TRUE(eventually([&] {
    try {
      next = std::make_unique<ResonatorBoard>(driver::backends::open(address));
      return true;
    } catch (const Error&) {
      return false;
    }
  }));
  expect_same(run_job(*next), reference_job(kBoard0));
}

TEST(BoardServer, NoSuchBoardIsNotFoundAndSaysHowManyThereAre) {
  BoardServer server(two_boards());
  server.start();
  const auto message =
      message_of([&] { driver::backends::open(server.listening_address() + "?board=5"); },
                 ErrorKind::kNotFound);
  EXPECT_NE(message.find("2 boards"), std::string::npos) << message;
}

// Attach.list_only: every board with its lease state, nothing leased by the listing; driver::find
// on a server address turns that into one address per board; a refused token lists nothing.
TEST(BoardServer, ListingNamesEveryBoardAndItsLeaseWithoutLeasingAny) {
  auto options = two_boards();
  options.token = "s3cret";
  BoardServer server(options);
  server.start();
  const auto address = server.listening_address();
  const auto port = static_cast<std::uint16_t>(port_of(address));
  ::setenv("KELVIN_TOKEN", "s3cret", 1);
  ResonatorBoard holder(driver::backends::open(address + "?board=1"));

  auto socket = driver::SocketTransport::connect_tcp("127.0.0.1", port, Deadline::after(5s));
  const auto boards = driver::list_remote_boards(*socket, "s3cret", address, Deadline::after(5s));
  ASSERT_EQ(boards.size(), 2u);
  EXPECT_EQ(boards[0].board, 0u);
  EXPECT_EQ(boards[0].device_uri, kBoard0);
  EXPECT_FALSE(boards[0].leased);
  EXPECT_EQ(boards[1].device_uri, kBoard1);
  EXPECT_TRUE(boards[1].leased);
  // The same session may attach after listing.
  const auto attached =
      driver::attach_remote_board(*socket, {0, "s3cret", "test"}, address, Deadline::after(5s));
  EXPECT_EQ(attached.board, 0u);
  socket->close();

  std::vector<std::string> found;
  for (const auto& a : driver::backends::find(address))  // leased boards are listed too
    found.push_back(a.to_string());
  EXPECT_EQ(found, (std::vector<std::string>{address + "?board=0", address + "?board=1"}));
  EXPECT_EQ(driver::backends::find(address + "?board=1").size(), 1u);
  ::setenv("KELVIN_REMOTES", ("unix:/nonexistent/kelvind.sock, " + address).c_str(), 1);
  EXPECT_EQ(driver::backends::find("tcp").size(), 2u);
  EXPECT_TRUE(driver::backends::find("unix").empty());  // the dead socket is skipped (and logged)
  ::unsetenv("KELVIN_REMOTES");

  ::setenv("KELVIN_TOKEN", "wrong", 1);
  EXPECT_TRUE(driver::backends::find(address).empty());
  ::unsetenv("KELVIN_TOKEN");
  EXPECT_EQ(server.stats().leases, 2u);  // the holder and the attach above; listings lease none
}

TEST(BoardServer, RefusesClientsPastItsLimit) {
  auto options = two_boards();
  options.max_clients = 1;
  BoardServer server(options);
  server.start();
  ResonatorBoard first(driver::backends::open(server.listening_address()));
  try {
    driver::backends::open(server.listening_address() + "?board=1");
    FAIL() << "a second client was served past max_clients=1";
  } catch (const Error& e) {
    EXPECT_EQ(e.device_code(), wire::ERROR_CODE_RESOURCE_EXHAUSTED) << e.what();
    EXPECT_NE(std::string(e.what()).find("at most 1 client"), std::string::npos) << e.what();
  }
}

// The server refuses a client past its limit at once, without waiting for its Attach, and shuts
// its side. A client whose Attach goes out only after that (here: after a pause) must still get
// the server's reason, not "the server closed the connection".
TEST(BoardServer, ARefusalThatArrivesBeforeTheAttachIsWrittenStillSaysWhy) {
  auto options = two_boards();
  options.max_clients = 1;
  BoardServer server(options);
  server.start();
  const auto address = server.listening_address();
  ResonatorBoard first(driver::backends::open(address));
  auto socket = driver::SocketTransport::connect_tcp(
      "127.0.0.1", static_cast<std::uint16_t>(port_of(address)), Deadline::after(5s));
  std::this_thread::sleep_for(200ms);  // the refusal and the end of the stream arrive first
  try {
    driver::attach_remote_board(*socket, {1, "", "test"}, address, Deadline::after(5s));
    FAIL() << "a second client was served past max_clients=1";
  } catch (const Error& e) {
    EXPECT_EQ(e.device_code(), wire::ERROR_CODE_RESOURCE_EXHAUSTED) << e.what();
    EXPECT_NE(std::string(e.what()).find("at most 1 client"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kelvin::tools::kelvind
