// Helpers shared by the hybrid pipeline's tests (hybrid_pipeline_test.cpp: the pipeline's
// mechanics; hybrid_pipeline_training_test.cpp: the training driver run_pipelined).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/hybrid_pipeline.hpp"

namespace kelvin::runtime::testing {

// An emulated 8-cell resonator board.
inline driver::ResonatorBoard open_board(std::uint64_t seed) {
  return driver::ResonatorBoard(std::shared_ptr<driver::Device>(
      driver::backends::open("sim:resonator?cells=8&seed=" + std::to_string(seed))));
}

inline NaturalGradientOptions tngd_options() {
  NaturalGradientOptions o;
  o.damping = 1e-4;
  o.time_us = 50.0;
  o.repeats = 2;
  return o;
}

}  // namespace kelvin::runtime::testing
