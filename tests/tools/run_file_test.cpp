// kelvin::tools::run_file: what it refuses (an existing file, a path it cannot create, shapes that
// do not hold the values) with errors naming the file, and what it writes, read back through
// HDF5's C API as any reader would (the Python tests read the CLI's files with h5py).
#include <hdf5.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/tools/run_file/run_file.hpp"

namespace kelvin::tools::run_file {
namespace {

namespace fs = std::filesystem;

class RunFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("kelvin-run-file-" + std::to_string(rd()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  fs::path dir_;
};

// The message of the common::Error that `f` throws, with its kind checked.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const common::Error& e) {
    EXPECT_EQ(e.kind(), common::ErrorKind::kInvalidArgument);
    return e.what();
  }
  ADD_FAILURE() << "no common::Error thrown";
  return {};
}

TEST_F(RunFileTest, RefusesAnExistingFileAndLeavesItAlone) {
  const fs::path path = dir_ / "taken.h5";
  std::ofstream(path) << "keep";
  const std::string message = error_of([&] { RunFile::create(path); });
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("exists"), std::string::npos) << message;
  std::string kept;
  std::ifstream(path) >> kept;
  EXPECT_EQ(kept, "keep");
  // Replacing is asked for explicitly.
  RunFile replaced = RunFile::create(path, Existing::kReplace);
  replaced.close();
  EXPECT_GT(H5Fis_hdf5(path.c_str()), 0);
}

TEST_F(RunFileTest, NamesTheFileItCannotCreate) {
  const fs::path path = dir_ / "no-such-folder" / "run.h5";
  const std::string message = error_of([&] { RunFile::create(path); });
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("cannot create"), std::string::npos) << message;
}

TEST_F(RunFileTest, RefusesAShapeThatDoesNotHoldTheValues) {
  RunFile file = RunFile::create(dir_ / "shape.h5");
  const std::vector<double> values{1, 2, 3, 4, 5};
  const std::array<std::uint64_t, 2> two_by_two{2, 2};
  const std::string message =
      error_of([&] { file.write("/data/m", std::span<const double>(values), two_by_two); });
  EXPECT_NE(message.find("/data/m"), std::string::npos) << message;
  auto rows = file.appendable<std::int16_t>("/data/codes", 3);
  const std::vector<std::int16_t> partial{1, 2, 3, 4};
  error_of([&] { rows.append(partial); });
  EXPECT_EQ(rows.rows(), 0u);
}

TEST_F(RunFileTest, AppendedRowsAndAttributesReadBackThroughHdf5) {
  const fs::path path = dir_ / "append.h5";
  {
    RunFile file = RunFile::create(path);
    file.set_attribute("/", "command", "test");
    file.set_attribute("/", "seed", std::int64_t{42});
    auto rows = file.appendable<std::int16_t>("/data/codes", 2, 4);
    const std::vector<std::int16_t> first{1, 2, 3, 4, 5, 6};
    const std::vector<std::int16_t> second{7, 8};
    rows.append(first);
    rows.append(second);
    EXPECT_EQ(rows.rows(), 4u);
    file.close();  // closed for good when `rows` goes too
  }
  // (That a killed writer leaves its flushed rows on disk is tested by killing `kelvin stream`:
  // tests/python/test_run_file_streams.py.)
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  const hid_t reader = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl);
  ASSERT_GE(reader, 0);
  const hid_t dataset = H5Dopen2(reader, "/data/codes", H5P_DEFAULT);
  const hid_t space = H5Dget_space(dataset);
  std::array<hsize_t, 2> dims{};
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  EXPECT_EQ(dims[0], 4u);
  EXPECT_EQ(dims[1], 2u);
  std::vector<std::int16_t> read(8);
  H5Dread(dataset, H5T_NATIVE_INT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, read.data());
  EXPECT_EQ(read, (std::vector<std::int16_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  std::int64_t seed = 0;
  const hid_t attribute = H5Aopen(reader, "seed", H5P_DEFAULT);
  H5Aread(attribute, H5T_NATIVE_INT64, &seed);
  EXPECT_EQ(seed, 42);
  H5Aclose(attribute);
  H5Sclose(space);
  H5Dclose(dataset);
  H5Fclose(reader);
  H5Pclose(fapl);
}

}  // namespace
}  // namespace kelvin::tools::run_file
