#include <algorithm>

#include <fmt/format.h>

#include "kelvin/runtime/calibration/calibrate.hpp"

namespace kelvin::runtime::calibration {
namespace {

std::pair<double, double> range_of(const std::vector<double>& v) {
  if (v.empty())
    return {0.0, 0.0};
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return {*lo, *hi};
}

}  // namespace

ReportFields CalibrationSummary::fields() const {
  if (family == "pbit") {
    return with_job_fields({
        field("family", "board family", family),
        field("calibration_id", "calibration id", calibration_id),
        field("date", "date", date, "", "UTC"),
        field("file", "stored in", file),
        field("convention", "model", std::string(BoardCalibration::kPbitConvention)),
        field("mean_samples", "samples", mean_samples, "", "per bias code and p-bit"),
        field("beta_code", "beta code", beta_code, "", "Q8.8"),
        field("sigmoid_offset", "sigmoid offsets", sigmoid_offset, "J"),
        field("sigmoid_offset_stderr", "sigmoid offset stderr", sigmoid_offset_stderr, "J"),
        field("sigmoid_gain", "sigmoid gains", sigmoid_gain),
        field("sigmoid_gain_stderr", "sigmoid gain stderr", sigmoid_gain_stderr),
    });
  }
  return with_job_fields({
      field("family", "board family", family),
      field("calibration_id", "calibration id", calibration_id),
      field("date", "date", date, "", "UTC"),
      field("file", "stored in", file),
      field("convention", "convention", std::string(BoardCalibration::kConvention), "",
            "a host without a voltage reference sees gains only relative to each other"),
      field("mean_samples", "offset/gain samples", mean_samples, "", "per bias polarity"),
      field("drift_samples", "drift samples", drift_samples, "", "recorded, fitted"),
      field("noise_code", "noise code", noise_code),
      field("coupling_dac_gain", "coupling-DAC gain", coupling_dac_gain),
      field("coupling_dac_gain_stderr", "coupling-DAC gain stderr", coupling_dac_gain_stderr),
      field("adc_offset_codes", "ADC offsets", adc_offset_codes, "codes"),
      field("adc_offset_stderr", "ADC offset stderr", adc_offset_stderr, "codes"),
      field("readout_gain", "read-out gains", readout_gain, "", "ADC gain / coupling-DAC gain"),
      field("readout_gain_stderr", "read-out gain stderr", readout_gain_stderr),
      field("adc_gain", "ADC gains", adc_gain),
      field("adc_gain_stderr", "ADC gain stderr", adc_gain_stderr),
      field("capacitance", "capacitance scales", capacitance, "", "from the drift fit"),
      field("capacitance_stderr", "capacitance stderr", capacitance_stderr),
      field("temperature", "effective temperatures", temperature, "", "relative to nominal"),
      field("temperature_stderr", "temperature stderr", temperature_stderr),
  });
}

std::string CalibrationSummary::brief_report() const {
  if (family == "pbit") {
    const auto [olo, ohi] = range_of(sigmoid_offset);
    const auto [glo, ghi] = range_of(sigmoid_gain);
    const auto [elo, ehi] = range_of(sigmoid_gain_stderr);
    return fmt::format(
               "board {} ({} p-bits): sigmoid offsets {:.3f}..{:.3f} J, gains "
               "{:.4f}..{:.4f} (stderr up to {:.1e}); {:.3g} s device time",
               serial, cells, olo, ohi, glo, ghi, ehi, device_time_s) +
           warnings_suffix();
  }
  const auto [olo, ohi] = range_of(adc_offset_codes);
  const auto [glo, ghi] = range_of(adc_gain);
  const auto [tlo, thi] = range_of(temperature);
  return fmt::format(
             "board {} ({} cells): ADC offsets {:.2f}..{:.2f} codes, ADC gains {:.5f}..{:.5f}, "
             "coupling-DAC gain {:.5f} +- {:.1e}, temperatures {:.4f}..{:.4f}; {:.3g} s device "
             "time",
             serial, cells, olo, ohi, glo, ghi, coupling_dac_gain, coupling_dac_gain_stderr, tlo,
             thi, device_time_s) +
         warnings_suffix();
}

std::string CalibrationSummary::full_report() const {
  return render_report("Calibration summary", fields());
}

}  // namespace kelvin::runtime::calibration
