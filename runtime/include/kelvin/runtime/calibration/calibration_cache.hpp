// A calibration lookup for jobs that run many times on one board (the natural-gradient
// estimator, once per training step): resolve() answers as resolve_calibration()
// (calibration_file.hpp) does, but parses a file only when it is new or has changed since it
// was last read, so a step costs one stat() instead of reading and parsing the JSON.
//
// A file counts as unchanged while its path (the selected file, or <serial>.json in the
// calibration directory as that directory is named at the call), device, inode, size and
// modification time (nanoseconds) are those of the last read and the board (serial, cells) is
// the same. kelvin calibrate and write_calibration() replace a file by renaming a new one over
// it, which always gives a new inode, so every recalibration is picked up at the next resolve().
// A file that appears in, or disappears from, the calibration directory is seen at the next
// resolve() too. Errors (a malformed file, another board's) are not cached: every resolve()
// throws them again until the file is fixed.
//
// Thread contract: one thread at a time (as the estimator that owns it). The calibration
// returned is immutable and shared: it stays valid after later resolve() calls.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/runtime/calibration/board_calibration.hpp"

namespace kelvin::runtime::calibration {

class CalibrationCache {
 public:
  // What `selection` asks for on `board`. Throws as resolve_calibration().
  std::shared_ptr<const AppliedCalibration> resolve(const CalibrationSelection& selection,
                                                    const driver::DeviceDescription& board);
  // Files parsed so far (for tests and diagnostics).
  std::uint64_t reads() const noexcept { return reads_; }

 private:
  // The identity of one file on disk, for the board it was checked against.
  struct FileKey {
    std::filesystem::path path;
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::int64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::string serial;
    std::uint32_t cells = 0;
    bool operator==(const FileKey&) const = default;
  };
  static std::optional<FileKey> key_of(const std::filesystem::path& file,
                                       const driver::DeviceDescription& board);

  std::optional<FileKey> key_;
  std::shared_ptr<const AppliedCalibration> cached_;
  std::shared_ptr<const AppliedCalibration> none_ = std::make_shared<const AppliedCalibration>();
  std::uint64_t reads_ = 0;
};

}  // namespace kelvin::runtime::calibration
