// The files `kelvin stream -o FILE` writes: FILE (.npy, int16 ADC codes, shape [samples, cells],
// written as the samples arrive) and FILE.json beside it (what the codes mean and where samples
// are missing: the ADC scale, device ticks, and every gap with its position in FILE). A FILE
// named *.h5 is a run file instead (stream_run_file.hpp); both are StreamWriters.
//
// Thread contract: one thread uses a StreamWriter.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kelvin::tools::cli {

// Where `kelvin stream -o FILE` puts the samples as they arrive.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Appends samples (sample-major, cells codes each). A loss before them (lost > 0) is recorded
  // as a gap at the current row.
  virtual void append(std::span<const std::int16_t> codes, std::uint64_t first_sequence,
                      std::uint64_t lost_before) = 0;
  // The stream ended (or failed: metadata then has "error"): writes what the codes mean.
  virtual void finish(nlohmann::ordered_json metadata) = 0;
  // The command's JSON summary once it is known (after finish(); a run file keeps it).
  virtual void summarize(const nlohmann::ordered_json& summary) { (void)summary; }
  // Where the output went, for the text report ("samples in FILE ...").
  virtual std::string describe() const = 0;
  virtual const std::filesystem::path& path() const noexcept = 0;
};

class StreamFile : public StreamWriter {
 public:
  // Creates (truncates) the file. Throws std::runtime_error naming the path if it cannot.
  StreamFile(std::filesystem::path path, std::uint32_t cells);
  // Closes without finishing if finish() was not called (the .npy header then says 0 rows).
  ~StreamFile() override;
  StreamFile(const StreamFile&) = delete;
  StreamFile& operator=(const StreamFile&) = delete;

  // Appends samples (sample-major, cells codes each). A loss before them (lost > 0) is recorded
  // as a gap at the current row. Throws std::runtime_error on a write error.
  void append(std::span<const std::int16_t> codes, std::uint64_t first_sequence,
              std::uint64_t lost_before) override;
  // Writes the final .npy header (the row count) and FILE.json with `metadata` plus the gaps.
  void finish(nlohmann::ordered_json metadata) override;
  std::string describe() const override;

  std::uint64_t rows() const noexcept { return rows_; }
  const std::filesystem::path& path() const noexcept override { return path_; }

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
