#include "kelvin/firmware_protocol/envelope_codec.hpp"

#include <gtest/gtest.h>

namespace kelvin::firmware_protocol {
namespace {

TEST(EnvelopeCodec, RoundTripsARequestThroughAFrame) {
  firmware_protocol::wire::Envelope env;
  env.set_protocol_version(kProtocolVersion);
  env.set_request_id(42);
  env.mutable_start_run()->set_duration_ticks(12345);
  env.mutable_start_run()->set_accumulate_products(true);

  const auto frame = encode_envelope(env);
  const auto parsed = parse_envelope(decode_frame(frame));
  EXPECT_EQ(parsed.request_id(), 42u);
  ASSERT_TRUE(parsed.has_start_run());
  EXPECT_EQ(parsed.start_run().duration_ticks(), 12345u);
  EXPECT_TRUE(parsed.start_run().accumulate_products());
  EXPECT_EQ(body_name(parsed), "start_run");
}

TEST(EnvelopeCodec, RejectsPayloadThatIsNotAnEnvelope) {
  const std::vector<std::uint8_t> junk = {0xFF, 0xFF, 0xFF, 0xFF, 0x0F};
  EXPECT_THROW(parse_envelope(junk), MessageError);
}

TEST(EnvelopeCodec, RefusesAMessageLargerThanTheFrameLimit) {
  firmware_protocol::wire::Envelope env;
  env.mutable_program_couplings()->set_upper_codes_le16(std::string(2000, 'x'));
  EXPECT_THROW(encode_envelope(env, 1000), FrameError);
}

TEST(EnvelopeCodec, NamesAnEmptyBody) {
  EXPECT_EQ(body_name(firmware_protocol::wire::Envelope{}), "none");
}

}  // namespace
}  // namespace kelvin::firmware_protocol
