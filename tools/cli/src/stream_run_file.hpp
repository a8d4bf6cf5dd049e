// `kelvin stream -o FILE.h5`: the stream as a run file (run_file_output.hpp, docs/run-files.md).
// The ADC codes go to /data/codes (int16, [samples x cells]) and one row per received frame to
// /data/frames (int64, [frames x 4]: first_row, first_sequence, samples, lost_before), appended
// in chunks as they arrive: at most kChunkCodes codes (or 0.25 s of samples) are held before
// they are written and the file flushed, so memory stays bounded however long the stream, and a
// stream killed half-way leaves a file readers open with every flushed chunk. Codes are written
// before the frames that describe them, so /data/frames never names rows that are not there.
//
// Thread contract: one thread uses a StreamRunFile.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/tools/run_file/run_file.hpp"
#include "run_file_output.hpp"
#include "stream_file.hpp"

namespace kelvin::tools::cli {

class StreamRunFile : public StreamWriter {
 public:
  // Codes held before a chunk is written (256 KiB).
  static constexpr std::size_t kChunkCodes = 128 * 1024;

  // Creates the run file (refusing an existing one) with `record`, the settings' codes when the
  // board was programmed (`couplings` non-null) and the empty datasets.
  StreamRunFile(const std::string& path, const RunRecord& record, std::uint32_t cells,
                const driver::SymmetricCodes* couplings, std::span<const std::int16_t> biases);

  void append(std::span<const std::int16_t> codes, std::uint64_t first_sequence,
              std::uint64_t lost_before) override;
  // Writes what is held, `metadata` as attributes of /data/codes, and an "error" in it as the
  // run's error.
  void finish(nlohmann::ordered_json metadata) override;
  // Writes the summary and complete = 1, and closes the file.
  void summarize(const nlohmann::ordered_json& summary) override;
  std::string describe() const override;
  const std::filesystem::path& path() const noexcept override { return path_; }

 private:
  void write_held();

  std::filesystem::path path_;
  std::uint32_t cells_;
  run_file::RunFile file_;
  run_file::Appendable<std::int16_t> codes_;
  run_file::Appendable<std::int64_t> frames_;
  std::vector<std::int16_t> held_codes_;
  std::vector<std::int64_t> held_frames_;
  std::uint64_t rows_ = 0;  // rows received: written and held
  std::chrono::steady_clock::time_point last_write_;
};

}  // namespace kelvin::tools::cli
