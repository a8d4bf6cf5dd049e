// Frame codec throughput: a StreamData reply of 64 Ki samples x 4 cells (512 KiB of codes, the
// shape of a full streaming frame) encoded to a wire frame, and decoded back (framing, both CRCs,
// protobuf parse), in bytes of frame per second against memcpy of the same number of bytes.
// The ratio is what the codec costs on top of touching the bytes once.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/firmware_protocol/framing.hpp"
#include "ratio.hpp"

namespace {

namespace fp = kelvin::firmware_protocol;

constexpr std::uint32_t kCells = 4;
constexpr std::uint64_t kSamples = 64 * 1024;

fp::wire::Envelope stream_reply() {
  fp::wire::Envelope env;
  env.set_protocol_version(fp::kProtocolVersion);
  env.set_request_id(12345);
  auto* data = env.mutable_stream_data();
  data->set_stream_id(1);
  data->set_cells(kCells);
  data->set_first_sequence(1'000'000);
  data->set_first_tick(100'000'000);
  data->set_sample_count(kSamples);
  std::string codes(kSamples * kCells * 2, '\0');
  for (std::size_t i = 0; i < codes.size(); ++i)
    codes[i] = static_cast<char>((i * 2654435761u) >> 13);  // not all zeros: realistic CRC work
  data->set_samples_le16(std::move(codes));
  data->set_produced(2'000'000);
  data->set_running(true);
  data->set_buffered(1'000'000 - kSamples);
  return env;
}

void BM_FrameEncode(benchmark::State& state) {
  const auto env = stream_reply();
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto frame = fp::encode_envelope(env);
    bytes = frame.size();
    benchmark::DoNotOptimize(frame.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_FrameEncode)->Unit(benchmark::kMicrosecond);

void BM_FrameDecode(benchmark::State& state) {
  const auto frame = fp::encode_envelope(stream_reply());
  fp::FrameDecoder decoder;
  for (auto _ : state) {
    decoder.feed(frame);
    auto decoded = decoder.next();
    if (!decoded || decoded->error) {
      state.SkipWithError("frame did not decode");
      break;
    }
    auto env = fp::parse_envelope(decoded->payload);
    benchmark::DoNotOptimize(env);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frame.size()));
}
BENCHMARK(BM_FrameDecode)->Unit(benchmark::kMicrosecond);

// The baseline: one memcpy of a frame's worth of bytes into a buffer made once.
void BM_BaselineFrameMemcpy(benchmark::State& state) {
  const auto frame = fp::encode_envelope(stream_reply());
  std::vector<std::uint8_t> copy(frame.size());
  for (auto _ : state) {
    std::memcpy(copy.data(), frame.data(), frame.size());
    benchmark::DoNotOptimize(copy.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frame.size()));
}
BENCHMARK(BM_BaselineFrameMemcpy)->Unit(benchmark::kMicrosecond);

KELVIN_BENCH_RATIO("BM_FrameEncode", "BM_BaselineFrameMemcpy",
                   "frame encode (protobuf, framing, CRC) against memcpy of the frame's bytes");
KELVIN_BENCH_RATIO("BM_FrameDecode", "BM_BaselineFrameMemcpy",
                   "frame decode (framing, CRC check, protobuf parse) against memcpy");

}  // namespace
