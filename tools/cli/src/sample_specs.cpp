#include "sample_specs.hpp"

#include <cmath>
#include <exception>

#include <fmt/format.h>

#include "kelvin/runtime/pbit/parallel_tempering.hpp"
#include "kelvin/tools/cli/options.hpp"

namespace kelvin::tools::cli {
namespace {

// A double or an integer that must fill all of `text`.
double parse_double(const std::string& text, const std::string& what) {
  std::size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !std::isfinite(value))
    throw UsageError(fmt::format("{}: '{}' is not a number", what, text));
  return value;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string::size_type begin = 0;
  for (;;) {
    const auto end = text.find(separator, begin);
    parts.push_back(text.substr(begin, end - begin));
    if (end == std::string::npos)
      return parts;
    begin = end + 1;
  }
}

}  // namespace

// --tempering BMIN:BMAX:R -> the geometric ladder.
std::vector<double> parse_tempering(const std::string& spec) {
  const auto parts = split(spec, ':');
  if (parts.size() != 3)
    throw UsageError(fmt::format("--tempering: '{}' is not BMIN:BMAX:R", spec));
  const double beta_min = parse_double(parts[0], "--tempering BMIN");
  const double beta_max = parse_double(parts[1], "--tempering BMAX");
  const double replicas = parse_double(parts[2], "--tempering R");
  if (!(beta_min > 0.0 && beta_max > beta_min))
    throw UsageError(fmt::format("--tempering: needs 0 < BMIN < BMAX, got '{}'", spec));
  if (replicas != std::floor(replicas) || replicas < 2 || replicas > 1024)
    throw UsageError(fmt::format("--tempering: R = {} must be an integer in [2, 1024]", parts[2]));
  return runtime::geometric_ladder(beta_min, beta_max, static_cast<int>(replicas));
}

// --beta-schedule: "b0,b1,..." or "FROM:TO:SWEEPS" -> beta per sweep (the last one holds).
std::vector<double> parse_beta_schedule(const std::string& spec, std::size_t max_length) {
  std::vector<double> betas;
  if (spec.find(':') != std::string::npos) {
    const auto parts = split(spec, ':');
    if (parts.size() != 3)
      throw UsageError(fmt::format("--beta-schedule: '{}' is not FROM:TO:SWEEPS", spec));
    const double from = parse_double(parts[0], "--beta-schedule FROM");
    const double to = parse_double(parts[1], "--beta-schedule TO");
    const double sweeps = parse_double(parts[2], "--beta-schedule SWEEPS");
    if (sweeps != std::floor(sweeps) || sweeps < 1 || sweeps > static_cast<double>(max_length)) {
      throw UsageError(fmt::format("--beta-schedule: SWEEPS = {} must be an integer in [1, {}]",
                                   parts[2], max_length));
    }
    const auto n = static_cast<std::size_t>(sweeps);
    for (std::size_t k = 0; k < n; ++k)
      betas.push_back(n == 1 ? to : from + (to - from) * double(k) / double(n - 1));
  } else {
    for (const std::string& part : split(spec, ','))
      betas.push_back(parse_double(part, "--beta-schedule"));
    if (betas.size() > max_length) {
      throw UsageError(fmt::format("--beta-schedule: {} betas, the board holds at most {}",
                                   betas.size(), max_length));
    }
  }
  for (const double b : betas) {
    if (b < 0.0)
      throw UsageError(fmt::format("--beta-schedule: beta {} is negative", b));
  }
  return betas;
}

runtime::ErrorBars parse_error_bars(const std::string& name) {
  for (const auto e : {runtime::ErrorBars::kAuto, runtime::ErrorBars::kBetweenChains,
                       runtime::ErrorBars::kBatchMeans, runtime::ErrorBars::kNone}) {
    if (name == runtime::to_string(e))
      return e;
  }
  throw UsageError(
      fmt::format("--error-bars: '{}' is not one of auto, chains, batches, none", name));
}

}  // namespace kelvin::tools::cli
