// Request latency through the in-process transport (host thread -> board thread -> host), and
// through kelvind (a BoardServer in this process serving the same emulated board) over a Unix
// socket and loopback TCP, against a baseline that encodes, decodes and answers the same request
// on one thread. The ratios are the cost of the thread hand-offs and of the sockets.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/device.hpp"
#include "kelvin/driver/inprocess_transport.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/sim_backend/resonator_firmware.hpp"
#include "kelvin/tools/kelvind/board_server.hpp"
#include "ratio.hpp"

namespace {

kelvin::firmware_protocol::wire::Envelope noise_request() {
  kelvin::firmware_protocol::wire::Envelope env;
  env.mutable_set_noise()->set_code(100);
  return env;
}

constexpr const char* kBoard = "sim:resonator?cells=8";

void round_trips(benchmark::State& state, kelvin::driver::Device& device) {
  for (auto _ : state) {
    auto reply =
        device.request(noise_request(), kelvin::common::Deadline::after(std::chrono::seconds(5)));
    benchmark::DoNotOptimize(reply);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_DeviceRequestRoundTrip(benchmark::State& state) {
  auto device = kelvin::driver::backends::open(kBoard);
  round_trips(state, *device);
}
BENCHMARK(BM_DeviceRequestRoundTrip)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The same board behind an in-process transport that sleeps on its condition variables at once
// instead of spinning first (the hand-off before issue 16): what the spin saves.
void BM_DeviceRequestRoundTripNoSpin(benchmark::State& state) {
  std::shared_ptr<kelvin::sim_backend::FirmwareEndpoint> firmware =
      kelvin::sim_backend::make_resonator_firmware(kelvin::sim_backend::ResonatorConfig{});
  auto transport = std::make_unique<kelvin::driver::InProcessTransport>(
      [firmware](std::span<const std::uint8_t> bytes) { return firmware->on_bytes(bytes); },
      "in-process, no spin", [firmware] { return firmware->on_idle(); },
      [firmware]() noexcept { firmware->power_off(); },
      [firmware] {
        return firmware->next_wakeup().value_or(std::chrono::steady_clock::time_point::max());
      },
      std::chrono::microseconds(state.range(0)));
  kelvin::driver::Device device(std::move(transport), kelvin::driver::DeviceAddress::parse(kBoard));
  round_trips(state, device);
}
BENCHMARK(BM_DeviceRequestRoundTripNoSpin)
    ->Arg(0)
    ->Arg(5)
    ->Arg(10)
    ->Arg(20)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

void round_trips_through_server(benchmark::State& state, const std::string& listen) {
  kelvin::tools::kelvind::ServerOptions options;
  options.listen = listen;
  options.devices = {kBoard};
  kelvin::tools::kelvind::BoardServer server(options);
  server.start();
  auto device = kelvin::driver::backends::open(server.listening_address());
  round_trips(state, *device);
}

void BM_DeviceRequestRoundTripUnix(benchmark::State& state) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("kelvin-bench-rt-" + std::to_string(::getpid()) + ".sock");
  round_trips_through_server(state, "unix:" + path.string());
}
BENCHMARK(BM_DeviceRequestRoundTripUnix)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_DeviceRequestRoundTripTcp(benchmark::State& state) {
  round_trips_through_server(state, "tcp:127.0.0.1:0");
}
BENCHMARK(BM_DeviceRequestRoundTripTcp)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_BaselineEncodeDecode(benchmark::State& state) {
  kelvin::sim_backend::ResonatorConfig config;
  auto firmware = kelvin::sim_backend::make_resonator_firmware(config);
  kelvin::firmware_protocol::FrameDecoder decoder;
  std::uint64_t id = 1;
  for (auto _ : state) {
    auto request = noise_request();
    request.set_protocol_version(kelvin::firmware_protocol::kProtocolVersion);
    request.set_request_id(id++);
    const auto reply_bytes =
        firmware->on_bytes(kelvin::firmware_protocol::encode_envelope(request));
    decoder.feed(reply_bytes);
    auto frame = decoder.next();
    auto reply = kelvin::firmware_protocol::parse_envelope(frame->payload);
    benchmark::DoNotOptimize(reply);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BaselineEncodeDecode)->Unit(benchmark::kMicrosecond)->UseRealTime();

KELVIN_BENCH_RATIO("BM_DeviceRequestRoundTrip", "BM_BaselineEncodeDecode",
                   "in-process request round trip against encode/answer/decode on one thread");
KELVIN_BENCH_RATIO("BM_DeviceRequestRoundTripNoSpin", "BM_BaselineEncodeDecode",
                   "the same without the transport's spin (condition variables only)");
KELVIN_BENCH_RATIO("BM_DeviceRequestRoundTripUnix", "BM_BaselineEncodeDecode",
                   "request round trip through kelvind over a Unix socket against one thread");
KELVIN_BENCH_RATIO("BM_DeviceRequestRoundTripTcp", "BM_BaselineEncodeDecode",
                   "request round trip through kelvind over loopback TCP against one thread");
}  // namespace
