#include "kelvin/driver/inprocess_transport.hpp"

#include <array>
#include <chrono>
#include <future>
#include <stdexcept>

#include <gtest/gtest.h>

#include "driver_test_names.hpp"

namespace kelvin::driver {
namespace {

BoardHandler echo() {
  return [](std::span<const std::uint8_t> in) {
    return std::vector<std::uint8_t>(in.begin(), in.end());
  };
}

BoardHandler silent() {
  return [](std::span<const std::uint8_t>) { return std::vector<std::uint8_t>{}; };
}

TEST(InProcessTransport, CarriesBytesToTheBoardAndBack) {
  InProcessTransport t(echo(), "echo");
  const std::vector<std::uint8_t> msg = {1, 2, 3, 4, 5};
  t.write(msg, Deadline::after(1s));
  std::vector<std::uint8_t> got;
  std::array<std::uint8_t, 3> buf{};  // smaller than the message: read_some returns parts
  while (got.size() < msg.size()) {
    const auto n = t.read_some(buf, Deadline::after(1s));
    got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  EXPECT_EQ(got, msg);
}

TEST(InProcessTransport, ReadTimesOutAtItsDeadline) {
  InProcessTransport t(silent(), "silent");
  std::array<std::uint8_t, 8> buf{};
  const auto start = Clock::now();
  try {
    t.read_some(buf, Deadline::after(100ms));
    FAIL() << "read returned without data";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kTimeout);
  }
  const auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 100ms);
  EXPECT_LT(elapsed, 1s);  // generous: a loaded CI machine may be slow to wake us
}

TEST(InProcessTransport, CloseWakesABlockedReader) {
  InProcessTransport t(silent(), "silent");
  auto reader = std::async(std::launch::async, [&] {
    std::array<std::uint8_t, 8> buf{};
    try {
      t.read_some(buf, Deadline::never());
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::kProtocol;
  });
  std::this_thread::sleep_for(50ms);
  t.close();
  ASSERT_EQ(reader.wait_for(2s), std::future_status::ready) << "close() did not wake the reader";
  EXPECT_EQ(reader.get(), ErrorKind::kDisconnected);
  EXPECT_FALSE(t.is_open());
}

TEST(InProcessTransport, WriteAfterCloseFailsAsDisconnected) {
  InProcessTransport t(echo(), "echo");
  t.close();
  try {
    t.write(std::vector<std::uint8_t>{1}, Deadline::after(1s));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDisconnected);
  }
}

TEST(InProcessTransport, AFailingBoardDisconnectsInsteadOfHanging) {
  InProcessTransport t(
      [](std::span<const std::uint8_t>) -> std::vector<std::uint8_t> {
        throw std::runtime_error("firmware fault");
      },
      "faulty");
  t.write(std::vector<std::uint8_t>{1}, Deadline::after(1s));
  std::array<std::uint8_t, 8> buf{};
  try {
    t.read_some(buf, Deadline::after(5s));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDisconnected);
  }
}

}  // namespace
}  // namespace kelvin::driver
