// Framing layer of the kelvin wire protocol: turns payloads (encoded Envelopes) into
// self-delimiting, checksummed frames and back. See docs/protocol.md for the byte layout.
//
// Thread contract: encode_frame and decode_frame are pure functions, safe from any thread.
// A FrameDecoder is a plain value with no internal locking: one thread at a time may use a
// given instance; separate instances are independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace kelvin::firmware_protocol {

inline constexpr std::uint8_t kFrameMagic0 = 0x4B;  // 'K'
inline constexpr std::uint8_t kFrameMagic1 = 0x56;  // 'V'
inline constexpr std::uint8_t kFramingVersion = 1;
inline constexpr std::size_t kFrameHeaderBytes =
    12;  // magic(2) version(1) flags(1) length(4) header CRC(4)
inline constexpr std::size_t kFrameTrailerBytes = 4;  // payload CRC
inline constexpr std::size_t kFrameOverheadBytes = kFrameHeaderBytes + kFrameTrailerBytes;
// Largest payload either side sends or accepts unless configured lower: 1 MiB.
inline constexpr std::size_t kMaxFramePayload = std::size_t{1} << 20;

enum class FrameErrorKind {
  kBadMagic,            // bytes that do not start a frame
  kUnsupportedFraming,  // framing version or reserved flags this build does not understand
  kHeaderCrcMismatch,   // header damaged (length cannot be trusted)
  kTooLarge,            // declared payload larger than the configured maximum
  kPayloadCrcMismatch,  // payload damaged
  kTruncated,           // a complete buffer ended inside a frame
  kTrailingBytes,       // a complete buffer had bytes after its frame
};

const char* to_string(FrameErrorKind kind) noexcept;

class FrameError : public std::runtime_error {
 public:
  FrameError(FrameErrorKind kind, const std::string& what)
      : std::runtime_error(what), kind_(kind) {}
  FrameErrorKind kind() const noexcept { return kind_; }

 private:
  FrameErrorKind kind_;
};

// CRC-32 (IEEE 802.3 polynomial, as zlib and Ethernet compute it).
std::uint32_t crc32(std::span<const std::uint8_t> bytes) noexcept;

// Wraps a payload in a frame. Throws FrameError(kTooLarge) past max_payload.
std::vector<std::uint8_t> encode_frame(std::span<const std::uint8_t> payload,
                                       std::size_t max_payload = kMaxFramePayload);

// Decodes exactly one frame that fills the whole buffer. Throws FrameError on any defect.
std::vector<std::uint8_t> decode_frame(std::span<const std::uint8_t> frame,
                                       std::size_t max_payload = kMaxFramePayload);

// One result of a streaming decode: a payload, or an error covering discarded bytes.
struct DecodedFrame {
  std::vector<std::uint8_t> payload;    // empty when error is set
  std::optional<FrameErrorKind> error;  // set when bytes were discarded
  std::size_t discarded_bytes = 0;      // bytes dropped while resynchronizing
  // kTooLarge: the payload length the refused header declared, so that a refusal can name it.
  std::uint64_t declared_payload_bytes = 0;
};

// Streaming decoder for byte-stream transports (USB bulk, TCP, in-process pipes). Bytes go in
// with feed(); complete frames and errors come out of next() in stream order. After a defect it
// discards bytes up to the next plausible frame start and reports one error for the run of
// discarded bytes, so one corrupted frame does not take the following frames with it. Memory is
// bounded: it never buffers more than one maximum frame plus the bytes of the latest feed().
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_payload = kMaxFramePayload);

  void feed(std::span<const std::uint8_t> bytes);
  // The next decoded frame or error, or nullopt when more bytes are needed.
  std::optional<DecodedFrame> next();

  std::size_t buffered_bytes() const noexcept { return buffer_.size() - start_; }
  std::uint64_t frames_decoded() const noexcept { return frames_decoded_; }
  std::uint64_t errors() const noexcept { return errors_; }
  std::uint64_t bytes_discarded() const noexcept { return bytes_discarded_; }

 private:
  std::optional<FrameErrorKind> check_header(const std::uint8_t* header,
                                             std::uint32_t* length) const;
  void compact();

  std::size_t max_payload_;
  std::vector<std::uint8_t> buffer_;
  std::size_t start_ = 0;  // first unconsumed byte in buffer_
  std::uint64_t frames_decoded_ = 0;
  std::uint64_t errors_ = 0;
  std::uint64_t bytes_discarded_ = 0;
};

}  // namespace kelvin::firmware_protocol
