#include "kelvin/firmware_protocol/framing.hpp"

#include <boost/crc.hpp>

#include <fmt/format.h>
#include <algorithm>
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
  boost::crc_32_type crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

std::vector<std::uint8_t> encode_frame(std::span<const std::uint8_t> payload,
                                       std::size_t max_payload) {
  if (payload.size() > max_payload) {
    throw FrameError(FrameErrorKind::kTooLarge,
                     fmt::format("payload of {} bytes exceeds the frame limit of {} bytes",
                                 payload.size(), max_payload));
  }
  std::vector<std::uint8_t> frame(kFrameOverheadBytes + payload.size());
  std::uint8_t* h = frame.data();
  h[0] = kFrameMagic0;
  h[1] = kFrameMagic1;
  h[2] = kFramingVersion;
  h[3] = 0;  // flags, reserved
  put_le32(h + 4, static_cast<std::uint32_t>(payload.size()));
  put_le32(h + 8, crc32({h, 8}));
  if (!payload.empty())
    std::memcpy(h + kFrameHeaderBytes, payload.data(), payload.size());
  put_le32(h + kFrameHeaderBytes + payload.size(), crc32(payload));
  return frame;
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
