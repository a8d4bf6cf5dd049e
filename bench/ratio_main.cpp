// main() for kelvin_bench: runs the benchmarks like benchmark_main, then prints a table of each
// registered pair (ratio.hpp): the measured benchmark's median, its baseline's median from the same
// run, and their ratio; `--kelvin_json=FILE` also writes the table, the machine and every
// benchmark's median and counters as one JSON object (docs/performance.md).
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "ratio.hpp"

namespace {

using Json = nlohmann::ordered_json;

// One benchmark's result: the median over repetitions, or the single run.
struct Result {
  double real_ns = 0.0;  // per iteration
  std::map<std::string, double> counters;
};

class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      const bool single = run.run_type == Run::RT_Iteration && run.repetitions <= 1;
      if (!median && !single)
        continue;
      Result r;
      // GetAdjustedRealTime() is in the run's time unit; the multiplier is units per second.
      r.real_ns = run.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(run.time_unit) * 1e9;
      for (const auto& [name, counter] : run.counters)
        r.counters[name] = counter.value;
      results_[run.run_name.str()] = r;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  const std::map<std::string, Result>& results() const { return results_; }

 private:
  std::map<std::string, Result> results_;
};

// Time per unit of work: from the rate counter both sides report (items, then bytes), else the
// time per iteration. Returns the unit's name too.
struct Cost {
  double measured = 0.0;
  double baseline = 0.0;
  std::string unit;
};

Cost cost_of(const Result& measured, const Result& baseline) {
  for (const char* rate : {"items_per_second", "bytes_per_second"}) {
    const auto m = measured.counters.find(rate);
    const auto b = baseline.counters.find(rate);
    if (m != measured.counters.end() && b != baseline.counters.end() && m->second > 0 &&
        b->second > 0)
      return {1e9 / m->second, 1e9 / b->second,
              std::string(rate) == "items_per_second" ? "ns/item" : "ns/byte"};
  }
  return {measured.real_ns, baseline.real_ns, "ns/iteration"};
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0)
      return line.substr(line.find(':') + 2);
  return "unknown";
}

std::string take_json_flag(int& argc, char** argv) {
  std::string path;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--kelvin_json=", 0) == 0)
      path = arg.substr(14);
    else
      argv[out++] = argv[i];
  }
  argc = out;
  return path;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);  // keep the library's info logs out of the table
  const std::string json_path = take_json_flag(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  Json table = Json::array();
  fmt::print(
      "\nRatios to baselines measured in the same run (cost per unit of work; < 1 means "
      "faster than the baseline):\n");
  fmt::print("  {:<44} {:<36} {:>12} {:>12} {:>8}  {}\n", "measured", "baseline", "measured",
             "baseline", "ratio", "unit");
  const auto& results = reporter.results();
  for (const auto& pair : kelvin::bench::ratio_pairs()) {
    for (const auto& [name, result] : results) {
      if (name.rfind(pair.measured, 0) != 0)
        continue;
      const std::string suffix = name.substr(pair.measured.size());
      if (!suffix.empty() && suffix[0] != '/')
        continue;  // another benchmark that shares the prefix
      auto base = results.find(pair.baseline + suffix);
      if (base == results.end())
        base = results.find(pair.baseline);
      if (base == results.end())
        continue;
      const Cost c = cost_of(result, base->second);
      if (c.baseline <= 0.0)
        continue;
      const double ratio = c.measured / c.baseline;
      fmt::print("  {:<44} {:<36} {:>12.4g} {:>12.4g} {:>8.3f}  {}\n", name, base->first,
                 c.measured, c.baseline, ratio, c.unit);
      table.push_back({{"measured", name},
                       {"baseline", base->first},
                       {"what", pair.what},
                       {"unit", c.unit},
                       {"measured_cost", c.measured},
                       {"baseline_cost", c.baseline},
                       {"ratio", ratio}});
    }
  }
  if (json_path.empty())
    return 0;
  Json benchmarks = Json::object();
  for (const auto& [name, result] : results) {
    Json counters = Json::object();
    for (const auto& [counter, value] : result.counters)
      counters[counter] = value;
    benchmarks[name] = {{"real_ns_per_iteration", result.real_ns}, {"counters", counters}};
  }
  const Json report = {
      {"machine", {{"nproc", std::thread::hardware_concurrency()}, {"cpu_model", cpu_model()}}},
      {"statistic", "median over repetitions (or the single run)"},
      {"ratios", table},
      {"benchmarks", benchmarks}};
  std::ofstream out(json_path);
  out << report.dump(2) << '\n';
  if (!out) {
    fmt::print(stderr, "kelvin_bench: cannot write {}\n", json_path);
    return 1;
  }
  fmt::print("\nwrote {}\n", json_path);
  return 0;
}
