// Request latency through the in-process transport (host thread -> board thread -> host), against
// a baseline that encodes, decodes and answers the same request on one thread. The ratio is the
// cost of the transport's thread hand-off, which real transports (USB, TCP) will add to.
#include <chrono>
#include <memory>

#include <benchmark/benchmark.h>

#include "kelvin/driver/backends.hpp"
#include "kelvin/protocol/envelope_codec.hpp"
#include "kelvin/sim/resonator_firmware.hpp"

namespace {

kelvin::wire::v1::Envelope noise_request() {
  kelvin::wire::v1::Envelope env;
  env.mutable_set_noise()->set_code(100);
  return env;
}

void BM_DeviceRequestRoundTrip(benchmark::State& state) {
  auto device = kelvin::driver::open("sim:resonator?cells=8");
  for (auto _ : state) {
    auto reply =
        device->request(noise_request(), kelvin::driver::Deadline::after(std::chrono::seconds(5)));
    benchmark::DoNotOptimize(reply);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DeviceRequestRoundTrip)->Unit(benchmark::kMicrosecond);

void BM_BaselineEncodeDecode(benchmark::State& state) {
  kelvin::sim::ResonatorConfig config;
  auto firmware = kelvin::sim::make_resonator_firmware(config);
  kelvin::protocol::FrameDecoder decoder;
  std::uint64_t id = 1;
  for (auto _ : state) {
    auto request = noise_request();
    request.set_protocol_version(kelvin::protocol::kProtocolVersion);
    request.set_request_id(id++);
    const auto reply_bytes = firmware->on_bytes(kelvin::protocol::encode_envelope(request));
    decoder.feed(reply_bytes);
    auto frame = decoder.next();
    auto reply = kelvin::protocol::parse_envelope(frame->payload);
    benchmark::DoNotOptimize(reply);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BaselineEncodeDecode)->Unit(benchmark::kMicrosecond);

}  // namespace
