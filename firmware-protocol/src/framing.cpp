#include "kelvin/firmware_protocol/framing.hpp"

#include "frame_seal.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cstring>

namespace kelvin::firmware_protocol {
namespace {

void put_le32(std::uint8_t* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint32_t get_le32(const std::uint8_t* in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(in[i]) << (8 * i);
  return v;
}

// CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, initial value and final xor all ones,
// the CRC of zlib and Ethernet) computed slicing-by-8: table k holds the CRC of a byte followed
// by k zero bytes, so eight bytes are folded in per step with eight independent lookups. Same
// value as the bytewise table (boost::crc_32_type, used before), about 4x faster: every frame's
// payload passes through it on both ends of the link.
using CrcTables = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr CrcTables make_crc_tables() {
  CrcTables t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1u) != 0 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    t[0][i] = c;
  }
  for (std::size_t s = 1; s < 8; ++s) {
    for (std::size_t i = 0; i < 256; ++i)
      t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFFu];
  }
  return t;
}

constexpr CrcTables kCrcTables = make_crc_tables();

}  // namespace

const char* to_string(FrameErrorKind kind) noexcept {
  switch (kind) {
    case FrameErrorKind::kBadMagic:
      return "bad magic";
    case FrameErrorKind::kUnsupportedFraming:
      return "unsupported framing version or flags";
    case FrameErrorKind::kHeaderCrcMismatch:
      return "header CRC mismatch";
    case FrameErrorKind::kTooLarge:
      return "frame too large";
    case FrameErrorKind::kPayloadCrcMismatch:
      return "payload CRC mismatch";
    case FrameErrorKind::kTruncated:
      return "truncated frame";
    case FrameErrorKind::kTrailingBytes:
      return "trailing bytes after frame";
  }
  return "unknown frame error";
}

std::uint32_t crc32(std::span<const std::uint8_t> bytes) noexcept {
  const auto& t = kCrcTables;
  std::uint32_t crc = 0xFFFFFFFFu;
  const std::uint8_t* p = bytes.data();
  std::size_t n = bytes.size();
  for (; n >= 8; n -= 8, p += 8) {
    const std::uint32_t lo = get_le32(p) ^ crc;
    const std::uint32_t hi = get_le32(p + 4);
    crc = t[7][lo & 0xFFu] ^ t[6][(lo >> 8) & 0xFFu] ^ t[5][(lo >> 16) & 0xFFu] ^ t[4][lo >> 24] ^
          t[3][hi & 0xFFu] ^ t[2][(hi >> 8) & 0xFFu] ^ t[1][(hi >> 16) & 0xFFu] ^ t[0][hi >> 24];
  }
  for (; n > 0; --n, ++p)
    crc = (crc >> 8) ^ t[0][(crc ^ *p) & 0xFFu];
  return ~crc;
}

std::vector<std::uint8_t> encode_frame(std::span<const std::uint8_t> payload,
                                       std::size_t max_payload) {
  if (payload.size() > max_payload) {
    throw FrameError(FrameErrorKind::kTooLarge,
                     fmt::format("payload of {} bytes exceeds the frame limit of {} bytes",
                                 payload.size(), max_payload));
  }
  std::vector<std::uint8_t> frame(kFrameOverheadBytes + payload.size());
  if (!payload.empty())
    std::memcpy(frame.data() + kFrameHeaderBytes, payload.data(), payload.size());
  detail::seal_frame(frame);
  return frame;
}

void detail::seal_frame(std::span<std::uint8_t> frame) noexcept {
  const std::size_t size = frame.size() - kFrameOverheadBytes;
  std::uint8_t* h = frame.data();
  h[0] = kFrameMagic0;
  h[1] = kFrameMagic1;
  h[2] = kFramingVersion;
  h[3] = 0;  // flags, reserved
  put_le32(h + 4, static_cast<std::uint32_t>(size));
  put_le32(h + 8, crc32({h, 8}));
  put_le32(h + kFrameHeaderBytes + size, crc32({h + kFrameHeaderBytes, size}));
}

std::vector<std::uint8_t> decode_frame(std::span<const std::uint8_t> frame,
                                       std::size_t max_payload) {
  FrameDecoder decoder(max_payload);
  decoder.feed(frame);
  auto result = decoder.next();
  if (!result) {
    throw FrameError(FrameErrorKind::kTruncated,
                     fmt::format("buffer of {} bytes ends inside a frame", frame.size()));
  }
  if (result->error) {
    throw FrameError(*result->error, fmt::format("malformed frame: {}", to_string(*result->error)));
  }
  if (decoder.buffered_bytes() != 0) {
    throw FrameError(FrameErrorKind::kTrailingBytes,
                     fmt::format("{} bytes follow the frame", decoder.buffered_bytes()));
  }
  return std::move(result->payload);
}

FrameDecoder::FrameDecoder(std::size_t max_payload) : max_payload_(max_payload) {}

void FrameDecoder::feed(std::span<const std::uint8_t> bytes) {
  compact();
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

void FrameDecoder::compact() {
  if (start_ == 0)
    return;
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
  start_ = 0;
}

std::optional<FrameErrorKind> FrameDecoder::check_header(const std::uint8_t* h,
                                                         std::uint32_t* length) const {
  if (h[0] != kFrameMagic0 || h[1] != kFrameMagic1)
    return FrameErrorKind::kBadMagic;
  if (get_le32(h + 8) != crc32({h, 8}))
    return FrameErrorKind::kHeaderCrcMismatch;
  if (h[2] != kFramingVersion || h[3] != 0)
    return FrameErrorKind::kUnsupportedFraming;
  *length = get_le32(h + 4);
  if (*length > max_payload_)
    return FrameErrorKind::kTooLarge;
  return std::nullopt;
}

std::optional<DecodedFrame> FrameDecoder::next() {
  std::optional<FrameErrorKind> first_error;
  std::size_t discarded = 0;
  std::uint64_t declared = 0;  // the length a too-large first header declared
  // Reports the discarded run (if any) before anything else is returned.
  auto flush_error = [&]() -> std::optional<DecodedFrame> {
    if (!first_error)
      return std::nullopt;
    ++errors_;
    bytes_discarded_ += discarded;
    DecodedFrame out;
    out.error = first_error;
    out.discarded_bytes = discarded;
    out.declared_payload_bytes = declared;
    return out;
  };

  while (buffer_.size() - start_ >= 2) {
    const std::uint8_t* p = buffer_.data() + start_;
    const std::size_t avail = buffer_.size() - start_;
    if (p[0] != kFrameMagic0 || p[1] != kFrameMagic1) {
      // Skip to the next byte that could start a frame.
      const std::uint8_t* end = buffer_.data() + buffer_.size();
      const std::uint8_t* hit = std::find(p + 1, end, kFrameMagic0);
      const std::size_t skip = static_cast<std::size_t>(hit - p);
      if (!first_error)
        first_error = FrameErrorKind::kBadMagic;
      discarded += skip;
      start_ += skip;
      continue;
    }
    if (avail < kFrameHeaderBytes)
      break;  // need the whole header
    std::uint32_t length = 0;
    if (auto err = check_header(p, &length)) {
      if (!first_error) {
        first_error = *err;
        if (*err == FrameErrorKind::kTooLarge)
          declared = length;
      }
      discarded += 1;  // drop the magic byte and look for the next frame start
      start_ += 1;
      continue;
    }
    if (first_error)
      return flush_error();  // report garbage before the good frame
    const std::size_t total = kFrameOverheadBytes + length;
    if (avail < total)
      return std::nullopt;  // wait for the rest of this frame
    const std::uint8_t* payload = p + kFrameHeaderBytes;
    if (get_le32(payload + length) != crc32({payload, length})) {
      start_ += total;
      ++errors_;
      bytes_discarded_ += total;
      DecodedFrame out;
      out.error = FrameErrorKind::kPayloadCrcMismatch;
      out.discarded_bytes = total;
      return out;
    }
    DecodedFrame out;
    out.payload.assign(payload, payload + length);
    start_ += total;
    ++frames_decoded_;
    return out;
  }
  if (first_error)
    return flush_error();
  return std::nullopt;
}

}  // namespace kelvin::firmware_protocol
