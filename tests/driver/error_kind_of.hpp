// Test helper: runs fn and returns the kind of common::Error it threw (a test failure if none).
#pragma once

#include <functional>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"

namespace kelvin::driver::testing {

using common::Error;
using common::ErrorKind;

inline ErrorKind kind_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "expected a kelvin::common::Error";
  return ErrorKind::kDevice;
}

}  // namespace kelvin::driver::testing
