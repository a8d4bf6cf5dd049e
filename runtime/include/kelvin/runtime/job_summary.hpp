// The block of fields that every job's Summary shares (SolveSummary, InverseSummary,
// LogdetSummary, NaturalGradientSummary, BlockSolveSummary, TemperingSummary, DenoisingSummary
// derive from it): which board, how much device and wall time, the modelled energy, and the
// warnings. A warning names a bias that the reported error bar does not include (a transient
// left over, dissipation, clipping, calibration) or anything else that makes the numbers
// doubtful; brief_report() and the JSON show every warning, the full report lists them.
//
// Values the runtime may change from what the caller asked for are reported in Ceres' style as
// a pair: `*_given` (the option as given, "auto" where the runtime chooses) and `*_used` (what
// ran), for example preconditioning_given = "auto", preconditioning_used = "jacobi".
//
// Thread contract: plain value types; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kelvin/runtime/energy.hpp"
#include "kelvin/runtime/report.hpp"

namespace kelvin::runtime {

struct JobSummary {
  std::string serial;          // the board's serial
  std::uint32_t cells = 0;     // the board's cells (p-bit boards: lattice nodes)
  double device_time_s = 0.0;  // modelled board time of the whole job
  double wall_time_s = 0.0;    // host wall clock from the call to its return
  // Modelled energy of the job by component, next to a GPU doing the same work (docs/energy.md).
  EnergyLedger energy;
  std::vector<std::string> warnings;
  // The calibration applied (calibration/board_calibration.hpp): "none" or its id, and the file
  // it came from ("" when none).
  std::string calibration = "none";
  std::string calibration_file;

  // The shared block's fields: serial, cells, calibration, calibration_file, device_time_s,
  // wall_time_s, warnings, energy.
  ReportFields job_fields() const;
  // A Summary's own fields followed by the shared block's: what every fields() returns.
  ReportFields with_job_fields(ReportFields own) const;
  // "" without warnings, else " (warning: A; B)": appended to every brief report.
  std::string warnings_suffix() const;
};

}  // namespace kelvin::runtime
