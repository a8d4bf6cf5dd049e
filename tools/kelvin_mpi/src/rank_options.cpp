#include <fmt/format.h>

#include "kelvin/tools/kelvin_mpi/mpi_commands.hpp"

namespace kelvin::tools::kelvin_mpi {

namespace {
int g_local_rank = 0;  // the program is single-threaded; main() sets it before any command runs

void replace_all(std::string& text, const std::string& key, const std::string& value) {
  for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size()))
    text.replace(at, key.size(), value);
}
}  // namespace

void set_local_rank(int local_rank) {
  g_local_rank = local_rank;
}

void add_rank_options(CLI::App& command, RankOptions& options, const std::string& default_uri) {
  options.uri_template = default_uri;
  auto* uri = command
                  .add_option("--uri", options.uri_template,
                              "Each rank's board: a URI in which {rank} is replaced by the rank, "
                              "{local_rank} by its rank on its host")
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
  replace_all(uri, "{rank}", std::to_string(group.rank()));
  replace_all(uri, "{local_rank}", std::to_string(g_local_rank));
  return uri;
}

std::string board_label(const std::string& uri, const std::string& serial) {
  return serial.empty() ? fmt::format("board {}", uri)
                        : fmt::format("board {} (serial {})", uri, serial);
}

}  // namespace kelvin::tools::kelvin_mpi
