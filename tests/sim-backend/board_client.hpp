// Test helper: talks to an emulated resonator board only through encoded protocol frames, the
// way a host does. Requests are built as Envelopes, framed with encode_envelope, fed to the
// firmware's on_bytes, and the reply bytes are decoded with a FrameDecoder.
//
// Thread contract: a BoardClient is used by one test thread.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/firmware_protocol/wire_layout.hpp"
#include "kelvin/sim_backend/resonator_firmware.hpp"

namespace kelvin::sim_backend::testing {

using firmware_protocol::wire::Envelope;
using firmware_protocol::wire::ErrorCode;

// int16 codes as little-endian bytes, in protobuf's `bytes` representation (the wire's layout,
// pinned byte for byte by tests/firmware-protocol/wire_layout_test.cpp).
inline std::string le16(const std::vector<std::int16_t>& codes) {
  return firmware_protocol::pack_le16(codes);
}

// The int16 codes of a whole LE16 bytes field (WireLengthError for an odd byte count).
inline std::vector<std::int16_t> from_le16(const std::string& bytes) {
  return firmware_protocol::unpack_le16(bytes, bytes.size() / 2, "samples_le16");
}

// 64-bit FNV-1a over a byte string.
inline std::uint64_t fnv1a64(const std::string& bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : bytes) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

// Upper triangle (incl. diagonal, row by row: the wire's order) of a symmetric matrix given by
// a code function.
template <typename F>
std::vector<std::int16_t> upper_codes(std::uint32_t n, F code_of) {
  std::vector<std::int16_t> out(firmware_protocol::upper_triangle_size(n));
  firmware_protocol::for_each_upper_triangle(n, [&](std::size_t i, std::size_t j, std::size_t k) {
    out[k] = code_of(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j));
  });
  return out;
}

inline std::vector<Envelope> decode_replies(std::span<const std::uint8_t> bytes) {
  firmware_protocol::FrameDecoder decoder;
  decoder.feed(bytes);
  std::vector<Envelope> out;
  while (auto frame = decoder.next()) {
    EXPECT_FALSE(frame->error) << "the board sent a malformed frame";
    if (frame->error)
      continue;
    out.push_back(firmware_protocol::parse_envelope(frame->payload));
  }
  EXPECT_EQ(decoder.buffered_bytes(), 0u) << "the board sent a partial frame";
  return out;
}

class BoardClient {
 public:
  explicit BoardClient(const ResonatorConfig& config = {})
      : firmware_(make_resonator_firmware(config)), cells_(config.cells) {}
  // Any board's firmware (cells: the board's cell or node count).
  BoardClient(std::unique_ptr<FirmwareEndpoint> firmware, std::uint32_t cells)
      : firmware_(std::move(firmware)), cells_(cells) {}

  std::uint32_t cells() const { return cells_; }
  FirmwareEndpoint& firmware() { return *firmware_; }

  // A request envelope with the next request id and this build's protocol version.
  Envelope request() {
    Envelope e;
    e.set_protocol_version(firmware_protocol::kProtocolVersion);
    e.set_request_id(next_id_++);
    return e;
  }

  std::vector<Envelope> send_bytes(std::span<const std::uint8_t> bytes) {
    return decode_replies(firmware_->on_bytes(bytes));
  }

  // Sends one request and returns its single reply (checking the echoed id and version).
  Envelope exchange(const Envelope& req) {
    const auto replies = send_bytes(firmware_protocol::encode_envelope(req));
    EXPECT_EQ(replies.size(), 1u);
    if (replies.empty())
      return Envelope{};
    EXPECT_EQ(replies[0].request_id(), req.request_id());
    EXPECT_EQ(replies[0].protocol_version(), firmware_protocol::kProtocolVersion);
    return replies[0];
  }

  Envelope hello(std::uint32_t min_version = firmware_protocol::kProtocolVersion,
                 std::uint32_t max_version = firmware_protocol::kProtocolVersion) {
    Envelope e = request();
    e.mutable_hello()->set_min_version(min_version);
    e.mutable_hello()->set_max_version(max_version);
    e.mutable_hello()->set_client("sim_tests");
    return exchange(e);
  }

  Envelope program_couplings(const std::vector<std::int16_t>& upper) {
    Envelope e = request();
    e.mutable_program_couplings()->set_cells(cells_);
    e.mutable_program_couplings()->set_upper_codes_le16(le16(upper));
    return exchange(e);
  }

  Envelope program_biases(const std::vector<std::int16_t>& codes) {
    Envelope e = request();
    e.mutable_program_biases()->set_cells(cells_);
    e.mutable_program_biases()->set_codes_le16(le16(codes));
    return exchange(e);
  }

  Envelope set_noise(std::uint32_t code) {
    Envelope e = request();
    e.mutable_set_noise()->set_code(code);
    return exchange(e);
  }

  Envelope start_run(std::uint64_t duration_ticks, bool reset_state, bool accumulate_products,
                     bool record_samples) {
    Envelope e = request();
    auto* r = e.mutable_start_run();
    r->set_duration_ticks(duration_ticks);
    r->set_reset_state(reset_state);
    r->set_accumulate_products(accumulate_products);
    r->set_record_samples(record_samples);
    return exchange(e);
  }

  Envelope read_results(std::uint64_t run_id) {
    Envelope e = request();
    e.mutable_read_results()->set_run_id(run_id);
    return exchange(e);
  }

  // Any StartRun (v3 fields included), then its results (asserting both succeed).
  firmware_protocol::wire::RunResults run(const firmware_protocol::wire::StartRun& start) {
    Envelope e = request();
    *e.mutable_start_run() = start;
    const Envelope started = exchange(e);
    EXPECT_TRUE(started.has_run_started()) << started.DebugString();
    const Envelope results = read_results(started.run_started().run_id());
    EXPECT_TRUE(results.has_run_results()) << results.DebugString();
    return results.run_results();
  }

  Envelope set_quartic(const std::vector<std::int16_t>& codes) {
    Envelope e = request();
    e.mutable_set_quartic()->set_cells(cells_);
    e.mutable_set_quartic()->set_codes_le16(le16(codes));
    return exchange(e);
  }

  Envelope start_stream(const firmware_protocol::wire::StartStream& start) {
    Envelope e = request();
    *e.mutable_start_stream() = start;
    return exchange(e);
  }

  Envelope read_stream(std::uint32_t max_samples = 0) {
    Envelope e = request();
    e.mutable_read_stream()->set_max_samples(max_samples);
    return exchange(e);
  }

  // The resumable read (v6): acknowledges every sample before from_sequence.
  Envelope read_stream_from(std::uint64_t from_sequence, std::uint32_t max_samples = 0) {
    Envelope e = request();
    e.mutable_read_stream()->set_max_samples(max_samples);
    e.mutable_read_stream()->set_from_sequence(from_sequence);
    return exchange(e);
  }

  Envelope stop_stream() {
    Envelope e = request();
    e.mutable_stop_stream();
    return exchange(e);
  }

  // Starts a run of `samples` samples and reads its results (asserting both succeed).
  firmware_protocol::wire::RunResults run(std::uint64_t samples, bool reset_state,
                                          bool accumulate_products, bool record_samples) {
    const Envelope started =
        start_run(samples * 100, reset_state, accumulate_products, record_samples);
    EXPECT_TRUE(started.has_run_started()) << started.DebugString();
    const Envelope results = read_results(started.run_started().run_id());
    EXPECT_TRUE(results.has_run_results()) << results.DebugString();
    return results.run_results();
  }

 private:
  std::unique_ptr<FirmwareEndpoint> firmware_;
  std::uint32_t cells_;
  std::uint64_t next_id_ = 1;
};

// Asserts that a reply is an Error with the given code.
inline ::testing::AssertionResult IsError(const Envelope& reply, ErrorCode code) {
  if (!reply.has_error()) {
    return ::testing::AssertionFailure() << "expected an error reply, got " << reply.DebugString();
  }
  if (reply.error().code() != code) {
    return ::testing::AssertionFailure()
           << "expected " << firmware_protocol::wire::ErrorCode_Name(code) << ", got "
           << firmware_protocol::wire::ErrorCode_Name(reply.error().code()) << ": "
           << reply.error().message();
  }
  return ::testing::AssertionSuccess();
}

// The fixed 8-cell test system used by the replay tests: A = 0.6 on the diagonal, -0.1 between
// neighbours (an SPD tridiagonal matrix), biases spread over [-0.175, 0.175] V/us, noise code
// 2000 (D ~ 0.0305 V^2/us).
inline void program_reference_system(BoardClient& board) {
  const std::uint32_t n = board.cells();
  const auto a = upper_codes(n, [](std::uint32_t i, std::uint32_t j) -> std::int16_t {
    if (i == j)
      return 9830;  // 0.6 / 2^-14
    if (j == i + 1)
      return -1638;  // -0.1 / 2^-14
    return 0;
  });
  std::vector<std::int16_t> b(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    b[i] = static_cast<std::int16_t>(410 * (static_cast<int>(i) - static_cast<int>(n) / 2));
  }
  ASSERT_TRUE(board.program_couplings(a).has_ack());
  ASSERT_TRUE(board.program_biases(b).has_ack());
  ASSERT_TRUE(board.set_noise(2000).has_ack());
}

}  // namespace kelvin::sim_backend::testing
