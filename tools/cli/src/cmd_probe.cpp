// kelvin probe [--uri URI] [--json]
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/cli/options.hpp"

namespace kelvin::tools::cli {
namespace {

std::string frequency(double hz) {
  if (hz >= 1e9)
    return fmt::format("{:g} GHz", hz / 1e9);
  if (hz >= 1e6)
    return fmt::format("{:g} MHz", hz / 1e6);
  if (hz >= 1e3)
    return fmt::format("{:g} kHz", hz / 1e3);
  return fmt::format("{:g} Hz", hz);
}

std::string scale_text(const driver::CodeScale& scale) {
  std::string text = fmt::format("{}; range [{:g}, {:g}] {}", scale.describe(), scale.min_value(),
                                 scale.max_value(), scale.unit);
  if (scale.offset != 0.0)
    text += fmt::format(", offset {:g} {}", scale.offset, scale.unit);
  return text;
}

std::string description_text(const driver::DeviceDescription& d, const std::string& uri) {
  std::string out;
  const auto line = [&out](const char* label, const std::string& value) {
    fmt::format_to(std::back_inserter(out), "{:<21}{}\n", label, value);
  };
  const auto capabilities = driver::capability_names(d.capabilities);
  line("uri", uri);
  line("family", driver::to_string(d.family));
  line("serial", d.serial);
  line("firmware version", d.firmware_version);
  line("protocol version", std::to_string(d.protocol_version));
  line("model", d.model);
  line("cells", std::to_string(d.cells));
  if (d.pbit) {
    const driver::PbitDescription& p = *d.pbit;
    line("lattice",
         fmt::format("{}x{}, degree {}, {} edges", p.rows, p.cols, p.degree, p.edge_count));
    line("weight", scale_text(p.weight));
    line("bias", scale_text(p.bias));
    line("beta", scale_text(p.beta));
    line("sigmoid table", fmt::format("{} entries, {}-bit RNG words", p.lut_entries, p.rng_bits));
    line("max chains", std::to_string(p.max_chains));
    line("sweep rate", fmt::format("{} per chain", frequency(p.sweep_rate_hz)));
    line("max record bits", std::to_string(p.max_record_bits));
    line("max beta schedule", fmt::format("{} sweeps", p.max_schedule_length));
  } else {
    line("coupling DAC", scale_text(d.coupling));
    line("bias DAC", scale_text(d.bias));
    line("noise DAC", scale_text(d.noise));
    line("ADC", scale_text(d.adc));
  }
  if (d.resonator) {
    const driver::ResonatorDescription& r = *d.resonator;
    std::vector<std::string> dynamics;
    for (driver::Dynamics x : r.dynamics)
      dynamics.emplace_back(driver::to_string(x));
    line("couplings", driver::to_string(r.coupling_kind));
    line("dynamics", fmt::format("{}", fmt::join(dynamics, ", ")));
    line("quartic DAC",
         fmt::format("{} ({} substeps per sample)", scale_text(r.quartic), r.quartic_substeps));
    line("max decimation", std::to_string(r.max_decimation));
    line("stream ring", fmt::format("{} samples", r.ring_capacity_samples));
    const driver::ImperfectionSpec& imp = r.imperfections;
    line("imperfections",
         fmt::format("{}: R {:g}%, C {:g}%, noise {:g}%, ADC offset {:g} codes, ADC gain {:g}%, "
                     "coupling DAC gain {:g}%",
                     imp.name, 100 * imp.resistance, 100 * imp.capacitance, 100 * imp.noise,
                     imp.adc_offset_codes, 100 * imp.adc_gain, 100 * imp.coupling_dac_gain));
  }
  line("tick rate", frequency(d.tick_rate_hz));
  line("ticks per sample", std::to_string(d.ticks_per_sample));
  line("sample rate", d.ticks_per_sample
                          ? fmt::format("{} (period {:g} us)", frequency(d.sample_rate_hz()),
                                        d.sample_period_s() * 1e6)
                          : std::string("unknown (0 ticks per sample)"));
  line("capabilities", capabilities.empty() ? std::string("none")
                                            : fmt::format("{}", fmt::join(capabilities, ", ")));
  line("max frame payload", fmt::format("{} bytes", d.max_frame_payload));
  line("max samples per run", fmt::format("{} samples", d.max_samples_per_run));
  line("max record samples", fmt::format("{} samples", d.max_record_samples));
  return out;
}

}  // namespace

Command add_probe_command(CLI::App& app) {
  auto options = std::make_shared<CommonOptions>();
  CLI::App* command =
      app.add_subcommand("probe", "Open a device and print what it says about itself");
  add_uri_option(*command, *options);
  add_json_flag(*command, *options, "");
  command->footer(addresses_footer());

  return {command, [options] {
            const auto device = driver::backends::open(options->uri);
            const std::string uri = device->address().to_string();
            if (options->json)
              return write_json(description_json(device->description(), uri));
            return description_text(device->description(), uri);
          }};
}

}  // namespace kelvin::tools::cli
