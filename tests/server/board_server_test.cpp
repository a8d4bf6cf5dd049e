// The board server in process: real jobs through tcp: and unix: match the same jobs on sim: bit
// for bit; tokens, leases and misbehaving clients are handled without disturbing others.
#include "kelvin/tools/kelvind/board_server.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/remote_attach.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/driver/resonator/sample_stream.hpp"
#include "kelvin/driver/socket_transport.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/tools/kelvind/auth.hpp"
#include "raw_client.hpp"

namespace kelvin::tools::kelvind {
namespace {

using namespace std::chrono_literals;
using common::Deadline;
using common::Error;
using common::ErrorKind;
using driver::ResonatorBoard;
using testing::port_of;
using testing::RawClient;
namespace wire = kelvin::firmware_protocol::wire;

constexpr const char* kBoard0 = "sim:resonator?cells=4&seed=7";
constexpr const char* kBoard1 = "sim:resonator?cells=4&seed=8";

ServerOptions two_boards() {
  ServerOptions options;
  options.listen = "tcp:127.0.0.1:0";
  options.devices = {kBoard0, kBoard1};
  return options;
}

// A noisy run with every raw sample recorded: any lost, reordered or altered byte shows.
struct JobOutput {
  std::vector<std::int64_t> sums;
  std::vector<std::int16_t> samples;
  std::uint64_t first_tick = 0;
};

JobOutput run_job(ResonatorBoard& board) {
  const auto deadline = Deadline::after(10s);
  driver::SymmetricCodes couplings(4);
  for (std::uint32_t i = 0; i < 4; ++i)
    couplings.set(i, i, 16384);
  couplings.set(0, 1, -3000);
  couplings.set(2, 3, 2500);
  board.program_couplings(couplings, deadline);
  const std::vector<std::int16_t> biases = {4096, -4096, 1000, 2048};
  board.program_biases(biases, deadline);
  board.set_noise(4096, deadline);
  driver::RunRequest request;
  request.samples = 400;
  request.reset_state = true;
  request.record_samples = true;
  const auto result = board.run(request, deadline);
  return {result.sums, result.samples, result.first_tick};
}

void expect_same(const JobOutput& a, const JobOutput& b) {
  EXPECT_EQ(a.sums, b.sums);
  EXPECT_EQ(a.samples, b.samples);
  EXPECT_EQ(a.first_tick, b.first_tick);
  EXPECT_EQ(a.samples.size(), 400u * 4u);
}

// The job run `repeats` times on a fresh in-process board; returns the last run (the board's
// noise stream goes on between runs, so the k-th run on a board has its own reference).
JobOutput reference_job(const char* uri, int repeats = 1) {
  ResonatorBoard local(driver::backends::open(uri));
  JobOutput out;
  for (int i = 0; i < repeats; ++i)
    out = run_job(local);
  return out;
}

// Polls `condition` every 10 ms until it holds or `budget` passes.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds budget = 8s) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition())
      return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

std::string error_message(const std::function<void()>& fn, ErrorKind expected) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), expected) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected a common::Error";
  return {};
}

TEST(BoardServer, RemoteRunMatchesTheSameRunInProcessBitForBit) {
  BoardServer server(two_boards());
  server.start();
  const auto address = server.listening_address();
  ASSERT_EQ(address.rfind("tcp:127.0.0.1:", 0), 0u) << address;
  EXPECT_NE(port_of(address), 0);

  ResonatorBoard remote(driver::backends::open(address));
  EXPECT_EQ(remote.description().serial,
            ResonatorBoard(driver::backends::open(kBoard0)).description().serial);
  expect_same(run_job(remote), reference_job(kBoard0));

  ResonatorBoard second(driver::backends::open(address + "?board=1"));
  expect_same(run_job(second), reference_job(kBoard1));
  EXPECT_EQ(server.stats().leases, 2u);
}

TEST(BoardServer, ServesAUnixSocketToo) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("kelvind-test-" + std::to_string(::getpid()) + ".sock");
  auto options = two_boards();
  options.listen = "unix:" + path.string();
  {
    BoardServer server(options);
    server.start();
    EXPECT_EQ(server.listening_address(), "unix:" + path.string());
    ResonatorBoard remote(driver::backends::open(server.listening_address()));
    expect_same(run_job(remote), reference_job(kBoard0));
  }
  EXPECT_FALSE(std::filesystem::exists(path)) << "the socket file outlived the server";
}

TEST(BoardServer, WrongTokenIsPermissionDeniedWithAClearMessage) {
  auto options = two_boards();
  options.token = "correct horse battery staple";
  BoardServer server(options);
  server.start();
  const auto dir = std::filesystem::temp_directory_path();
  const auto wrong = dir / ("kelvind-wrong-" + std::to_string(::getpid()));
  const auto right = dir / ("kelvind-right-" + std::to_string(::getpid()));
  std::ofstream(wrong) << "tr0ub4dor\n";
  std::ofstream(right) << "  correct horse battery staple\n";
  ::unsetenv("KELVIN_TOKEN");

  const auto message = error_message(
      [&] { driver::backends::open(server.listening_address() + "?token_file=" + wrong.string()); },
      ErrorKind::kPermissionDenied);
  EXPECT_NE(message.find("refused the token"), std::string::npos) << message;
  EXPECT_NE(message.find("KELVIN_TOKEN"), std::string::npos) << message;
  error_message([&] { driver::backends::open(server.listening_address()); },
                ErrorKind::kPermissionDenied);

  ResonatorBoard ok(
      driver::backends::open(server.listening_address() + "?token_file=" + right.string()));
  ::setenv("KELVIN_TOKEN", "correct horse battery staple", 1);
  ResonatorBoard from_env(driver::backends::open(server.listening_address() + "?board=1"));
  ::unsetenv("KELVIN_TOKEN");
  EXPECT_EQ(server.stats().refused_token, 2u);
  std::filesystem::remove(wrong);
  std::filesystem::remove(right);
}

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
      error_message([&] { driver::backends::open(server.listening_address() + "?board=5"); },
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

// A board whose link to the server drops and damages replies, streamed through the server:
// every sample is delivered or counted, exactly, and resumable reads leave no transit loss.
TEST(BoardServer, StreamThroughTheServerFromAFaultyBoardAccountsForEverySample) {
  ServerOptions options;
  options.listen = "tcp:127.0.0.1:0";
  options.devices = {"sim:resonator?cells=4&seed=7&fault=drop:0.05,corrupt:0.02,duplicate:0.02"};
  BoardServer server(options);
  server.start();
  ResonatorBoard board(driver::backends::open(server.listening_address()));
  driver::SymmetricCodes a(4);
  for (std::uint32_t i = 0; i < 4; ++i)
    a.set(i, i, 9830);
  for (int attempt = 0;; ++attempt) {  // the faulty link may eat the reply to this write
    try {
      board.program_couplings(a, Deadline::after(200ms));
      break;
    } catch (const Error& e) {
      ASSERT_LT(attempt, 20) << e.what();
    }
  }
  driver::StreamOptions stream_options;
  stream_options.reply_timeout = 200ms;
  stream_options.max_samples_per_frame = 2048;
  driver::SampleStream stream(board, stream_options, Deadline::after(10s));
  ASSERT_TRUE(stream.resumable());
  const auto end = std::chrono::steady_clock::now() + 300ms;
  std::uint64_t delivered = 0;
  while (std::chrono::steady_clock::now() < end)
    delivered += stream.recv(Deadline::after(10s)).metadata.sample_count;
  stream.stop(Deadline::after(10s));
  for (;;) {
    const auto frame = stream.recv(Deadline::after(10s));
    delivered += frame.metadata.sample_count;
    if (frame.metadata.end_of_stream)
      break;
    ASSERT_NE(frame.metadata.error, driver::StreamErrorKind::kTimeout) << "no drain";
  }
  const auto n = stream.counters();
  EXPECT_EQ(n.produced, n.received + n.lost);
  EXPECT_EQ(delivered, n.received);
  EXPECT_GT(n.received, 1000u);
  EXPECT_GT(n.retries + n.bad_frames, 0u) << "the faults never struck";
  if (std::getenv("KELVIN_SANITIZER") == nullptr) {
    EXPECT_EQ(n.lost, 0u);  // no overflow on a healthy machine, and no transit loss
  }
}

TEST(BoardServer, GarbageFromOneClientDoesNotDisturbAnother) {
  BoardServer server(two_boards());
  server.start();
  ResonatorBoard good(driver::backends::open(server.listening_address() + "?board=1"));

  RawClient garbage(port_of(server.listening_address()));
  std::mt19937 rng(42);
  std::vector<std::uint8_t> noise(64 * 1024);
  for (auto& b : noise)
    b = static_cast<std::uint8_t>(rng());
  garbage.send(noise);
  expect_same(run_job(good), reference_job(kBoard1));
  const auto reply = garbage.read_envelope();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->error().code(), wire::ERROR_CODE_MALFORMED_FRAME);
  EXPECT_TRUE(garbage.closed_by_server());
  EXPECT_GE(server.stats().dropped_bad_input, 1u);
  expect_same(run_job(good), reference_job(kBoard1, 2));
}

TEST(BoardServer, HugeLengthPrefixIsRefusedBeforeAnythingIsBuffered) {
  BoardServer server(two_boards());
  server.start();
  ResonatorBoard good(driver::backends::open(server.listening_address()));

  // A well-formed header (magic, version, header CRC) declaring a 4 GiB payload.
  auto frame = firmware_protocol::encode_frame(std::vector<std::uint8_t>(8, 0));
  frame[4] = frame[5] = frame[6] = frame[7] = 0xFF;
  const auto crc = firmware_protocol::crc32(std::span<const std::uint8_t>(frame.data(), 8));
  for (int i = 0; i < 4; ++i)
    frame[8 + i] = static_cast<std::uint8_t>(crc >> (8 * i));
  RawClient attacker(port_of(server.listening_address()));
  ASSERT_TRUE(attacker.attach(1).has_value());
  attacker.send(std::span<const std::uint8_t>(frame.data(), firmware_protocol::kFrameHeaderBytes));
  const auto reply = attacker.read_envelope();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->error().code(), wire::ERROR_CODE_MALFORMED_FRAME);
  EXPECT_NE(reply->error().message().find("too"), std::string::npos) << reply->error().message();
  EXPECT_TRUE(attacker.closed_by_server());
  expect_same(run_job(good), reference_job(kBoard0));

  // Its board was released.
  EXPECT_TRUE(eventually([&] {
    RawClient again(port_of(server.listening_address()));
    const auto attached = again.attach(1);
    return attached && attached->has_attached();
  }));
}

TEST(BoardServer, RequestsBeforeAttachAreRefused) {
  BoardServer server(two_boards());
  server.start();
  RawClient client(port_of(server.listening_address()));
  wire::Envelope hello;
  hello.set_request_id(7);
  hello.mutable_hello()->set_min_version(firmware_protocol::kProtocolVersion);
  hello.mutable_hello()->set_max_version(firmware_protocol::kProtocolVersion);
  client.send_envelope(hello);
  const auto reply = client.read_envelope();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->request_id(), 7u);
  EXPECT_EQ(reply->error().code(), wire::ERROR_CODE_UNEXPECTED_MESSAGE);
  EXPECT_NE(reply->error().message().find("Attach"), std::string::npos);
  EXPECT_TRUE(client.closed_by_server());
}

TEST(BoardServer, AClientThatNeverAttachesIsClosedAfterTheAttachTimeout) {
  auto options = two_boards();
  options.attach_timeout = 200ms;
  BoardServer server(options);
  server.start();
  RawClient idle(port_of(server.listening_address()));
  const auto start = std::chrono::steady_clock::now();
  const auto reply = idle.read_envelope(5s);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->error().code(), wire::ERROR_CODE_UNEXPECTED_MESSAGE);
  EXPECT_TRUE(idle.closed_by_server());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
  EXPECT_TRUE(eventually([&] { return server.stats().active_clients == 0; }));
}

TEST(BoardServer, ClientThatNeverReadsIsDroppedWithoutDisturbingOthers) {
  auto options = two_boards();
  options.max_queued_bytes = 256 * 1024;
  BoardServer server(options);
  server.start();
  ResonatorBoard good(driver::backends::open(server.listening_address() + "?board=1"));

  RawClient sluggard(port_of(server.listening_address()));
  ASSERT_TRUE(sluggard.attach(0).has_value());
  std::atomic<bool> done{false};
  std::thread flood([&] {
    wire::Envelope ping;
    ping.mutable_ping()->set_payload(std::string(60000, 'x'));
    for (std::uint64_t id = 1; !done; ++id) {
      ping.set_request_id(id);
      if (!sluggard.send_envelope(ping) && server.stats().dropped_slow > 0)
        return;
    }
  });
  expect_same(run_job(good), reference_job(kBoard1));
  EXPECT_TRUE(eventually([&] { return server.stats().dropped_slow == 1; }));
  done = true;
  flood.join();
  expect_same(run_job(good), reference_job(kBoard1, 2));
}

// A board transport whose writes vanish once `swallow` is set: the board never answers.
class SwallowingTransport final : public driver::Transport {
 public:
  SwallowingTransport(std::unique_ptr<driver::Transport> inner, std::atomic<bool>& swallow)
      : inner_(std::move(inner)), swallow_(swallow) {}
  void write(std::span<const std::uint8_t> bytes, Deadline deadline) override {
    if (!swallow_)
      inner_->write(bytes, deadline);
  }
  std::size_t read_some(std::span<std::uint8_t> out, Deadline deadline) override {
    return inner_->read_some(out, deadline);
  }
  void close() noexcept override { inner_->close(); }
  bool is_open() const noexcept override { return inner_->is_open(); }
  std::string describe() const override { return inner_->describe(); }

 private:
  std::unique_ptr<driver::Transport> inner_;
  std::atomic<bool>& swallow_;
};

TEST(BoardServer, StoppingTheServerFailsABlockedRequestWithDisconnected) {
  std::atomic<bool> swallow{false};
  auto options = two_boards();
  options.connect = [&swallow](const std::string& uri) {
    return std::make_unique<SwallowingTransport>(driver::backends::builtin_registry().connect(uri),
                                                 swallow);
  };
  BoardServer server(options);
  server.start();
  ResonatorBoard board(driver::backends::open(server.listening_address()));
  swallow = true;  // the next request is never answered

  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);  // let the request block first
    server.stop();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(
      error_message([&] { board.set_noise(1, Deadline::after(8s)); }, ErrorKind::kDisconnected)
          .empty(),
      false);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  stopper.join();
  EXPECT_LT(elapsed, 4s) << "the blocked call waited for its deadline instead of the disconnect";
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

TEST(BoardServer, ABadDeviceFailsAtStartNamingIt) {
  auto options = two_boards();
  options.devices.push_back("sim:toaster");
  try {
    BoardServer server(options);
    FAIL() << "a server with a bad device started";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(e.what()).find("device 2 (sim:toaster)"), std::string::npos) << e.what();
  }
}

TEST(Tokens, CompareEqualOnlyWhenIdentical) {
  EXPECT_TRUE(tokens_equal("abc", "abc"));
  EXPECT_FALSE(tokens_equal("abc", "abd"));
  EXPECT_FALSE(tokens_equal("abc", "ab"));
  EXPECT_FALSE(tokens_equal("abc", "abcd"));
  EXPECT_FALSE(tokens_equal("abc", ""));
  EXPECT_TRUE(tokens_equal("", ""));
}

}  // namespace
}  // namespace kelvin::tools::kelvind
