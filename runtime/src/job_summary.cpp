#include "kelvin/runtime/job_summary.hpp"

namespace kelvin::runtime {

ReportFields JobSummary::job_fields() const {
  return {
      field("serial", "board", serial),
      field("cells", "board cells", cells),
      field("calibration", "calibration", calibration, "", "applied: none or its id"),
      field("calibration_file", "calibration file", calibration_file),
      field("device_time_s", "device time", device_time_s, "s", "modelled"),
      field("wall_time_s", "wall time", wall_time_s, "s", "", 3),
      field("warnings", "warnings", warnings),
      group("energy", "energy (model)", energy.fields(), "docs/energy.md"),
  };
}

ReportFields JobSummary::with_job_fields(ReportFields own) const {
  for (ReportField& f : job_fields())
    own.push_back(std::move(f));
  return own;
}

std::string JobSummary::warnings_suffix() const {
  if (warnings.empty())
    return {};
  std::string out = warnings.size() == 1 ? " (warning: " : " (warnings: ";
  for (std::size_t k = 0; k < warnings.size(); ++k)
    out += (k > 0 ? "; " : "") + warnings[k];
  return out + ")";
}

}  // namespace kelvin::runtime
