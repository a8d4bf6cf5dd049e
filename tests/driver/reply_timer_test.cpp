// The reply timer's arithmetic against RFC 6298, its clamps and its backoff, with exact
// nanosecond values (the estimator uses integer shifts, so every step is exact).
#include "kelvin/driver/reply_timer.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "driver_test_names.hpp"

namespace kelvin::driver {
namespace {

using D = ReplyTimer::Duration;

TEST(ReplyTimer, WaitsTheCeilingUntilARoundTripIsMeasured) {
  const ReplyTimer timer(20ms, 250ms, 4s);
  EXPECT_FALSE(timer.measured());
  EXPECT_EQ(timer.wait(), D(250ms));
  EXPECT_EQ(timer.smoothed_round_trip(), D(0));
}

TEST(ReplyTimer, FollowsRfc6298SmoothingAndWaitsFourDeviationsAboveTheMean) {
  ReplyTimer timer(1us, 1s, 16s);
  timer.on_reply(1ms);  // first sample: SRTT = R, RTTVAR = R/2
  EXPECT_EQ(timer.smoothed_round_trip(), D(1ms));
  EXPECT_EQ(timer.round_trip_variation(), D(500us));
  EXPECT_EQ(timer.wait(), D(3ms));
  timer.on_reply(2ms);  // RTTVAR += (|1 - 2| - 0.5) / 4, SRTT += (2 - 1) / 8
  EXPECT_EQ(timer.round_trip_variation(), D(625us));
  EXPECT_EQ(timer.smoothed_round_trip(), D(1125us));
  EXPECT_EQ(timer.wait(), D(3625us));
}

TEST(ReplyTimer, AnUnmeasuredReplyEndsTheBackoffButKeepsTheEstimate) {
  ReplyTimer timer(20ms, 250ms, 4s);
  timer.on_reply(10ms);  // estimate 10 + 4 x 5 = 30 ms
  timer.on_timeout();
  timer.on_timeout();
  EXPECT_EQ(timer.wait(), D(120ms));
  timer.end_backoff();
  EXPECT_EQ(timer.wait(), D(30ms));
  EXPECT_EQ(timer.smoothed_round_trip(), D(10ms));
  ReplyTimer fresh(20ms, 250ms, 4s);
  fresh.on_timeout();
  fresh.end_backoff();
  EXPECT_EQ(fresh.wait(), D(250ms));  // nothing measured yet: the ceiling again
}

TEST(ReplyTimer, KeepsTheWaitWithinFloorAndCeiling) {
  ReplyTimer timer(20ms, 250ms, 4s);
  for (int i = 0; i < 50; ++i)
    timer.on_reply(100us);  // a fast link: the estimate is far below the floor
  EXPECT_LT(timer.smoothed_round_trip(), D(1ms));
  EXPECT_EQ(timer.wait(), D(20ms));
  for (int i = 0; i < 50; ++i)
    timer.on_reply(2s);  // a slow board: the estimate is above the ceiling
  EXPECT_EQ(timer.wait(), D(250ms));
}

TEST(ReplyTimer, FollowsASlowerBoardWithinAFewReplies) {
  ReplyTimer timer(1ms, 1s, 16s);
  for (int i = 0; i < 50; ++i)
    timer.on_reply(1ms);
  // Replies now take 40 ms: the first one already lifts the wait above them (the deviation
  // term reacts at once), and it stays above them while the mean catches up.
  for (int i = 0; i < 40; ++i) {
    timer.on_reply(40ms);
    EXPECT_GT(timer.wait(), D(40ms)) << "after " << i + 1 << " slow replies";
  }
  const double srtt_ms =
      std::chrono::duration<double, std::milli>(timer.smoothed_round_trip()).count();
  EXPECT_NEAR(srtt_ms, 40, 0.5);
}

TEST(ReplyTimer, ConsecutiveTimeoutsDoubleTheWaitUpToTheLimitAndAReplyEndsTheBackoff) {
  ReplyTimer timer(20ms, 250ms, 1s);
  for (int i = 0; i < 10; ++i)
    timer.on_reply(100us);
  timer.on_timeout();
  EXPECT_EQ(timer.wait(), D(40ms));
  timer.on_timeout();
  timer.on_timeout();
  timer.on_timeout();
  EXPECT_EQ(timer.wait(), D(320ms));  // backoff may exceed the ceiling
  timer.on_timeout();
  timer.on_timeout();
  EXPECT_EQ(timer.wait(), D(1s));
  timer.on_reply(100us);
  EXPECT_EQ(timer.wait(), D(20ms));
}

TEST(ReplyTimer, AFixedTimerAlwaysWaitsItsWaitAndBacksOffToSixteenTimesIt) {
  ReplyTimer timer = ReplyTimer::fixed(250ms);
  timer.on_reply(100us);
  EXPECT_EQ(timer.wait(), D(250ms));
  for (int i = 0; i < 10; ++i)
    timer.on_timeout();
  EXPECT_EQ(timer.wait(), D(4s));
  timer.on_reply(3s);
  EXPECT_EQ(timer.wait(), D(250ms));
}

TEST(ReplyTimer, RefusesBoundsOutOfOrder) {
  EXPECT_EQ(kind_of([] { ReplyTimer(0ms, 250ms, 4s); }), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { ReplyTimer(300ms, 250ms, 4s); }), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { ReplyTimer(20ms, 250ms, 100ms); }), ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace kelvin::driver
