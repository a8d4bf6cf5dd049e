// Request latency through the in-process transport (host thread -> board thread -> host), against
// a baseline that encodes, decodes and answers the same request on one thread. The ratio is the
// cost of the transport's thread hand-off, which real transports (USB, TCP) will add to.
#include <chrono>
#include <memory>

#include <benchmark/benchmark.h>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/sim_backend/resonator_firmware.hpp"
#include "ratio.hpp"

namespace {

kelvin::firmware_protocol::wire::Envelope noise_request() {
  kelvin::firmware_protocol::wire::Envelope env;
  env.mutable_set_noise()->set_code(100);
  return env;
}

void BM_DeviceRequestRoundTrip(benchmark::State& state) {
  auto device = kelvin::driver::backends::open("sim:resonator?cells=8");
  for (auto _ : state) {
    auto reply =
        device->request(noise_request(), kelvin::common::Deadline::after(std::chrono::seconds(5)));
    benchmark::DoNotOptimize(reply);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DeviceRequestRoundTrip)->Unit(benchmark::kMicrosecond)->UseRealTime();

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
}  // namespace
