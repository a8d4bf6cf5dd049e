// The resonator self-test's stream check: continuity of sequence numbers and ticks through
// SampleStream, and the stream's loss accounting.
//
// Thread contract: uses the board from the calling thread only.
#pragma once

#include "check_support.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"

namespace kelvin::runtime::selftest::detail {

// Streams options.stream_samples samples with the board's current settings, stops and drains;
// records the "stream" check (skipped on a board that cannot stream).
void check_stream(driver::ResonatorBoard& board, const Options& options, Recorder& recorder);

}  // namespace kelvin::runtime::selftest::detail
