// The estimator options shared by the hybrid pipeline's tests (hybrid_pipeline_test.cpp: the
// pipeline's mechanics; hybrid_pipeline_training_test.cpp: the training driver run_pipelined),
// which run on 8-cell boards from kelvin::testing::open_resonator_board (tests/support).
#pragma once

#include "kelvin/runtime/hybrid_pipeline.hpp"

namespace kelvin::runtime::testing {

inline NaturalGradientOptions tngd_options() {
  NaturalGradientOptions o;
  o.damping = 1e-4;
  o.time_us = 50.0;
  o.repeats = 2;
  return o;
}

}  // namespace kelvin::runtime::testing
