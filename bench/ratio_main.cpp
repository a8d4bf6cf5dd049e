// main() for kelvin_bench: runs the benchmarks like benchmark_main, then prints each kelvin
// benchmark's time relative to its baseline from the same run (medians when --benchmark_repetitions
// is given). Pairs are named in kRatios.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace {

// (measured, baseline) name prefixes; an argument suffix ("/8") is matched on both sides.
const std::vector<std::pair<std::string, std::string>> kRatios = {
    {"BM_EmulatedBoardRun", "BM_BaselineEigenStep"},
    {"BM_DeviceRequestRoundTrip", "BM_BaselineEncodeDecode"},
    {"BM_RlcBoardRun", "BM_EmulatedBoardRun"},
    {"BM_QuarticBoardRun", "BM_EmulatedBoardRun"},
    {"BM_PipelinedTrainingStep", "BM_SequentialTrainingStep"},
};

class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      const bool single = run.run_type == Run::RT_Iteration && run.repetitions <= 1;
      if (median || single)
        times_[run.run_name.str()] = run.GetAdjustedRealTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }
  const std::map<std::string, double>& times() const { return times_; }

 private:
  std::map<std::string, double> times_;
};

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);  // keep the library's info logs out of the table
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  fmt::print(
      "\nRatios to the same-run baseline (time per item; > 1 means slower than baseline):\n");
  for (const auto& [measured, baseline] : kRatios) {
    for (const auto& [name, time] : reporter.times()) {
      if (name.rfind(measured, 0) != 0)
        continue;
      const std::string suffix = name.substr(measured.size());
      const auto base = reporter.times().find(baseline + suffix);
      if (base == reporter.times().end() || base->second <= 0.0)
        continue;
      fmt::print("  {:<36} / {:<36} = {:6.2f}\n", name, base->first, time / base->second);
    }
  }
  return 0;
}
