// The USB error mapping; needs no emulated board.
#include "usb_errors.hpp"

#include <libusb-1.0/libusb.h>

#include <gtest/gtest.h>

#include "driver_test_names.hpp"

namespace kelvin::driver::usb {
namespace {

TEST(UsbErrors, AccessDeniedTellsTheUserHowToFixIt) {
  const Error e = libusb_failure(LIBUSB_ERROR_ACCESS, "cannot open the kelvin board");
  EXPECT_EQ(e.kind(), ErrorKind::kPermissionDenied);
  const std::string what = e.what();
  EXPECT_NE(what.find("cannot open the kelvin board"), std::string::npos) << what;
  EXPECT_NE(what.find("driver/udev/70-kelvin.rules"), std::string::npos) << what;
  EXPECT_NE(what.find("/etc/udev/rules.d/70-kelvin.rules"), std::string::npos) << what;
  EXPECT_NE(what.find("udevadm control --reload"), std::string::npos) << what;
  EXPECT_NE(what.find("replug"), std::string::npos) << what;
  EXPECT_NE(what.find("1209:ac01"), std::string::npos) << what;
}

TEST(UsbErrors, EachFailureHasItsOwnKind) {
  EXPECT_EQ(kind_of_libusb_error(LIBUSB_ERROR_NO_DEVICE), ErrorKind::kDisconnected);
  EXPECT_EQ(kind_of_libusb_error(LIBUSB_ERROR_NOT_FOUND), ErrorKind::kNotFound);
  EXPECT_EQ(kind_of_libusb_error(LIBUSB_ERROR_TIMEOUT), ErrorKind::kTimeout);
  EXPECT_EQ(kind_of_libusb_error(LIBUSB_ERROR_BUSY), ErrorKind::kPermissionDenied);
  EXPECT_EQ(kind_of_libusb_error(LIBUSB_ERROR_IO), ErrorKind::kDisconnected);
}

}  // namespace
}  // namespace kelvin::driver::usb
