#include "sample_model_file.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "kelvin/tools/cli/json_writer.hpp"

namespace kelvin::tools::cli {

runtime::IsingModel read_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(fmt::format("cannot read model file '{}'", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  Json doc;
  try {
    doc = Json::parse(buffer.str());
  } catch (const Json::parse_error& e) {
    throw std::runtime_error(fmt::format("model file '{}' is not valid JSON: {}", path, e.what()));
  }
  const auto fail = [&path](const std::string& what) -> std::runtime_error {
    return std::runtime_error(fmt::format("model file '{}': {}", path, what));
  };
  const auto as_int = [&](const Json& value, const std::string& where) -> long long {
    if (!value.is_number_integer())
      throw fail(fmt::format("{} must be an integer, got {}", where, value.dump()));
    return value.get<long long>();
  };
  if (!doc.is_object())
    throw fail("the model must be a JSON object {\"nodes\", \"edges\", \"bias\"}");
  if (!doc.contains("nodes"))
    throw fail("\"nodes\" is missing");
  const long long nodes = as_int(doc["nodes"], "\"nodes\"");
  if (nodes < 1 || nodes > 65536)
    throw fail(fmt::format("\"nodes\" must be in [1, 65536], got {}", nodes));

  runtime::IsingModel model;
  model.nodes = static_cast<std::uint32_t>(nodes);
  const Json edges = doc.value("edges", Json::array());
  if (!edges.is_array())
    throw fail("\"edges\" must be an array of [i, j, J]");
  for (std::size_t k = 0; k < edges.size(); ++k) {
    const Json& e = edges[k];
    const std::string where = fmt::format("edges[{}]", k);
    if (!e.is_array() || e.size() != 3)
      throw fail(fmt::format("{} must be [i, j, J], got {}", where, e.dump()));
    const long long i = as_int(e[0], where + "[0]");
    const long long j = as_int(e[1], where + "[1]");
    const long long w = as_int(e[2], where + "[2]");
    if (i < 0 || i >= nodes || j < 0 || j >= nodes)
      throw fail(fmt::format("{} = {} names a node outside [0, {})", where, e.dump(), nodes));
    if (w < -1000 || w > 1000)
      throw fail(fmt::format("{}: weight {} is far outside any board's range", where, w));
    model.edges.emplace_back(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j),
                             static_cast<int>(w));
  }
  if (doc.contains("bias")) {
    const Json& bias = doc["bias"];
    if (!bias.is_array() || bias.size() != static_cast<std::size_t>(nodes))
      throw fail(fmt::format("\"bias\" must be an array of {} integers", nodes));
    for (std::size_t i = 0; i < bias.size(); ++i) {
      const long long b = as_int(bias[i], fmt::format("bias[{}]", i));
      if (b < -100000 || b > 100000)
        throw fail(fmt::format("bias[{}] = {} is far outside any board's range", i, b));
      model.bias.push_back(static_cast<int>(b));
    }
  }
  return model;
}

}  // namespace kelvin::tools::cli
