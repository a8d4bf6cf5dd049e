#include "kelvin/tools/cli/junit_writer.hpp"

#include <cstring>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

namespace kelvin::tools::cli {

namespace {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 has no form for most control characters, not even escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
          out += "&#xFFFD;";
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace

std::string junit_xml(std::string_view suite, std::span<const JunitCase> cases) {
  std::size_t failures = 0;
  std::size_t skipped = 0;
  double time_s = 0.0;
  for (const auto& c : cases) {
    failures += c.failure ? 1 : 0;
    skipped += c.skipped ? 1 : 0;
    time_s += c.time_s;
  }
  const std::string name = escape(suite);
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += fmt::format(
      "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" "
      "time=\"{:.6f}\">\n",
      name, cases.size(), failures, skipped, time_s);
  xml += fmt::format(
      "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" "
      "skipped=\"{}\" time=\"{:.6f}\">\n",
      name, cases.size(), failures, skipped, time_s);
  for (const auto& c : cases) {
    xml += fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{:.6f}\"", escape(c.name),
                       escape(c.classname), c.time_s);
    if (!c.failure && !c.skipped && c.output.empty()) {
      xml += "/>\n";
      continue;
    }
    xml += ">\n";
    if (c.failure) {
      const std::string message = escape(*c.failure);
      xml += fmt::format("      <failure message=\"{}\">{}</failure>\n", message, message);
    }
    if (c.skipped) {
      xml += "      <skipped/>\n";
    }
    if (!c.output.empty()) {
      xml += fmt::format("      <system-out>{}</system-out>\n", escape(c.output));
    }
    xml += "    </testcase>\n";
  }
  xml += "  </testsuite>\n</testsuites>\n";
  return xml;
}

void write_junit_file(const std::string& path, std::string_view suite,
                      std::span<const JunitCase> cases) {
  const std::string xml = junit_xml(suite, cases);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << xml;
  out.flush();
  if (!out) {
    throw std::runtime_error(
        fmt::format("cannot write the JUnit file {}: {}", path, std::strerror(errno)));
  }
}

}  // namespace kelvin::tools::cli
