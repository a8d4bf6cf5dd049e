// libFuzzer target: the host's and the board's first contact with untrusted bytes. The input
// is split into feeds at positions the input itself chooses, pushed through FrameDecoder, and
// every payload through parse_envelope. Properties checked beyond "no crash, no sanitizer
// report": the decoder's memory stays bounded, every payload it hands out re-encodes to a frame
// that decodes back to itself, and every byte is either in a payload, discarded (and reported),
// or still buffered.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/firmware_protocol/framing.hpp"

namespace {

// A small limit, so that the fuzzer reaches the "too large" paths with short inputs.
constexpr std::size_t kMaxPayload = 4096;

void check(bool ok) {
  if (!ok)
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kelvin::firmware_protocol;
  if (size == 0)
    return 0;
  // The first byte picks the feed size (1..256), so splits at every offset get exercised.
  const std::size_t step = static_cast<std::size_t>(data[0]) + 1;
  const std::span<const std::uint8_t> bytes(data + 1, size - 1);

  FrameDecoder decoder(kMaxPayload);
  std::size_t in_frames = 0;
  std::size_t discarded = 0;
  for (std::size_t at = 0; at < bytes.size(); at += step) {
    const auto piece = bytes.subspan(at, std::min(step, bytes.size() - at));
    decoder.feed(piece);
    while (auto frame = decoder.next()) {
      if (frame->error) {
        check(frame->payload.empty());
        discarded += frame->discarded_bytes;
        continue;
      }
      check(frame->payload.size() <= kMaxPayload);
      in_frames += frame->payload.size() + kFrameOverheadBytes;
      const auto again = decode_frame(encode_frame(frame->payload, kMaxPayload), kMaxPayload);
      check(again == frame->payload);
      try {
        (void)parse_envelope(frame->payload);
      } catch (const MessageError&) {
        // Not an Envelope: the caller answers MALFORMED_MESSAGE.
      }
    }
    // Bounded memory: at most one maximal frame plus the latest feed.
    check(decoder.buffered_bytes() <= kMaxPayload + kFrameOverheadBytes + piece.size());
  }
  check(in_frames + discarded + decoder.buffered_bytes() == bytes.size());
  return 0;
}
