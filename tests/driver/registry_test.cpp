#include "kelvin/driver/registry.hpp"

#include <gtest/gtest.h>

#include "driver_test_names.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"

#include <chrono>

namespace kelvin::driver {
namespace {

TEST(Registry, FindListsTheDefaultEmulatedBoards) {
  const auto all = backends::find();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].to_string(), "sim:resonator?cells=8&seed=1");
  // Canonical form: parameters in key order.
  EXPECT_EQ(all[1].to_string(), "sim:pbit?cols=70&degree=12&rows=70&seed=1");
  EXPECT_EQ(backends::find("sim").size(), 2u);
  EXPECT_EQ(backends::find("sim:pbit?rows=3&cols=4&degree=8").front().get("degree"), "8");
  EXPECT_EQ(backends::find("sim:resonator?cells=16").front().get("cells"), "16");
}

TEST(Registry, OpensAnEmulatedBoardByUri) {
  auto device = backends::open("sim:resonator?cells=16&seed=3");
  EXPECT_EQ(device->description().family, BoardFamily::kResonator);
  EXPECT_EQ(device->description().cells, 16u);
  EXPECT_EQ(device->description().serial, "SIM-RES-16-3");
  EXPECT_TRUE(device->is_open());
}

TEST(Registry, UnknownSchemeIsNotFoundAndNamesTheKnownOnes) {
  try {
    backends::open("nope:thing");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(e.what()).find("sim"), std::string::npos) << e.what();
  }
}

TEST(Registry, RefusesBadSimAddresses) {
  EXPECT_EQ(kind_of([] { backends::open("sim:toaster"); }), ErrorKind::kNotFound);
  EXPECT_EQ(kind_of([] { backends::open("sim:resonator?cells=0"); }), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { backends::open("sim:resonator?cells=257"); }),
            ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { backends::open("sim:resonator?cell=8"); }), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { backends::open("sim:resonator?couplings=magnetic"); }),
            ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { backends::open("sim:resonator?imperfections=awful"); }),
            ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { backends::open("sim:resonator?ring=3"); }), ErrorKind::kInvalidArgument);
  try {
    backends::open("sim:resonator?couplings=magnetic");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("capacitive, signed"), std::string::npos) << e.what();
  }
}

TEST(Registry, ClosingAnEmulatedBoardStopsARunInProgress) {
  // A run of 2^31 samples takes the emulator minutes; closing must not wait for it.
  auto device = backends::open("sim:resonator?cells=8");
  ResonatorBoard board{std::shared_ptr<Device>(std::move(device))};
  SymmetricCodes codes(8);
  for (std::uint32_t i = 0; i < 8; ++i)
    codes.set(i, i, 16384);
  board.program_couplings(codes, Deadline::after(std::chrono::seconds(5)));
  RunRequest huge;
  huge.samples = std::uint64_t{1} << 31;
  board.start_run(huge, Deadline::after(std::chrono::seconds(5)));
  const auto start = std::chrono::steady_clock::now();
  board.device().close();
  EXPECT_THROW(board.read_results(1, Deadline::after(std::chrono::seconds(5))), Error);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(Registry, RefusesADuplicateScheme) {
  Registry registry;
  Backend backend{"x", "test", [](const DeviceAddress&) { return std::vector<DeviceAddress>{}; },
                  [](const DeviceAddress&) -> std::unique_ptr<Transport> { return nullptr; }};
  registry.add(backend);
  EXPECT_THROW(registry.add(backend), Error);
}

}  // namespace
}  // namespace kelvin::driver
