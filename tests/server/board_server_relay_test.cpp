// The board server relaying jobs: real jobs through tcp: and unix: match the same jobs on sim:
// bit for bit, a stream from a faulty board through the server accounts for every sample,
// stopping the server fails a blocked request at once, and a bad device fails at start.
#include "kelvin/tools/kelvind/board_server.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "board_server_fixture.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/driver/resonator/sample_stream.hpp"
#include "kelvin/driver/transport.hpp"
#include "raw_client.hpp"

namespace kelvin::tools::kelvind {
namespace {

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
  EXPECT_EQ(message_of([&] { board.set_noise(1, Deadline::after(8s)); }, ErrorKind::kDisconnected)
                .empty(),
            false);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  stopper.join();
  EXPECT_LT(elapsed, 4s) << "the blocked call waited for its deadline instead of the disconnect";
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

}  // namespace
}  // namespace kelvin::tools::kelvind
