#include "kelvin/tools/cli/json_writer.hpp"

#include <type_traits>
#include <variant>

namespace kelvin::tools::cli {
namespace {

Json value_json(const runtime::ReportField::Value& value) {
  return std::visit(
      [](const auto& v) -> Json {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::monostate>)
          return Json(nullptr);
        else if constexpr (std::is_same_v<V, runtime::ReportFields>)
          return to_json(v);
        else
          return Json(v);
      },
      value);
}

Json code_scale_json(const driver::CodeScale& scale) {
  return Json{{"bits", scale.bits},         {"signed", scale.is_signed},
              {"min_code", scale.min_code}, {"max_code", scale.max_code},
              {"lsb", scale.lsb},           {"offset", scale.offset},
              {"unit", scale.unit}};
}

}  // namespace

Json to_json(const runtime::ReportFields& fields) {
  Json out = Json::object();
  for (const runtime::ReportField& f : fields)
    out[f.key] = value_json(f.value);
  return out;
}

Json energy_json(const runtime::EnergyLedger& ledger) {
  return to_json(ledger.fields());
}

Json vector_json(const Eigen::VectorXd& v) {
  Json array = Json::array();
  for (Eigen::Index i = 0; i < v.size(); ++i)
    array.push_back(v(i));
  return array;
}

Json conformance_json(const conformance::Summary& summary) {
  Json cases = Json::array();
  for (const conformance::CaseResult& r : summary.results) {
    cases.push_back(Json{{"id", r.id},
                         {"group", r.group},
                         {"title", r.title},
                         {"outcome", conformance::to_string(r.outcome)},
                         {"message", r.message},
                         {"time_s", r.time.count()}});
  }
  return Json{{"uri", summary.uri},
              {"serial", summary.serial},
              {"ok", summary.passed()},
              {"passed", summary.count(conformance::Outcome::kPassed)},
              {"failed", summary.count(conformance::Outcome::kFailed)},
              {"skipped", summary.count(conformance::Outcome::kSkipped)},
              {"brief", summary.brief()},
              {"cases", cases}};
}

std::string write_json(const Json& json) {
  return json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

Json description_json(const driver::DeviceDescription& d, const std::string& uri) {
  Json out{
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
    out["pbit"] = Json{{"rows", p.rows},
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
    Json dynamics = Json::array();
    for (driver::Dynamics x : r.dynamics)
      dynamics.push_back(driver::to_string(x));
    const driver::ImperfectionSpec& imp = r.imperfections;
    out["resonator"] = Json{
        {"coupling_kind", driver::to_string(r.coupling_kind)},
        {"dynamics", dynamics},
        {"quartic_dac", code_scale_json(r.quartic)},
        {"quartic_substeps", r.quartic_substeps},
        {"max_decimation", r.max_decimation},
        {"ring_capacity_samples", r.ring_capacity_samples},
        {"rlc", Json{{"resistance_ohm", r.resistance_ohm},
                     {"inductance_henry", r.inductance_henry},
                     {"capacitance_per_unit", r.capacitance_per_unit},
                     {"noise_intensity_per_unit", r.noise_intensity_per_unit},
                     {"bias_current_per_unit", r.bias_current_per_unit}}},
    };
    out["imperfections"] = Json{{"model", imp.name},
                                {"resistance", imp.resistance},
                                {"capacitance", imp.capacitance},
                                {"noise", imp.noise},
                                {"adc_offset_codes", imp.adc_offset_codes},
                                {"adc_gain", imp.adc_gain},
                                {"coupling_dac_gain", imp.coupling_dac_gain}};
  }
  return out;
}

Json stream_counters_json(const driver::StreamCounters& c) {
  return Json{{"received", c.received},
              {"lost", c.lost},
              {"overflow_lost", c.overflow_lost},
              {"transit_lost", c.transit_lost},
              {"gaps", c.gaps},
              {"overflows", c.overflows},
              {"bad_frames", c.bad_frames},
              {"retries", c.retries},
              {"frames", c.frames},
              {"produced", c.produced},
              {"buffered", c.buffered},
              {"accounted", c.produced == c.received + c.lost + c.buffered},
              {"clock_slip_us", c.clock_slip_us},
              {"round_trip_us", c.round_trip_us},
              {"reply_wait_us", c.reply_wait_us}};
}

}  // namespace kelvin::tools::cli
