// What `kelvin train-ebm` prints: a brief text report or (--json) one object with the settings,
// the data and model, one record per step (the loss proxy and the update's size), the last
// step's summary and the energy ledger of the whole run.
//
// Thread contract: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kelvin/runtime/energy.hpp"
#include "kelvin/runtime/pbit/boltzmann_learning.hpp"
#include "kelvin/tools/cli/json_writer.hpp"

namespace kelvin::tools::cli {

// One training step as reported.
struct EbmStepRecord {
  std::uint64_t step = 0;  // steps done after it (1-based over the model's whole training)
  double learning_rate = 0.0;
  double gradient_norm = 0.0;
  // The loss proxy: RMS over every node mean and edge correlation of clamped - free moments
  // (zero at a stationary point of the log-likelihood; its noise floor is the moments' stderr).
  double moment_mismatch = 0.0;
  std::uint64_t codes_changed = 0;
  std::uint64_t weights_clipped = 0;
};

struct EbmTrainingRun {
  std::string uri;
  std::string data_file;
  std::size_t examples = 0;
  std::string encoding;
  std::string resumed_from;  // "" for a new model
  std::string checkpoint;    // "" when none written
  std::uint64_t checkpoint_every = 0;
  std::vector<EbmStepRecord> steps;
  runtime::BoltzmannStepSummary last;  // of the last step
  runtime::EnergyLedger energy;        // summed over the steps
  double device_time_s = 0.0;          // summed over the steps
};

// The record of one step's result.
EbmStepRecord step_record(const runtime::BoltzmannStepResult& result);
// total += one step's ledger, component by component.
void add_ledger(runtime::EnergyLedger& total, const runtime::EnergyLedger& step);

Json train_ebm_json(const EbmTrainingRun& run, const runtime::BoltzmannTrainer& trainer);
std::string train_ebm_text(const EbmTrainingRun& run, const runtime::BoltzmannTrainer& trainer);

}  // namespace kelvin::tools::cli
