// The quartic branch of `kelvin generate` (tools/cli/src/generate_quartic.hpp), called directly:
// images as text lines or a file, the JSON object, and its refusals.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "generate_quartic.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/tools/cli/options.hpp"
#include "quartic_generator_fixture.hpp"

namespace kelvin::tools::cli {
namespace {

namespace fs = std::filesystem;

struct GeneratorFile {
  fs::path path;
  explicit GeneratorFile(const std::string& name, std::uint32_t cells = 4) {
    path = fs::temp_directory_path() / ("kelvin-cli-quartic-" + name + ".json");
    runtime::QuarticGenerator g = testing::quartic::double_wells(cells, 1311);
    g.image_rows = 2;
    g.image_cols = cells / 2;
    g.pixel_offset = 0.5;
    runtime::write_quartic_checkpoint(path.string(), g);
  }
  ~GeneratorFile() { fs::remove(path); }
};

QuarticGenerateRequest request_for(const GeneratorFile& file) {
  QuarticGenerateRequest r;
  r.uri = "sim:resonator?cells=4&seed=3";
  r.checkpoint = file.path.string();
  r.samples = 3;
  r.calibration = runtime::calibration::CalibrationSelection::none();
  return r;
}

TEST(CliGenerateQuartic, TextIsOneImagePerLineAndJsonCarriesHeatAndSummary) {
  const GeneratorFile file("text");
  const std::string text = generate_quartic_command(request_for(file));
  std::istringstream lines(text);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    std::istringstream values(line);
    double v = 0.0;
    int n = 0;
    while (values >> v)
      ++n;
    EXPECT_EQ(n, 4) << line;
    ++count;
  }
  EXPECT_EQ(count, 3);

  QuarticGenerateRequest r = request_for(file);
  r.json = true;
  const nlohmann::json j = nlohmann::json::parse(generate_quartic_command(r));
  EXPECT_EQ(j.at("kind"), "kelvin.quartic-generator");
  EXPECT_EQ(j.at("samples"), 3);
  EXPECT_EQ(j.at("data").size(), 3u);
  EXPECT_EQ(j.at("heat_kt").size(), 3u);
  EXPECT_EQ(j.at("summary").at("samples"), 3);
  EXPECT_EQ(j.at("summary").at("heat_dof"), 2);
  EXPECT_TRUE(j.at("summary").contains("energy"));
  // Same board and seed as the text run: the same images, as pixels (0.5 + volts).
  std::istringstream first(text);
  double p = 0.0;
  first >> p;
  EXPECT_NEAR(j.at("data")[0][0].get<double>(), p, 1e-5 * (1.0 + std::abs(p)));
}

TEST(CliGenerateQuartic, OutWritesTheImagesAndPrintsTheBriefReport) {
  const GeneratorFile file("out");
  QuarticGenerateRequest r = request_for(file);
  r.out = (fs::temp_directory_path() / "kelvin-cli-quartic-images.txt").string();
  const std::string printed = generate_quartic_command(r);
  EXPECT_NE(printed.find("3 samples of 4 visible cells"), std::string::npos) << printed;
  std::ifstream in(r.out);
  std::string line;
  int lines = 0;
  while (std::getline(in, line))
    ++lines;
  EXPECT_EQ(lines, 3);
  fs::remove(r.out);
}

TEST(CliGenerateQuartic, RefusalsSayWhat) {
  const GeneratorFile file("refusals", 16);
  QuarticGenerateRequest r = request_for(file);
  try {
    generate_quartic_command(r);
    ADD_FAILURE() << "a 16-cell generator ran on 4 cells";
  } catch (const common::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--uri 'sim:resonator?cells=16'"), std::string::npos)
        << e.what();
  }
  r.samples = 0;
  EXPECT_THROW(generate_quartic_command(r), UsageError);
  r.samples = 1;
  r.checkpoint = "/nonexistent/generator.json";
  EXPECT_THROW(generate_quartic_command(r), common::Error);
}

}  // namespace
}  // namespace kelvin::tools::cli
