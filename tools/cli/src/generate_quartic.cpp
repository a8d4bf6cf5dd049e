#include "generate_quartic.hpp"

#include <cmath>
#include <fstream>
#include <limits>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/quartic_generation.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/cli/options.hpp"

namespace kelvin::tools::cli {

namespace {

double pixel(const runtime::QuarticGenerator& g, double volts) {
  return g.pixel_offset + g.pixel_scale * volts;
}

std::string images_text(const runtime::QuarticGenerator& g,
                        const runtime::QuarticGenerationResult& r) {
  std::string text;
  for (const std::vector<double>& image : r.images) {
    for (std::size_t k = 0; k < image.size(); ++k)
      text += fmt::format("{}{:.6g}", k > 0 ? " " : "", pixel(g, image[k]));
    text += '\n';
  }
  return text;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out)
    throw common::Error(common::ErrorKind::kInvalidArgument,
                        fmt::format("cannot write '{}'", path));
}

}  // namespace

std::string generate_quartic_command(const QuarticGenerateRequest& request) {
  runtime::QuarticGenerationOptions options;
  if (request.samples > std::numeric_limits<std::uint32_t>::max())
    throw UsageError(
        fmt::format("--samples {} is too large (see 'kelvin generate --help')", request.samples));
  options.samples = static_cast<std::uint32_t>(request.samples);
  options.timeout = request.timeout;
  options.calibration = request.calibration;
  validate_usage(options, "generate");
  const runtime::QuarticGenerator g = runtime::read_quartic_checkpoint(request.checkpoint);
  const std::string uri =
      request.uri.empty() ? std::string(driver::backends::kDefaultResonatorUri) : request.uri;
  driver::ResonatorBoard board = open_resonator_board(uri);
  if (g.cells > board.cells()) {
    throw common::Error(common::ErrorKind::kInvalidArgument,
                        fmt::format("{}: the generator has {} cells and board {} ({}) has {}; "
                                    "give a larger board, e.g. --uri 'sim:resonator?cells={}'",
                                    request.checkpoint, g.cells, board.description().serial, uri,
                                    board.cells(), g.cells));
  }
  const runtime::QuarticGenerationResult r = runtime::generate_quartic(board, g, options);
  const std::string text = images_text(g, r);
  if (!request.out.empty())
    write_file(request.out, text);
  if (!request.json)
    return request.out.empty() ? text : r.summary.brief_report() + "\n";
  Json heat = Json::array();
  for (const double q : r.heat_kt)
    heat.push_back(std::isfinite(q) ? Json(q) : Json(nullptr));
  Json out{{"kind", "kelvin.quartic-generator"},
           {"checkpoint", request.checkpoint},
           {"uri", uri},
           {"samples", r.images.size()},
           {"visible", g.visible.size()},
           {"image_rows", g.image_rows},
           {"image_cols", g.image_cols},
           {"pixel_scale", {{"offset", g.pixel_offset}, {"scale", g.pixel_scale}}},
           {"out", request.out.empty() ? Json(nullptr) : Json(request.out)}};
  if (request.out.empty()) {
    Json rows = Json::array();
    for (const std::vector<double>& image : r.images) {
      Json row = Json::array();
      for (const double v : image)
        row.push_back(pixel(g, v));
      rows.push_back(std::move(row));
    }
    out["data"] = std::move(rows);
  }
  out["heat_kt"] = std::move(heat);
  out["summary"] = summary_json(r.summary);
  return write_json(out);
}

}  // namespace kelvin::tools::cli
