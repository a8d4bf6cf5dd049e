// The names the driver's tests use unqualified, declared once in kelvin::driver (so also seen by
// the USB tests, in namespaces inside it): deadlines, errors, the shared error helpers
// (tests/support), the clock the tests time calls with and the chrono literals.
#pragma once

#include <chrono>

#include "kelvin/common/deadline.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/testing/errors.hpp"

namespace kelvin::driver {

using common::Deadline;
using common::Error;
using common::ErrorKind;
using kelvin::testing::kind_of;
using kelvin::testing::message_of;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

}  // namespace kelvin::driver
