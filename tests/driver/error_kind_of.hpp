// Test helper: runs fn and returns the kind of driver::Error it threw (a test failure if none).
#pragma once

#include <functional>

#include <gtest/gtest.h>

#include "kelvin/driver/error.hpp"

namespace kelvin::driver::testing {

inline ErrorKind kind_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "expected a kelvin::driver::Error";
  return ErrorKind::kDevice;
}

}  // namespace kelvin::driver::testing
