// kelvin stream and kelvin ping, end to end on the emulated board (healthy and faulty links).
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_runner.hpp"

namespace kelvin::tools::matrix_io::testing {
namespace {

TEST(KelvinStream, JsonAccountsForEverySampleOnAHealthyLink) {
  TempDir dir;
  // A reply slower than the reply timeout counts as lost; a loaded test machine can be slow. The
  // ring holds 2 s of samples (not the default 0.26 s at 8 cells), so that a reader descheduled
  // on a loaded machine does not overflow it: this test is about accounting, not speed.
  const Outcome o =
      run_kelvin(dir, {"stream", "--uri", "sim:resonator?cells=8&ring=2000000", "--duration", "0.2",
                       "--reply-timeout-ms", "5000", "--json", "--strict"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const json r = parse_stdout(o);
  EXPECT_GT(r["received"].get<std::uint64_t>(), 10'000u);
  EXPECT_EQ(r["lost"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(r["gaps"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(r["overflows"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(r["produced"].get<std::uint64_t>(), r["received"].get<std::uint64_t>());
  EXPECT_TRUE(r["accounted"].get<bool>());
  EXPECT_TRUE(r.contains("energy"));
  // Waits are fixed by default: the full reply timeout, whatever the round trip.
  EXPECT_GT(r["round_trip_us"].get<double>(), 0.0);
  EXPECT_EQ(r["reply_wait_us"].get<double>(), 5'000'000.0);
}

TEST(KelvinStream, AdaptiveWaitsStayWithinTheFloorAndTheReplyTimeout) {
  TempDir dir;
  const Outcome o = run_kelvin(dir, {"stream", "--duration", "0.1", "--reply-timeout-ms", "3000",
                                     "--min-reply-timeout-ms", "50", "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const json r = parse_stdout(o);
  EXPECT_GT(r["round_trip_us"].get<double>(), 0.0);
  EXPECT_GE(r["reply_wait_us"].get<double>(), 50'000.0);
  EXPECT_LT(r["reply_wait_us"].get<double>(), 3'000'000.0);
}

TEST(KelvinStream, PlainReadsAndAFloorEqualToTheTimeoutWaitTheFullTimeout) {
  TempDir dir;
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--plain-reads", "--min-reply-timeout-ms", "50"},
        std::vector<std::string>{"--min-reply-timeout-ms", "3000"}}) {
    std::vector<std::string> args{"stream", "--duration", "0.1", "--reply-timeout-ms",
                                  "3000",   "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const Outcome o = run_kelvin(dir, args);
    ASSERT_EQ(o.exit_code, 0) << extra[0] << ": " << o.err;
    EXPECT_EQ(parse_stdout(o)["reply_wait_us"].get<double>(), 3'000'000.0) << extra[0];
  }
}

TEST(KelvinStream, RefusesAFloorAboveTheReplyTimeoutNamingBothOptions) {
  TempDir dir;
  const Outcome o = run_kelvin(dir, {"stream", "--duration", "0.1", "--reply-timeout-ms", "100",
                                     "--min-reply-timeout-ms", "200"});
  EXPECT_EQ(o.exit_code, 2) << o.err;
  EXPECT_NE(o.err.find("--min-reply-timeout-ms 200 is above --reply-timeout-ms 100"),
            std::string::npos)
      << o.err;
}

// A freshly opened emulated board holds no program, so --no-program cannot stream it; the
// refusal says why and what to do.
TEST(KelvinStream, NoProgramOnAFreshBoardSaysToDropTheOption) {
  TempDir dir;
  const Outcome outcome = run_kelvin(dir, {"stream", "--no-program", "--duration", "0.1"});
  EXPECT_EQ(outcome.exit_code, 1);
  const std::string line = expect_one_error_line(outcome);
  EXPECT_NE(line.find("NOT_PROGRAMMED"), std::string::npos) << line;
  EXPECT_NE(line.find("drop --no-program"), std::string::npos) << line;
}

TEST(KelvinStream, StrictExitsNonZeroOnLossAfterPrintingTheCounts) {
  TempDir dir;
  const Outcome o = run_kelvin(
      dir, {"stream", "--uri", "sim:resonator?cells=8&seed=1&fault=drop:0.05,overflow:0.05",
            "--duration", "0.3", "--reply-timeout-ms", "200", "--json", "--strict"});
  EXPECT_EQ(o.exit_code, 3) << o.err;
  const json r = parse_stdout(o);
  const auto lost = r["lost"].get<std::uint64_t>();
  EXPECT_GT(lost, 0u);
  EXPECT_EQ(r["overflow_lost"].get<std::uint64_t>() + r["transit_lost"].get<std::uint64_t>(), lost);
  EXPECT_GT(r["gaps"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(r["produced"].get<std::uint64_t>(), r["received"].get<std::uint64_t>() + lost);
  EXPECT_NE(o.err.find("--strict"), std::string::npos) << o.err;

  // Without --strict the same loss is reported and the exit code is 0.
  const Outcome lenient =
      run_kelvin(dir, {"stream", "--uri", "sim:resonator?cells=8&seed=1&fault=drop:0.05",
                       "--duration", "0.2", "--reply-timeout-ms", "200", "--json"});
  EXPECT_EQ(lenient.exit_code, 0) << lenient.err;
}

TEST(KelvinStream, OutputFileHoldsTheSamplesAndListsTheGaps) {
  TempDir dir;
  const auto file = dir / "run.npy";
  const Outcome o = run_kelvin(
      dir, {"stream", "--uri", "sim:resonator?cells=4&seed=2&fault=drop:0.05", "--duration", "0.2",
            "--reply-timeout-ms", "200", "-o", file.string(), "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const json r = parse_stdout(o);
  const auto received = r["received"].get<std::uint64_t>();

  std::ifstream npy(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(npy)), std::istreambuf_iterator<char>());
  ASSERT_GE(bytes.size(), 128u);
  EXPECT_EQ(bytes.substr(1, 5), "NUMPY");
  EXPECT_NE(bytes.find("'shape': (" + std::to_string(received) + ", 4)"), std::string::npos)
      << bytes.substr(0, 128);
  EXPECT_EQ(bytes.size(), 128u + received * 4 * sizeof(std::int16_t));

  std::ifstream sidecar(file.string() + ".json");
  const json meta = json::parse(sidecar);
  EXPECT_EQ(meta["rows"].get<std::uint64_t>(), received);
  EXPECT_EQ(meta["gaps_total"].get<std::uint64_t>(), r["gaps"].get<std::uint64_t>());
  std::uint64_t listed_lost = 0;
  for (const auto& gap : meta["gaps"])
    listed_lost += gap["lost"].get<std::uint64_t>();
  EXPECT_EQ(listed_lost, r["lost"].get<std::uint64_t>());
  EXPECT_GT(meta["adc"]["lsb"].get<double>(), 0.0);
}

TEST(KelvinStream, ADisconnectFailsWithOneErrorLineAndKeepsTheFile) {
  TempDir dir;
  const auto file = dir / "cut.npy";
  const Outcome o =
      run_kelvin(dir, {"stream", "--uri", "sim:resonator?cells=4&fault=disconnect:200ms",
                       "--duration", "5", "-o", file.string()});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find("disconnected"), std::string::npos) << o.err;
  std::ifstream sidecar(file.string() + ".json");
  ASSERT_TRUE(sidecar.good());
  const json meta = json::parse(sidecar);
  EXPECT_TRUE(meta.contains("error"));
  EXPECT_GT(meta["rows"].get<std::uint64_t>(), 0u);
}

TEST(KelvinPing, JsonReportsRoundTripStatistics) {
  TempDir dir;
  const Outcome o = run_kelvin(dir, {"ping", "-n", "20", "--payload", "256", "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const json r = parse_stdout(o);
  EXPECT_EQ(r["received"].get<int>(), 20);
  EXPECT_EQ(r["lost"].get<int>(), 0);
  EXPECT_GT(r["median_us"].get<double>(), 0.0);
  EXPECT_LE(r["min_us"].get<double>(), r["median_us"].get<double>());
  EXPECT_LE(r["median_us"].get<double>(), r["max_us"].get<double>());
  EXPECT_EQ(r["round_trips_us"].size(), 20u);
}

TEST(KelvinPing, CountsLostPingsOnALossyLink) {
  TempDir dir;
  const Outcome o = run_kelvin(dir, {"ping", "--uri", "sim:resonator?cells=4&fault=drop:0.3", "-n",
                                     "40", "--timeout-ms", "30", "--json"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const json r = parse_stdout(o);
  EXPECT_GT(r["lost"].get<int>(), 0);
  EXPECT_EQ(r["lost"].get<int>() + r["received"].get<int>(), 40);
}

}  // namespace
}  // namespace kelvin::tools::matrix_io::testing
