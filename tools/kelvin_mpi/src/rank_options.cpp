#include <fmt/format.h>

#include "kelvin/tools/kelvin_mpi/mpi_commands.hpp"

namespace kelvin::tools::kelvin_mpi {

void add_rank_options(CLI::App& command, RankOptions& options, const std::string& default_uri) {
  options.uri_template = default_uri;
  auto* uri = command
                  .add_option("--uri", options.uri_template,
                              "Each rank's board: a URI in which {rank} is replaced by the rank")
                  ->capture_default_str();
  command
      .add_option("--uris", options.uris,
                  "One board URI per rank, in rank order (instead of --uri)")
      ->delimiter(',')
      ->excludes(uri);
}

std::string rank_uri(const RankOptions& options, const runtime::Collective& group) {
  if (!options.uris.empty()) {
    if (options.uris.size() != static_cast<std::size_t>(group.size())) {
      throw cli::UsageError(fmt::format("--uris lists {} boards for {} ranks (one per rank)",
                                        options.uris.size(), group.size()));
    }
    return options.uris[static_cast<std::size_t>(group.rank())];
  }
  std::string uri = options.uri_template;
  const std::string key = "{rank}";
  for (auto at = uri.find(key); at != std::string::npos; at = uri.find(key, at))
    uri.replace(at, key.size(), std::to_string(group.rank()));
  return uri;
}

std::string board_label(const std::string& uri, const std::string& serial) {
  return serial.empty() ? fmt::format("board {}", uri)
                        : fmt::format("board {} (serial {})", uri, serial);
}

}  // namespace kelvin::tools::kelvin_mpi
