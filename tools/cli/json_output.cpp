#include <string>

#include "cli.hpp"

namespace kelvin::tools::cli {

using json = nlohmann::ordered_json;

json vector_json(const Eigen::VectorXd& v) {
  json array = json::array();
  for (Eigen::Index i = 0; i < v.size(); ++i)
    array.push_back(v(i));
  return array;
}

json code_scale_json(const driver::CodeScale& scale) {
  return json{{"bits", scale.bits},         {"signed", scale.is_signed},
              {"min_code", scale.min_code}, {"max_code", scale.max_code},
              {"lsb", scale.lsb},           {"offset", scale.offset},
              {"unit", scale.unit}};
}

json description_json(const driver::DeviceDescription& d, const std::string& uri) {
  json out{
      {"uri", uri},
      {"family", driver::to_string(d.family)},
      {"serial", d.serial},
      {"firmware_version", d.firmware_version},
      {"protocol_version", d.protocol_version},
      {"model", d.model},
      {"cells", d.cells},
      {"coupling_dac", code_scale_json(d.coupling)},
      {"bias_dac", code_scale_json(d.bias)},
      {"noise_dac", code_scale_json(d.noise)},
      {"adc", code_scale_json(d.adc)},
      {"tick_rate_hz", d.tick_rate_hz},
      {"ticks_per_sample", d.ticks_per_sample},
      {"sample_rate_hz", d.sample_rate_hz()},
      {"capabilities", driver::capability_names(d.capabilities)},
      {"capability_bits", d.capabilities},
      {"max_frame_payload", d.max_frame_payload},
      {"max_samples_per_run", d.max_samples_per_run},
      {"max_record_samples", d.max_record_samples},
  };
  if (d.pbit) {
    // A p-bit board has no DACs or ADC of the resonator kind; its formats are under "pbit".
    for (const char* key : {"coupling_dac", "bias_dac", "noise_dac", "adc"})
      out.erase(key);
    const driver::PbitDescription& p = *d.pbit;
    out["pbit"] = json{{"rows", p.rows},
                       {"cols", p.cols},
                       {"degree", p.degree},
                       {"edge_count", p.edge_count},
                       {"weight", code_scale_json(p.weight)},
                       {"bias", code_scale_json(p.bias)},
                       {"beta", code_scale_json(p.beta)},
                       {"lut_entries", p.lut_entries},
                       {"rng_bits", p.rng_bits},
                       {"max_chains", p.max_chains},
                       {"sweep_rate_hz", p.sweep_rate_hz},
                       {"max_record_bits", p.max_record_bits},
                       {"max_schedule_length", p.max_schedule_length}};
  }
  if (d.resonator) {
    const driver::ResonatorDescription& r = *d.resonator;
    json dynamics = json::array();
    for (driver::Dynamics x : r.dynamics)
      dynamics.push_back(driver::to_string(x));
    const driver::ImperfectionSpec& imp = r.imperfections;
    out["resonator"] = json{
        {"coupling_kind", driver::to_string(r.coupling_kind)},
        {"dynamics", dynamics},
        {"quartic_dac", code_scale_json(r.quartic)},
        {"quartic_substeps", r.quartic_substeps},
        {"max_decimation", r.max_decimation},
        {"ring_capacity_samples", r.ring_capacity_samples},
        {"rlc", json{{"resistance_ohm", r.resistance_ohm},
                     {"inductance_henry", r.inductance_henry},
                     {"capacitance_per_unit", r.capacitance_per_unit},
                     {"noise_intensity_per_unit", r.noise_intensity_per_unit},
                     {"bias_current_per_unit", r.bias_current_per_unit}}},
    };
    out["imperfections"] = json{{"model", imp.name},
                                {"resistance", imp.resistance},
                                {"capacitance", imp.capacitance},
                                {"noise", imp.noise},
                                {"adc_offset_codes", imp.adc_offset_codes},
                                {"adc_gain", imp.adc_gain},
                                {"coupling_dac_gain", imp.coupling_dac_gain}};
  }
  return out;
}

json summary_json(const runtime::SolveSummary& s) {
  return json{
      {"serial", s.serial},
      {"cells", s.cells},
      {"unknowns", s.unknowns},
      {"sign_doubled", s.sign_doubled},
      {"coupling_scale", s.coupling_scale},
      {"state_scale", s.state_scale},
      {"noise_code", s.noise_code},
      {"diffusion", s.diffusion},
      {"lambda_min", s.lambda_min},
      {"lambda_max", s.lambda_max},
      {"condition_number", s.condition_number},
      {"matrix_quantization_error", s.matrix_quantization_error},
      {"bias_quantization_error", s.bias_quantization_error},
      {"quantization_shift", s.quantization_shift},
      {"preconditioning",
       preconditioning_json(s.jacobi, s.preconditioning, s.predicted_quantization_error)},
      {"batches", s.batches},
      {"samples", s.samples},
      {"burn_in_samples", s.burn_in_samples},
      {"device_time_s", s.device_time_s},
      {"clipped_samples", s.clipped_samples},
      {"range_retries", s.range_retries},
      {"wall_time_s", s.wall_time_s},
      {"brief", s.brief_report()},
  };
}

json energy_json(const runtime::EnergyLedger& e) {
  return json{{"total_j", e.total_j()},
              {"analog_j", e.analog_j},
              {"dac_j", e.dac_j},
              {"adc_j", e.adc_j},
              {"io_j", e.io_j},
              {"host_j", e.host_j},
              {"gpu_equivalent_j", e.gpu_j},
              {"dac_codes", e.activity.dac_codes},
              {"adc_conversions", e.activity.adc_conversions},
              {"cell_sample_periods", e.activity.cell_sample_periods},
              {"io_bytes", e.io_bytes},
              {"host_flops", e.host_flops},
              {"gpu_flops", e.gpu_flops},
              {"brief", e.brief()}};
}

json solve_result_json(const runtime::SolveResult& result) {
  return json{{"x", vector_json(result.x)},
              {"stderr", vector_json(result.standard_error)},
              {"summary", summary_json(result.summary)},
              {"energy", energy_json(result.summary.energy)}};
}

std::string dump_json(const json& value) {
  // Invalid UTF-8 (a board's serial, say) becomes U+FFFD rather than an exception.
  return value.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace kelvin::tools::cli
