#include "stream_file.hpp"

#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

namespace kelvin::tools::cli {
namespace {

// The .npy header is rewritten with the final row count when the stream ends, so it is padded
// to a fixed size that any count fits in.
constexpr std::size_t kHeaderBytes = 128;
// FILE.json lists at most this many gaps individually (all are counted).
constexpr std::size_t kMaxListedGaps = 10000;

std::runtime_error file_error(const std::filesystem::path& path, const char* what) {
  return std::runtime_error(
      fmt::format("cannot {} {}: {}", what, path.string(), std::strerror(errno)));
}

}  // namespace

StreamFile::StreamFile(std::filesystem::path path, std::uint32_t cells)
    : path_(std::move(path)), cells_(cells) {
  file_ = std::fopen(path_.c_str(), "wb");
  if (!file_)
    throw file_error(path_, "create");
  write_header();
}

StreamFile::~StreamFile() {
  if (file_)
    std::fclose(file_);
}

void StreamFile::write_header() {
  const std::string header =
      matrix_io::npy_header("<i2", fmt::format("({}, {})", rows_, cells_), kHeaderBytes);
  if (std::fseek(file_, 0, SEEK_SET) != 0 ||
      std::fwrite(header.data(), 1, header.size(), file_) != header.size()) {
    throw file_error(path_, "write the header of");
  }
  if (std::fseek(file_, 0, SEEK_END) != 0)
    throw file_error(path_, "seek in");
}

void StreamFile::append(std::span<const std::int16_t> codes, std::uint64_t first_sequence,
                        std::uint64_t lost_before) {
  if (lost_before > 0) {
    ++gaps_total_;
    if (gaps_.size() < kMaxListedGaps) {
      gaps_.push_back(nlohmann::ordered_json{
          {"row", rows_}, {"first_sequence", first_sequence}, {"lost", lost_before}});
    }
  }
  if (codes.size() % cells_ != 0) {
    throw std::logic_error(
        fmt::format("{} codes are not whole samples of {} cells", codes.size(), cells_));
  }
  // Little-endian on the wire and on disk; this host is little-endian too (x86-64, arm64).
  if (!codes.empty() &&
      std::fwrite(codes.data(), sizeof(std::int16_t), codes.size(), file_) != codes.size()) {
    throw file_error(path_, "write to");
  }
  rows_ += codes.size() / cells_;
}

void StreamFile::finish(nlohmann::ordered_json metadata) {
  write_header();
  if (std::fflush(file_) != 0)
    throw file_error(path_, "flush");
  std::fclose(file_);
  file_ = nullptr;
  metadata["samples_file"] = path_.filename().string();
  metadata["rows"] = rows_;
  metadata["cells"] = cells_;
  metadata["gaps_total"] = gaps_total_;
  metadata["gaps_listed"] = gaps_.size();
  metadata["gaps"] = gaps_;
  const std::filesystem::path sidecar = path_.string() + ".json";
  std::ofstream out(sidecar);
  out << write_json(metadata);
  if (!out)
    throw file_error(sidecar, "write");
}

std::string StreamFile::describe() const {
  return fmt::format("samples in {} (metadata and gaps in {}.json)", path_.string(),
                     path_.string());
}

}  // namespace kelvin::tools::cli
