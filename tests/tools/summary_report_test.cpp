// Every job's Summary lists its fields once (runtime/.../report.hpp); its full report and its
// JSON (the CLI's one writer) are both made from that list. These tests run each job on an
// emulated board, walk its Summary's fields (groups included) and check that every field
// appears in the JSON under its key with its value, and in the full report on its own line with
// its label and value text, and that the JSON holds nothing else (so no two fields share a key).
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <Eigen/Dense>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/block_solve.hpp"
#include "kelvin/runtime/calibration/calibrate.hpp"
#include "kelvin/runtime/inverse.hpp"
#include "kelvin/runtime/logdet.hpp"
#include "kelvin/runtime/natural_gradient.hpp"
#include "kelvin/runtime/pbit/dtm_chain.hpp"
#include "kelvin/runtime/pbit/ising_sampling.hpp"
#include "kelvin/runtime/pbit/parallel_tempering.hpp"
#include "kelvin/runtime/pbit/partitioned_sampling.hpp"
#include "kelvin/runtime/quartic_generation.hpp"
#include "kelvin/runtime/selftest/selftest.hpp"
#include "kelvin/runtime/solve.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "quartic_generator_fixture.hpp"
#include "spd_fixtures.hpp"

namespace kelvin::tools::cli {
namespace {

using runtime::ReportField;
using runtime::ReportFields;

driver::ResonatorBoard resonator(std::uint32_t cells = 4) {
  return driver::ResonatorBoard(
      driver::backends::open("sim:resonator?cells=" + std::to_string(cells) + "&seed=3"));
}

driver::PbitBoard pbit() {
  return driver::PbitBoard(driver::backends::open("sim:pbit?rows=4&cols=4&degree=8&seed=3"));
}

// The report's lines, for finding a field's line by its label.
std::vector<std::string> lines_of(const std::string& report) {
  std::vector<std::string> lines;
  std::string::size_type begin = 0;
  while (begin < report.size()) {
    const auto end = report.find('\n', begin);
    lines.push_back(report.substr(begin, end - begin));
    begin = end == std::string::npos ? report.size() : end + 1;
  }
  return lines;
}

// Checks one level of fields against its JSON object and the report; recurses into groups.
void expect_in_both(const ReportFields& fields, const Json& object,
                    const std::vector<std::string>& report, int indent, const std::string& path) {
  ASSERT_TRUE(object.is_object()) << path;
  std::set<std::string> keys;
  for (const ReportField& f : fields) {
    const std::string where = path + "/" + f.key;
    EXPECT_TRUE(keys.insert(f.key).second) << "two fields share the key " << where;
    ASSERT_TRUE(object.contains(f.key)) << where << " is missing from the JSON";
    const Json& value = object.at(f.key);
    // The report line of this field: the indentation, the label padded to its column (28
    // characters less the indentation), a space, the value; a group's line is its label alone
    // or with its note.
    const bool is_group = std::holds_alternative<ReportFields>(f.value);
    std::string prefix = std::string(static_cast<std::size_t>(indent) + 2, ' ') + f.label;
    if (!is_group) {
      const std::size_t column =
          static_cast<std::size_t>(indent) + 2 + static_cast<std::size_t>(std::max(28 - indent, 1));
      if (prefix.size() < column)
        prefix.append(column - prefix.size(), ' ');
      prefix += ' ';
    }
    bool found = false;
    for (const std::string& line : report) {
      const bool match = is_group ? (line == prefix || line.rfind(prefix + " (", 0) == 0)
                                  : line.rfind(prefix, 0) == 0;
      if (!match)
        continue;
      found = true;
      if (!std::holds_alternative<ReportFields>(f.value)) {
        EXPECT_NE(line.find(runtime::report_text(f)), std::string::npos)
            << where << ": the report line '" << line << "' lacks the value";
      }
      break;
    }
    EXPECT_TRUE(found) << where << " (label '" << f.label << "') is missing from the report";
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, ReportFields>) {
            expect_in_both(v, value, report, indent + 2, where);
          } else if constexpr (std::is_same_v<V, std::monostate>) {
            EXPECT_TRUE(value.is_null()) << where;
          } else {
            EXPECT_EQ(value, Json(v)) << where;
          }
        },
        f.value);
  }
  // Nothing in the JSON that is not a field (the summary object also holds "brief").
  for (const auto& [key, unused] : object.items()) {
    if (path.empty() && key == "brief")
      continue;
    EXPECT_TRUE(keys.contains(key)) << path << "/" << key << " is in the JSON but not a field";
  }
}

template <typename Summary>
void expect_fields_in_json_and_report(const Summary& summary) {
  const ReportFields fields = summary.fields();
  ASSERT_FALSE(fields.empty());
  const Json json = summary_json(summary);
  EXPECT_EQ(json.at("brief"), summary.brief_report());
  expect_in_both(fields, json, lines_of(summary.full_report()), 0, "");
  // The energy ledger's JSON keeps the keys scripts read.
  for (const char* key : {"total_j", "analog_j", "dac_j", "adc_j", "io_j", "host_j",
                          "gpu_equivalent_j", "io_bytes", "host_flops", "gpu_flops", "brief"})
    EXPECT_TRUE(json.at("energy").contains(key)) << key;
}

TEST(SummaryReport, DirectSolveFieldsAppearInTheJsonAndTheFullReport) {
  auto board = resonator();
  const auto r = runtime::solve(board, runtime::testing::random_spd(4, 10.0, 1),
                                runtime::testing::random_vector(4, 2));
  ASSERT_EQ(r.summary.method, "direct");
  expect_fields_in_json_and_report(r.summary);
  // The fields a script reads, and the two the JSON used to leave out.
  const Json json = summary_json(r.summary);
  for (const char* key : {"serial", "cells", "unknowns", "coupling_scale", "quantization_shift",
                          "batches", "samples", "wall_time_s", "range_gain", "randomized_rounding"})
    EXPECT_TRUE(json.contains(key)) << key;
  EXPECT_TRUE(json.at("preconditioning").contains("predicted_quantization_error"));
}

TEST(SummaryReport, CalibrationFieldsAppearInTheJsonAndTheFullReport) {
  auto board = resonator();
  runtime::calibration::CalibrationOptions o;
  o.mean_samples = 1 << 14;
  o.drift_samples = 1 << 12;
  const auto r = runtime::calibration::calibrate(board, o);
  expect_fields_in_json_and_report(r.summary);
  const Json json = summary_json(r.summary);
  for (const char* key : {"calibration_id", "adc_offset_codes", "adc_gain", "coupling_dac_gain",
                          "temperature", "calibration", "calibration_file"})
    EXPECT_TRUE(json.contains(key)) << key;
}

TEST(SummaryReport, QuarticGenerationFieldsAppearInTheJsonAndTheFullReport) {
  auto board = resonator();
  runtime::QuarticGenerationOptions o;
  o.samples = 3;
  o.calibration = runtime::calibration::CalibrationSelection::none();
  const auto r =
      runtime::generate_quartic(board, kelvin::testing::quartic::double_wells(4, 1311), o);
  expect_fields_in_json_and_report(r.summary);
  const Json json = summary_json(r.summary);
  for (const char* key : {"heat_mean_kt", "heat_stderr_kt", "heat_dof", "clipped_generated",
                          "wall_time_per_sample_s"})
    EXPECT_TRUE(json.contains(key)) << key;
}

TEST(SummaryReport, BlockSolveThroughSolveFieldsAppearInTheJsonAndTheFullReport) {
  auto board = resonator();
  const auto r = runtime::solve(board, runtime::testing::random_spd(9, 10.0, 3),
                                runtime::testing::random_vector(9, 4));
  ASSERT_EQ(r.summary.method, "block");
  expect_fields_in_json_and_report(r.summary);
  const Json json = summary_json(r.summary);
  for (const char* key : {"block_size", "blocks", "backend", "iterations", "converged",
                          "relative_residual", "residual_history", "block_solves"})
    EXPECT_TRUE(json.contains(key)) << key;
}

TEST(SummaryReport, BlockSolveFieldsAppearInTheJsonAndTheFullReport) {
  auto board = resonator();
  runtime::BlockSolveOptions options;
  options.block_size = 3;
  const auto r = runtime::block_solve(&board, runtime::testing::random_spd(7, 10.0, 5),
                                      runtime::testing::random_vector(7, 6), options);
  expect_fields_in_json_and_report(r.summary);
}

TEST(SummaryReport, InverseFieldsAppearInTheJsonAndTheFullReport) {
  auto board = resonator();
  runtime::InverseOptions options;
  options.batches = 4;
  options.batch_relaxation_times = 20.0;
  expect_fields_in_json_and_report(
      runtime::inverse(board, runtime::testing::random_spd(3, 5.0, 7), options).summary);
}

TEST(SummaryReport, LogdetWithBothRampsFieldsAppearInTheJsonAndTheFullReport) {
  auto board = resonator();
  runtime::LogdetOptions options;
  options.trajectories = 8;
  options.steps = 4;
  options.estimator = runtime::LogdetEstimator::kBennett;
  expect_fields_in_json_and_report(
      runtime::logdet(board, runtime::testing::random_spd(3, 5.0, 8), options).summary);
}

TEST(SummaryReport, NaturalGradientFieldsAppearInTheJsonAndTheFullReport) {
  auto board = resonator();
  runtime::NaturalGradientEstimator estimator(board);
  expect_fields_in_json_and_report(
      estimator
          .estimate(runtime::testing::random_vector(3, 9), runtime::testing::random_spd(3, 5.0, 10))
          .summary);
}

runtime::IsingModel chain_model() {
  runtime::IsingModel model;
  model.nodes = 3;
  model.edges = {{0, 1, 2}, {1, 2, -1}};
  model.bias = {1, 0, 0};
  return model;
}

TEST(SummaryReport, IsingSamplingFieldsAppearInTheJsonAndTheFullReport) {
  auto board = pbit();
  runtime::IsingSamplingOptions options;
  options.sweeps = 50;
  expect_fields_in_json_and_report(runtime::sample_ising(board, chain_model(), options).summary);
}

TEST(SummaryReport, PartitionedSamplingFieldsAppearInTheJsonAndTheFullReport) {
  auto board = pbit();  // one rank: the whole 3 x 4 grid on the 3 x 4 lattice
  runtime::LocalCollective group;
  runtime::PartitionedSamplingOptions options;
  options.chains = 1;
  options.sweeps = 50;
  expect_fields_in_json_and_report(runtime::sample_partitioned(group, board,
                                                               runtime::grid_model(3, 4, 2, 1, 1),
                                                               std::vector<int>(12, 0), options)
                                       .summary);
}

TEST(SummaryReport, ParallelTemperingFieldsAppearInTheJsonAndTheFullReport) {
  auto board = pbit();
  runtime::ParallelTemperingOptions options;
  options.betas = {0.25, 0.5, 1.0};
  options.max_sweeps = 40;
  options.target_energy = -100;  // never reached: sweeps_to_target stays null
  expect_fields_in_json_and_report(
      runtime::run_parallel_tempering(board, chain_model(), options).summary);
}

TEST(SummaryReport, DenoisingChainFieldsAppearInTheJsonAndTheFullReport) {
  auto board = pbit();
  runtime::DenoisingStep step;
  step.program.weights.assign(board.lattice().edges().size(), 0);
  step.program.biases.assign(board.nodes(), 0);
  step.input_nodes = {0};
  step.output_nodes = {1};
  runtime::DenoisingOptions options;
  options.sweeps = 20;
  const runtime::DenoisingStep steps[] = {step};
  expect_fields_in_json_and_report(runtime::run_denoising_chain(board, steps, {}, options).summary);
}

TEST(SummaryReport, SelftestFieldsAppearInTheJsonAndTheFullReport) {
  runtime::selftest::Options options;
  options.samples = 4096;
  options.stream_samples = 1000;
  driver::ResonatorBoard board(driver::backends::open("sim:resonator?cells=3&defect=offset:2"));
  const auto summary = runtime::selftest::run_resonator_selftest(board, options);
  ASSERT_FALSE(summary.passed());
  expect_fields_in_json_and_report(summary);
  const Json json = summary_json(summary);
  for (const char* key : {"family", "passed", "checks_failed", "failures", "pairs_tested"})
    EXPECT_TRUE(json.contains(key)) << key;
}

}  // namespace
}  // namespace kelvin::tools::cli
