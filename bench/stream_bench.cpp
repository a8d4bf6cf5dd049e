// Streaming through kelvind: a SampleStream reading a board served by a BoardServer in this
// process, over loopback TCP and a Unix socket, in bytes of samples per second, against a raw
// copy of the same bytes between two threads over the same kind of socket. The board is
// FastStreamBoard (fast_stream_board.hpp), which answers every read at once, so the figure is
// what the host path carries; the emulated board's own rate is its 1 MHz clock (2 MB/s per
// cell). Every sample must arrive: any loss is reported as the `lost` counter and fails the
// benchmark.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "fast_stream_board.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/inprocess_transport.hpp"
#include "kelvin/driver/resonator/sample_stream.hpp"
#include "kelvin/tools/kelvind/board_server.hpp"
#include "ratio.hpp"
#include "socket_pair.hpp"

namespace {

using kelvin::common::Deadline;
using namespace std::chrono_literals;

constexpr std::uint32_t kCells = 4;
constexpr std::uint64_t kFrameSamples = 64 * 1024;  // 512 KiB of codes per reply
constexpr std::size_t kFrameBytes = kFrameSamples * kCells * 2;

kelvin::tools::kelvind::ServerOptions fast_board_server(const std::string& listen) {
  kelvin::tools::kelvind::ServerOptions options;
  options.listen = listen;
  options.devices = {"sim:resonator?cells=4"};  // a name only: connect() below makes the board
  options.connect = [](const std::string& uri) -> std::unique_ptr<kelvin::driver::Transport> {
    auto board = std::make_shared<kelvin::bench::FastStreamBoard>(kCells, kFrameSamples);
    return std::make_unique<kelvin::driver::InProcessTransport>(
        [board](std::span<const std::uint8_t> bytes) { return board->on_bytes(bytes); },
        "fast stream board for " + uri);
  };
  return options;
}

void stream_through_server(benchmark::State& state, const std::string& listen) {
  kelvin::tools::kelvind::BoardServer server(fast_board_server(listen));
  server.start();
  kelvin::driver::StreamOptions options;
  kelvin::driver::SampleStream stream(
      kelvin::driver::ResonatorBoard(kelvin::driver::backends::open(server.listening_address())),
      options, Deadline::after(10s));
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    const auto frame = stream.recv(Deadline::after(10s));
    bytes += frame.samples.size() * sizeof(std::int16_t);
  }
  stream.stop(Deadline::after(10s));
  while (!stream.recv(Deadline::after(10s)).metadata.end_of_stream) {
  }
  const auto counters = stream.counters();
  state.counters["lost"] = static_cast<double>(counters.lost);
  state.counters["retries"] = static_cast<double>(counters.retries);
  state.counters["round_trip_us"] = counters.round_trip_us;
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  if (counters.lost != 0 || counters.produced != counters.received)
    state.SkipWithError("samples were lost");
}

void BM_StreamKelvindTcp(benchmark::State& state) {
  stream_through_server(state, "tcp:127.0.0.1:0");
}
BENCHMARK(BM_StreamKelvindTcp)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_StreamKelvindUnix(benchmark::State& state) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("kelvin-bench-" + std::to_string(::getpid()) + ".sock");
  stream_through_server(state, "unix:" + path.string());
}
BENCHMARK(BM_StreamKelvindUnix)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The baseline: one thread writes frame-sized blocks into a connected socket as fast as it can,
// the benchmark thread reads one frame's worth per iteration.
void raw_socket_copy(benchmark::State& state, kelvin::bench::SocketPair pair) {
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    const std::vector<char> block(kFrameBytes, 'x');
    while (!stop.load(std::memory_order_relaxed)) {
      if (!kelvin::bench::send_all(pair.writer, block.data(), block.size()))
        return;
    }
  });
  std::vector<char> block(kFrameBytes);
  for (auto _ : state) {
    if (!kelvin::bench::recv_all(pair.reader, block.data(), block.size())) {
      state.SkipWithError("socket closed");
      break;
    }
  }
  stop = true;
  ::shutdown(pair.writer, SHUT_RDWR);  // fails the writer's pending send
  ::shutdown(pair.reader, SHUT_RDWR);
  writer.join();
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kFrameBytes));
}

void BM_BaselineRawTcpCopy(benchmark::State& state) {
  raw_socket_copy(state, kelvin::bench::loopback_tcp_pair());
}
BENCHMARK(BM_BaselineRawTcpCopy)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_BaselineRawUnixCopy(benchmark::State& state) {
  raw_socket_copy(state, kelvin::bench::unix_socket_pair());
}
BENCHMARK(BM_BaselineRawUnixCopy)->Unit(benchmark::kMicrosecond)->UseRealTime();

KELVIN_BENCH_RATIO("BM_StreamKelvindTcp", "BM_BaselineRawTcpCopy",
                   "stream through kelvind over loopback TCP against a raw socket copy");
KELVIN_BENCH_RATIO("BM_StreamKelvindUnix", "BM_BaselineRawUnixCopy",
                   "stream through kelvind over a Unix socket against a raw socket copy");

}  // namespace
