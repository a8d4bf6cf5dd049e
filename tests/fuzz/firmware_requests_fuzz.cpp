// libFuzzer target: an emulated board's request handling (the firmware's frame loop and every
// request handler) fed arbitrary bytes, and well-formed frames around arbitrary payloads. A
// board must answer garbage with error replies, never crash, hang or grow without bound.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "kelvin/firmware_protocol/framing.hpp"
#include "kelvin/firmware_protocol/wire.pb.h"
#include "kelvin/sim_backend/pbit_config.hpp"
#include "kelvin/sim_backend/pbit_firmware.hpp"
#include "kelvin/sim_backend/resonator_config.hpp"
#include "kelvin/sim_backend/resonator_firmware.hpp"

namespace {

// Long jobs are legitimate requests but make the fuzzer report timeouts instead of bugs: a
// payload that parses as a run or sampling job is re-encoded with its length capped.
std::vector<std::uint8_t> bounded(std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> out(payload.begin(), payload.end());
  kelvin::firmware_protocol::wire::Envelope e;
  if (!e.ParseFromArray(payload.data(), static_cast<int>(payload.size())))
    return out;
  bool changed = false;
  if (e.has_start_run() && e.start_run().duration_ticks() > 100'000) {
    e.mutable_start_run()->set_duration_ticks(100'000);
    changed = true;
  }
  if (e.has_start_sampling()) {
    auto* s = e.mutable_start_sampling();
    if (s->sweeps() > 200 || s->chains() > 4 || s->burn_in_sweeps() > 200) {
      s->set_sweeps(std::min<std::uint64_t>(s->sweeps(), 200));
      s->set_chains(std::min<std::uint32_t>(s->chains(), 4));
      s->set_burn_in_sweeps(std::min<std::uint64_t>(s->burn_in_sweeps(), 200));
      changed = true;
    }
  }
  if (changed) {
    out.resize(e.ByteSizeLong());
    e.SerializeToArray(out.data(), static_cast<int>(out.size()));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kelvin;
  if (size < 2)
    return 0;
  // Byte 0: which board and whether the rest is raw bytes or payloads to wrap in valid frames.
  const bool pbit = (data[0] & 1) != 0;
  const bool wrap = (data[0] & 2) != 0;
  std::unique_ptr<sim_backend::FirmwareEndpoint> board;
  if (pbit) {
    sim_backend::PbitConfig config;
    config.rows = 8;
    config.cols = 8;
    board = sim_backend::make_pbit_firmware(config);
  } else {
    sim_backend::ResonatorConfig config;
    config.cells = 4;
    config.ring_samples = 64;
    board = sim_backend::make_resonator_firmware(config);
  }
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  std::vector<std::uint8_t> input;
  if (wrap) {
    // Payloads separated by a length byte: each becomes one valid frame, so the fuzzer reaches
    // the protobuf parser and the request handlers instead of the CRC check.
    for (std::size_t at = 0; at < rest.size();) {
      const std::size_t n = std::min<std::size_t>(rest[at], rest.size() - at - 1);
      const auto frame = firmware_protocol::encode_frame(bounded(rest.subspan(at + 1, n)));
      input.insert(input.end(), frame.begin(), frame.end());
      at += n + 1;
    }
  } else {
    input.assign(rest.begin(), rest.end());
  }
  const auto replies = board->on_bytes(input);
  (void)board->on_idle();
  // Every reply is a well-formed frame.
  firmware_protocol::FrameDecoder decoder;
  decoder.feed(replies);
  while (auto frame = decoder.next()) {
    if (frame->error)
      std::abort();
  }
  if (decoder.buffered_bytes() != 0)
    std::abort();
  return 0;
}
