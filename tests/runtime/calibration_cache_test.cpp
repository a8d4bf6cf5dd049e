// The calibration cache (calibration/calibration_cache.hpp): an unchanged file is parsed once; a
// file replaced, created or removed between lookups is seen at the next one; a bad file is
// refused every time; and the natural-gradient estimator, which looks its calibration up at
// every estimate, applies a file rewritten between two steps from the second step on.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <Eigen/Dense>

#include "calibration_dir_fixture.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/runtime/calibration/calibration_cache.hpp"
#include "kelvin/runtime/calibration/calibration_file.hpp"
#include "kelvin/runtime/natural_gradient.hpp"
#include "kelvin/testing/boards.hpp"

namespace kelvin::runtime::calibration {
namespace {

namespace fs = std::filesystem;

// A nominal calibration for (serial, cells) with the given id.
BoardCalibration nominal(const std::string& serial, std::uint32_t cells, const std::string& id) {
  BoardCalibration c;
  c.serial = serial;
  c.id = id;
  c.date = "2026-12-07T00:00:00Z";
  c.conditions.cells = cells;
  c.coupling_dac_gain = {1.0, 1e-5};
  c.cells.assign(cells,
                 CellCalibration{{0.0, 0.25}, {1.0, 2e-5}, {1.0, 2e-5}, {1.0, 3e-3}, {1.0, 2e-3}});
  const auto n = static_cast<Eigen::Index>(cells);
  c.drift_programmed = Eigen::MatrixXd::Identity(n, n);
  c.drift = -Eigen::MatrixXd::Identity(n, n);
  c.drift_standard_error = Eigen::MatrixXd::Constant(n, n, 1e-3);
  return c;
}

// The calibration directory exists from the start (the automatic lookup reads it).
class CalibrationCacheTest : public CalibrationDirTest {
 protected:
  void SetUp() override {
    CalibrationDirTest::SetUp();
    fs::create_directories(dir_);
  }
};

TEST_F(CalibrationCacheTest, UnchangedFileIsParsedOnce) {
  const fs::path file = dir_ / "board.json";
  write_calibration(nominal("SIM-A", 4, "first"), file);
  CalibrationCache cache;
  const auto board = board_of("SIM-A", 4);
  const auto first = cache.resolve(CalibrationSelection::from_file(file), board);
  const auto second = cache.resolve(CalibrationSelection::from_file(file), board);
  EXPECT_EQ(first->id(), "first");
  EXPECT_EQ(second.get(), first.get());
  EXPECT_EQ(cache.reads(), 1u);
}

TEST_F(CalibrationCacheTest, ReplacedFileIsReadAgain) {
  const fs::path file = dir_ / "board.json";
  const auto board = board_of("SIM-A", 4);
  write_calibration(nominal("SIM-A", 4, "first"), file);
  CalibrationCache cache;
  const auto first = cache.resolve(CalibrationSelection::from_file(file), board);
  // Same size, written at once: only the new inode (write_calibration renames) tells them apart.
  write_calibration(nominal("SIM-A", 4, "other"), file);
  const auto second = cache.resolve(CalibrationSelection::from_file(file), board);
  EXPECT_EQ(second->id(), "other");
  EXPECT_EQ(cache.reads(), 2u);
  EXPECT_EQ(first->id(), "first");  // what an earlier job applied stays as it was
}

TEST_F(CalibrationCacheTest, AutomaticLookupSeesFilesAppearAndDisappear) {
  CalibrationCache cache;
  const auto board = board_of("SIM-B", 4);
  EXPECT_FALSE(cache.resolve(CalibrationSelection::automatic(), board)->applied());
  write_calibration(nominal("SIM-B", 4, "measured"), calibration_path("SIM-B"));
  EXPECT_EQ(cache.resolve(CalibrationSelection::automatic(), board)->id(), "measured");
  fs::remove(calibration_path("SIM-B"));
  EXPECT_FALSE(cache.resolve(CalibrationSelection::automatic(), board)->applied());
  EXPECT_FALSE(cache.resolve(CalibrationSelection::none(), board)->applied());
}

TEST_F(CalibrationCacheTest, BadFilesAreRefusedEveryTime) {
  const fs::path file = dir_ / "board.json";
  std::ofstream(file) << "{ not json";
  CalibrationCache cache;
  const auto board = board_of("SIM-C", 4);
  EXPECT_THROW(cache.resolve(CalibrationSelection::from_file(file), board), common::Error);
  EXPECT_THROW(cache.resolve(CalibrationSelection::from_file(file), board), common::Error);
  EXPECT_THROW(cache.resolve(CalibrationSelection::from_file(dir_ / "missing.json"), board),
               common::Error);
  // Another board's file, once accepted for its own board, is still refused for this one.
  write_calibration(nominal("SIM-D", 4, "d"), file);
  EXPECT_EQ(cache.resolve(CalibrationSelection::from_file(file), board_of("SIM-D", 4))->id(), "d");
  EXPECT_THROW(cache.resolve(CalibrationSelection::from_file(file), board), common::Error);
}

// Two steps of the row-space path (12 parameters on 4 cells), the file rewritten between them:
// each step reports the calibration it applied.
TEST_F(CalibrationCacheTest, EstimatorAppliesAFileRewrittenBetweenSteps) {
  auto board = testing::open_resonator_board(4, 3);
  const auto& d = board.description();
  const fs::path file = dir_ / "board.json";
  write_calibration(nominal(d.serial, d.cells, "before"), file);
  NaturalGradientOptions o;
  o.damping = 0.1;
  o.repeats = 2;
  o.calibration = CalibrationSelection::from_file(file);
  NaturalGradientEstimator estimator(board, o);
  Eigen::MatrixXd J(2, 12);
  for (Eigen::Index j = 0; j < 12; ++j) {
    J(0, j) = 0.1 * static_cast<double>(j % 5) + 0.2;
    J(1, j) = 0.3 * static_cast<double>(j % 3) - 0.25;
  }
  const Eigen::MatrixXd H = Eigen::MatrixXd::Identity(2, 2);
  const Eigen::VectorXd g = Eigen::VectorXd::LinSpaced(12, -1.0, 1.0);
  const auto first = estimator.estimate(g, J, H);
  EXPECT_EQ(first.summary.method, "row space");
  EXPECT_EQ(first.summary.calibration, "before");
  write_calibration(nominal(d.serial, d.cells, "after"), file);
  EXPECT_EQ(estimator.estimate(g, J, H).summary.calibration, "after");
  fs::remove(file);
  EXPECT_THROW(estimator.estimate(g, J, H), common::Error);  // a given file must exist
}

}  // namespace
}  // namespace kelvin::runtime::calibration
