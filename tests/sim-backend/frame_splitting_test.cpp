// The firmware must answer the same whatever byte boundaries the transport delivers frames on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "board_client.hpp"

namespace kelvin::sim_backend::testing {
namespace {

// A whole session's worth of request frames, concatenated.
std::vector<std::uint8_t> session_bytes() {
  BoardClient builder;  // only used to number the requests
  std::vector<Envelope> requests;
  Envelope e = builder.request();
  e.mutable_hello()->set_min_version(firmware_protocol::kProtocolVersion);
  e.mutable_hello()->set_max_version(firmware_protocol::kProtocolVersion);
  requests.push_back(e);
  e = builder.request();
  e.mutable_program_couplings()->set_cells(8);
  e.mutable_program_couplings()->set_upper_codes_le16(le16(upper_codes(
      8, [](std::uint32_t i, std::uint32_t j) -> std::int16_t { return i == j ? 9000 : -300; })));
  requests.push_back(e);
  e = builder.request();
  e.mutable_program_biases()->set_cells(8);
  e.mutable_program_biases()->set_codes_le16(le16({100, -200, 300, -400, 500, -600, 700, -800}));
  requests.push_back(e);
  e = builder.request();
  e.mutable_set_noise()->set_code(3000);
  requests.push_back(e);
  e = builder.request();
  e.mutable_start_run()->set_duration_ticks(30000);
  e.mutable_start_run()->set_reset_state(true);
  e.mutable_start_run()->set_accumulate_products(true);
  e.mutable_start_run()->set_record_samples(true);
  requests.push_back(e);
  e = builder.request();
  e.mutable_start_run()->set_duration_ticks(15000);  // 150 samples, not recorded
  requests.push_back(e);
  e = builder.request();
  e.mutable_read_results()->set_run_id(1);
  requests.push_back(e);
  e = builder.request();
  e.mutable_read_results()->set_run_id(2);
  requests.push_back(e);
  e = builder.request();
  e.mutable_read_results()->set_run_id(1);  // already read: an error reply
  requests.push_back(e);

  std::vector<std::uint8_t> out;
  for (const Envelope& r : requests) {
    const auto frame = firmware_protocol::encode_envelope(r);
    out.insert(out.end(), frame.begin(), frame.end());
  }
  return out;
}

// Feeds `bytes` to a fresh board in chunks whose sizes come from `next_size`.
template <typename NextSize>
std::vector<std::uint8_t> replies_when_split(const std::vector<std::uint8_t>& bytes,
                                             NextSize next_size) {
  auto firmware = make_resonator_firmware(ResonatorConfig{});
  std::vector<std::uint8_t> out;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::size_t n = std::min(next_size(), bytes.size() - pos);
    const auto reply = firmware->on_bytes(std::span<const std::uint8_t>(bytes.data() + pos, n));
    out.insert(out.end(), reply.begin(), reply.end());
    pos += n;
  }
  return out;
}

TEST(FrameSplitting, ArbitraryByteBoundariesGiveTheSameReplies) {
  const auto bytes = session_bytes();
  const auto whole = replies_when_split(bytes, [&] { return bytes.size(); });
  const auto replies = decode_replies(whole);
  ASSERT_EQ(replies.size(), 9u);
  EXPECT_TRUE(replies[4].has_run_started());
  EXPECT_TRUE(replies[6].has_run_results());
  EXPECT_TRUE(replies[7].has_run_results());
  EXPECT_TRUE(IsError(replies[8], ErrorCode::ERROR_CODE_UNKNOWN_RUN));

  EXPECT_EQ(replies_when_split(bytes, [] { return std::size_t{1}; }), whole);
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> size(1, 97);
    EXPECT_EQ(replies_when_split(bytes, [&] { return size(rng); }), whole) << "seed " << seed;
  }
}

}  // namespace
}  // namespace kelvin::sim_backend::testing
