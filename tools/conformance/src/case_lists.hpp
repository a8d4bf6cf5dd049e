// The conformance cases, by group; suite.cpp puts them in one list (conformance.hpp).
//
// Thread contract: pure functions returning values.
#pragma once

#include <vector>

#include "kelvin/tools/conformance/conformance.hpp"

namespace kelvin::tools::conformance::detail {

std::vector<Case> session_cases();  // hello, version negotiation, ping, limits, unknown messages
std::vector<Case> request_cases();  // register writes, runs and their errors
std::vector<Case> stream_cases();   // stream accounting, busy, timed starts, resumable reads
std::vector<Case> link_cases();     // after a timeout, a close, a disconnect; a reference board

}  // namespace kelvin::tools::conformance::detail
