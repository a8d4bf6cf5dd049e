// The files `kelvin stream -o FILE` writes: FILE (.npy, int16 ADC codes, shape [samples, cells],
// written as the samples arrive) and FILE.json beside it (what the codes mean and where samples
// are missing: the ADC scale, device ticks, and every gap with its position in FILE).
//
// Thread contract: one thread uses a StreamFile.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kelvin::tools::cli {

class StreamFile {
 public:
  // Creates (truncates) the file. Throws std::runtime_error naming the path if it cannot.
  StreamFile(std::filesystem::path path, std::uint32_t cells);
  // Closes without finishing if finish() was not called (the .npy header then says 0 rows).
  ~StreamFile();
  StreamFile(const StreamFile&) = delete;
  StreamFile& operator=(const StreamFile&) = delete;

  // Appends samples (sample-major, cells codes each). A loss before them (lost > 0) is recorded
  // as a gap at the current row. Throws std::runtime_error on a write error.
  void append(std::span<const std::int16_t> codes, std::uint64_t first_sequence,
              std::uint64_t lost_before);
  // Writes the final .npy header (the row count) and FILE.json with `metadata` plus the gaps.
  void finish(nlohmann::ordered_json metadata);

  std::uint64_t rows() const noexcept { return rows_; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  void write_header();

  std::filesystem::path path_;
  std::uint32_t cells_;
  std::FILE* file_ = nullptr;
  std::uint64_t rows_ = 0;
  nlohmann::ordered_json gaps_ = nlohmann::ordered_json::array();
  std::uint64_t gaps_total_ = 0;
};

}  // namespace kelvin::tools::cli
