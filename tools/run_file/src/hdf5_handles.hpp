// What run_file.cpp shares with its helpers: owned HDF5 identifiers (closed on scope exit), the
// open file, and turning an HDF5 failure into common::Error naming the file and what failed.
//
// Thread contract: as run_file.hpp (one thread; HDF5's serial build).
#pragma once

#include <hdf5.h>

#include <string>
#include <string_view>

namespace kelvin::tools::run_file::detail {

// An HDF5 identifier and the function that closes it; closes on destruction (errors ignored:
// HDF5 has recorded them, and a close in cleanup has nobody to report to).
class Hid {
 public:
  using Closer = herr_t (*)(hid_t);
  Hid() = default;
  Hid(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Hid(Hid&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = -1; }
  Hid& operator=(Hid&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = other.id_;
      closer_ = other.closer_;
      other.id_ = -1;
    }
    return *this;
  }
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  ~Hid() { reset(); }

  hid_t get() const noexcept { return id_; }
  void reset() noexcept {
    if (id_ >= 0 && closer_ != nullptr)
      closer_(id_);
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

struct FileHandle {
  FileHandle(hid_t file, std::string name) : id(file), path(std::move(name)) {}
  // Flushes and closes; logs a failure (never throws).
  ~FileHandle();
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;

  // Flushes and closes; throws on failure. Idempotent.
  void close();

  hid_t id;
  std::string path;
  bool closed = false;
};

// Switches HDF5's printing of its error stack on stderr off (once per process).
void silence_hdf5_errors();
// Throws common::Error(kInvalidArgument): "run file PATH: cannot WHAT: <HDF5's innermost
// message>".
[[noreturn]] void fail(std::string_view path, std::string_view what);
// `id` if it is valid (>= 0), else fail(path, what).
hid_t check(hid_t id, std::string_view path, std::string_view what);
void check_status(herr_t status, std::string_view path, std::string_view what);

}  // namespace kelvin::tools::run_file::detail
