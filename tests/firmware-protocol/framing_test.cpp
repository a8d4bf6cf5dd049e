#include "kelvin/firmware_protocol/framing.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <random>

namespace kelvin::firmware_protocol {
namespace {

std::vector<std::uint8_t> bytes(std::size_t n, std::uint8_t seed = 1) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::uint8_t>(seed + 31 * i);
  return v;
}

TEST(Framing, Crc32MatchesTheStandardCheckValue) {
  const std::string check = "123456789";  // the CRC catalogue's check input
  EXPECT_EQ(crc32({reinterpret_cast<const std::uint8_t*>(check.data()), check.size()}),
            0xCBF43926u);
}

TEST(Framing, RoundTripsPayloadsOfManySizes) {
  for (std::size_t n : {0u, 1u, 2u, 11u, 12u, 255u, 4096u, 70000u}) {
    const auto payload = bytes(n, static_cast<std::uint8_t>(n));
    const auto frame = encode_frame(payload);
    EXPECT_EQ(frame.size(), payload.size() + kFrameOverheadBytes);
    EXPECT_EQ(decode_frame(frame), payload) << "size " << n;
  }
}

TEST(Framing, EncodeRefusesPayloadAboveTheLimit) {
  const auto payload = bytes(101);
  try {
    encode_frame(payload, 100);
    FAIL() << "expected FrameError";
  } catch (const FrameError& e) {
    EXPECT_EQ(e.kind(), FrameErrorKind::kTooLarge);
  }
}

FrameErrorKind decode_error(const std::vector<std::uint8_t>& frame,
                            std::size_t max = kMaxFramePayload) {
  try {
    decode_frame(frame, max);
  } catch (const FrameError& e) {
    return e.kind();
  }
  ADD_FAILURE() << "frame decoded although it is malformed";
  return FrameErrorKind::kTruncated;
}

TEST(Framing, RejectsEveryCorruptedByteOfAFrame) {
  const auto good = encode_frame(bytes(40));
  for (std::size_t i = 0; i < good.size(); ++i) {
    auto bad = good;
    bad[i] ^= 0x10;
    EXPECT_THROW(decode_frame(bad), FrameError) << "flipped byte " << i;
  }
}

TEST(Framing, NamesTheDefectOfAMalformedFrame) {
  const auto good = encode_frame(bytes(40));
  auto bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_EQ(decode_error(bad_magic), FrameErrorKind::kBadMagic);

  auto bad_header = good;
  bad_header[5] ^= 1;  // length byte: the header CRC no longer matches
  EXPECT_EQ(decode_error(bad_header), FrameErrorKind::kHeaderCrcMismatch);

  auto bad_payload = good;
  bad_payload[kFrameHeaderBytes + 3] ^= 1;
  EXPECT_EQ(decode_error(bad_payload), FrameErrorKind::kPayloadCrcMismatch);

  EXPECT_EQ(decode_error(encode_frame(bytes(200)), 100), FrameErrorKind::kTooLarge);

  auto truncated = good;
  truncated.pop_back();
  EXPECT_EQ(decode_error(truncated), FrameErrorKind::kTruncated);

  auto trailing = good;
  trailing.push_back(0);
  EXPECT_EQ(decode_error(trailing), FrameErrorKind::kTrailingBytes);

  EXPECT_EQ(decode_error({}), FrameErrorKind::kTruncated);
}

TEST(Framing, HugeDeclaredLengthIsRejectedWithoutWaitingForThePayload) {
  // A header that claims 4 GiB: the decoder must refuse it at once, not buffer forever.
  auto frame = encode_frame(bytes(8));
  FrameDecoder decoder(1024);
  auto big = encode_frame(bytes(8));
  big[4] = big[5] = big[6] = big[7] = 0xFF;
  // Recompute the header CRC so that only the size is wrong.
  const std::uint32_t crc = crc32({big.data(), 8});
  for (int i = 0; i < 4; ++i)
    big[8 + i] = static_cast<std::uint8_t>(crc >> (8 * i));
  decoder.feed({big.data(), kFrameHeaderBytes});
  auto result = decoder.next();
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->error.has_value());
  EXPECT_EQ(*result->error, FrameErrorKind::kTooLarge);
}

TEST(FrameDecoder, ReassemblesFramesFedOneByteAtATime) {
  std::vector<std::uint8_t> stream;
  std::vector<std::vector<std::uint8_t>> payloads;
  for (std::uint8_t i = 0; i < 5; ++i) {
    payloads.push_back(bytes(10u * i, i));
    auto f = encode_frame(payloads.back());
    stream.insert(stream.end(), f.begin(), f.end());
  }
  FrameDecoder decoder;
  std::vector<std::vector<std::uint8_t>> out;
  for (std::uint8_t b : stream) {
    decoder.feed({&b, 1});
    while (auto r = decoder.next()) {
      ASSERT_FALSE(r->error.has_value());
      out.push_back(r->payload);
    }
  }
  EXPECT_EQ(out, payloads);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  EXPECT_EQ(decoder.errors(), 0u);
}

TEST(FrameDecoder, ResynchronizesAfterGarbageAndReportsItOnce) {
  const auto a = encode_frame(bytes(20, 1));
  const auto b = encode_frame(bytes(30, 2));
  std::vector<std::uint8_t> stream(a);
  const std::vector<std::uint8_t> garbage = {0x00, 'K', 0x13, 0xFF, 'K', 'V', 1, 0, 9, 9};
  stream.insert(stream.end(), garbage.begin(), garbage.end());
  stream.insert(stream.end(), b.begin(), b.end());

  FrameDecoder decoder;
  decoder.feed(stream);
  auto r1 = decoder.next();
  ASSERT_TRUE(r1 && !r1->error);
  EXPECT_EQ(r1->payload, bytes(20, 1));
  auto r2 = decoder.next();
  ASSERT_TRUE(r2 && r2->error);
  EXPECT_EQ(r2->discarded_bytes, garbage.size());
  auto r3 = decoder.next();
  ASSERT_TRUE(r3 && !r3->error);
  EXPECT_EQ(r3->payload, bytes(30, 2));
  EXPECT_FALSE(decoder.next().has_value());
  EXPECT_EQ(decoder.errors(), 1u);
  EXPECT_EQ(decoder.bytes_discarded(), garbage.size());
}

TEST(FrameDecoder, DropsACorruptFrameAndKeepsTheNextOne) {
  auto a = encode_frame(bytes(20, 1));
  a[kFrameHeaderBytes] ^= 0xFF;  // payload damage
  const auto b = encode_frame(bytes(30, 2));
  FrameDecoder decoder;
  decoder.feed(a);
  decoder.feed(b);
  auto r1 = decoder.next();
  ASSERT_TRUE(r1 && r1->error);
  EXPECT_EQ(*r1->error, FrameErrorKind::kPayloadCrcMismatch);
  auto r2 = decoder.next();
  ASSERT_TRUE(r2 && !r2->error);
  EXPECT_EQ(r2->payload, bytes(30, 2));
}

TEST(FrameDecoder, RandomBytesNeverYieldAFrameOrGrowTheBuffer) {
  std::mt19937 rng(7);
  FrameDecoder decoder(4096);
  std::size_t max_buffered = 0;
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::uint8_t> chunk(1 + rng() % 64);
    for (auto& c : chunk)
      c = static_cast<std::uint8_t>(rng());
    if (round % 7 == 0)
      chunk[0] = kFrameMagic0, chunk.size() > 1 ? chunk[1] = kFrameMagic1 : 0;
    decoder.feed(chunk);
    while (auto r = decoder.next())
      EXPECT_TRUE(r->error.has_value());
    max_buffered = std::max(max_buffered, decoder.buffered_bytes());
  }
  EXPECT_LE(max_buffered, 4096 + kFrameOverheadBytes + 64);
  EXPECT_EQ(decoder.frames_decoded(), 0u);
}

}  // namespace
}  // namespace kelvin::firmware_protocol
