// The one JSON writer of the kelvin program: every command's --json output, and the sidecar of
// `kelvin stream -o`, go through write_json(). A Summary becomes JSON from its field list
// (runtime/.../report.hpp), the same list its full report is rendered from, so the two cannot
// drift; "brief" adds its brief_report().
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <string>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/driver/resonator/sample_stream.hpp"
#include "kelvin/runtime/energy.hpp"
#include "kelvin/runtime/report.hpp"
#include "kelvin/tools/conformance/conformance.hpp"

namespace kelvin::tools::cli {

using Json = nlohmann::ordered_json;

// A field list as one JSON object (groups nested, absent values null).
Json to_json(const runtime::ReportFields& fields);
// A Summary's fields and "brief".
template <typename Summary>
Json summary_json(const Summary& summary) {
  Json out = to_json(summary.fields());
  out["brief"] = summary.brief_report();
  return out;
}
// The energy ledger by component, with its counts and the GPU comparison.
Json energy_json(const runtime::EnergyLedger& ledger);
Json vector_json(const Eigen::VectorXd& v);
// What `kelvin probe --json` prints: the board's description with its formats.
Json description_json(const driver::DeviceDescription& description, const std::string& uri);
// A stream's counters (`kelvin stream --json` "counters", kelvin.Stream.counters() in Python),
// with "accounted": produced == received + lost + buffered.
Json stream_counters_json(const driver::StreamCounters& counters);
// `kelvin conformance --json`: the board, the counts ("ok": no case failed) and every case
// with its outcome and message.
Json conformance_json(const conformance::Summary& summary);
// Pretty-printed (2 spaces) with a final newline; invalid UTF-8 (a board's serial, say) becomes
// U+FFFD rather than an exception.
std::string write_json(const Json& json);

}  // namespace kelvin::tools::cli
