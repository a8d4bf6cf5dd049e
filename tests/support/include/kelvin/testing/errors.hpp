// What a call throws, for tests that expect it to fail with a kelvin::common::Error: the error's
// kind, or its message. Each helper runs fn once; an exception of another type reaches the test.
#pragma once

#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"

namespace kelvin::testing {

// The kind of the common::Error fn throws (a test failure, and kDevice, if it throws none).
inline common::ErrorKind kind_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const common::Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "expected a kelvin::common::Error";
  return common::ErrorKind::kDevice;
}

// The message of the common::Error fn throws, or "(no error)" if it throws none (which no
// expected message matches).
inline std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const common::Error& e) {
    return e.what();
  }
  return "(no error)";
}

// The message of the common::Error fn throws, which must be of kind `expected` (a test failure,
// and an empty message, if it throws none).
inline std::string message_of(const std::function<void()>& fn, common::ErrorKind expected) {
  try {
    fn();
  } catch (const common::Error& e) {
    EXPECT_EQ(e.kind(), expected) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected a kelvin::common::Error";
  return {};
}

}  // namespace kelvin::testing
