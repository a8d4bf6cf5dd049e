// One HDF5 file per run (docs/run-files.md): create it, put string and number attributes on the
// root and on groups, write whole datasets (1-D or 2-D; double, int16, int64), and append rows
// to a chunked 2-D dataset as they arrive. HDF5 (Debian's libhdf5, C API) stays behind this
// header: no HDF5 type or header leaks out.
//
// Crash behaviour: Appendable::append() flushes the file (H5Fflush) after each chunk unless told
// not to, so a process killed between appends leaves a file that any HDF5 reader (h5py) opens,
// holding every row appended and flushed before the kill. The file uses HDF5's default (oldest
// compatible) format, which has no "open for writing" flag that would make readers refuse a file
// that was never closed.
//
// Errors: every HDF5 failure throws common::Error naming the file and what failed (HDF5's own
// error printing on stderr is switched off). A caller's mistake (a shape that does not match the
// values, an appended span that is not whole rows) is ErrorKind::kInvalidArgument; a file that
// cannot be created or written is kInvalidArgument too (the path given is the input at fault: a
// missing folder, no permission, a full disk).
//
// Paths name objects inside the file, HDF5 style: "/" is the root, "/board" a group,
// "/stream/codes" a dataset. Groups are created with create_group() (missing parents too);
// a dataset's parent groups are created as needed.
//
// Thread contract: a RunFile and its Appendables belong to one thread at a time. The library
// itself is HDF5's serial build, which is not thread-safe: two threads must not use two
// RunFiles at the same time either.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace kelvin::tools::run_file {

// What create() does when the file already exists.
enum class Existing {
  kFail,     // throw common::Error(kInvalidArgument) naming the file (the default: runs are
             // never overwritten silently)
  kReplace,  // truncate it
};

namespace detail {
struct FileHandle;  // the open HDF5 file, shared by a RunFile and its Appendables
}

// A chunked 2-D dataset of T (double, std::int16_t or std::int64_t) whose rows are appended as
// they arrive. Keeps the file open while it lives (moving it keeps the same dataset).
template <typename T>
class Appendable {
 public:
  enum class Flush { kYes, kNo };

  Appendable(Appendable&&) noexcept;
  Appendable& operator=(Appendable&&) noexcept;
  Appendable(const Appendable&) = delete;
  Appendable& operator=(const Appendable&) = delete;
  // Closes the dataset; never throws (a failure is logged on "kelvin.run_file").
  ~Appendable();

  // Appends values.size() / columns() rows (row-major). Then, unless flush == kNo, flushes the
  // whole file to disk. Throws common::Error(kInvalidArgument) if values is not whole rows.
  void append(std::span<const T> values, Flush flush = Flush::kYes);
  std::uint64_t rows() const noexcept { return rows_; }
  std::uint64_t columns() const noexcept { return columns_; }

 private:
  friend class RunFile;
  Appendable(std::shared_ptr<detail::FileHandle> file, std::int64_t dataset, std::string path,
             std::uint64_t columns);

  std::shared_ptr<detail::FileHandle> file_;
  std::int64_t dataset_ = -1;  // hid_t
  std::string path_;
  std::uint64_t columns_ = 0;
  std::uint64_t rows_ = 0;
};

class RunFile {
 public:
  // Creates the file. Throws common::Error(kInvalidArgument) naming it if it exists (unless
  // existing == kReplace) or cannot be created.
  static RunFile create(const std::filesystem::path& path, Existing existing = Existing::kFail);

  RunFile(RunFile&&) noexcept;
  RunFile& operator=(RunFile&&) noexcept;
  RunFile(const RunFile&) = delete;
  RunFile& operator=(const RunFile&) = delete;
  // Flushes and closes (the file stays open while an Appendable of it lives); never throws: a
  // failure is logged on "kelvin.run_file". Call close() to see failures.
  ~RunFile();

  // Creates the group at `path` and its missing parents; an existing group is kept.
  void create_group(std::string_view path);

  // Attributes on the object at `object` ("/" for the root; a group or dataset that exists).
  // Setting an attribute again replaces it. Strings are variable-length UTF-8.
  void set_attribute(std::string_view object, std::string_view name, std::string_view value);
  void set_attribute(std::string_view object, std::string_view name, const char* value) {
    set_attribute(object, name, std::string_view(value));
  }
  void set_attribute(std::string_view object, std::string_view name, double value);
  void set_attribute(std::string_view object, std::string_view name, std::int64_t value);

  // Writes a whole dataset of shape {n} or {rows, columns} (row-major values). Throws
  // common::Error(kInvalidArgument) if the shape is not 1-D or 2-D, does not hold exactly
  // values.size() values, or the dataset exists.
  void write(std::string_view path, std::span<const double> values,
             std::span<const std::uint64_t> shape);
  void write(std::string_view path, std::span<const std::int16_t> values,
             std::span<const std::uint64_t> shape);
  void write(std::string_view path, std::span<const std::int64_t> values,
             std::span<const std::uint64_t> shape);

  // Creates an empty [0 x columns] dataset that grows by rows, stored in chunks of chunk_rows
  // rows (0: about 64 KiB per chunk). Throws common::Error(kInvalidArgument) if columns is 0.
  template <typename T>
  Appendable<T> appendable(std::string_view path, std::uint64_t columns,
                           std::uint64_t chunk_rows = 0);

  // Writes everything so far to disk (H5Fflush).
  void flush();
  // Flushes and closes; throws on failure. Later calls (except close()) throw std::logic_error.
  void close();

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  RunFile(std::filesystem::path path, std::shared_ptr<detail::FileHandle> file);
  detail::FileHandle& file() const;

  std::filesystem::path path_;
  std::shared_ptr<detail::FileHandle> file_;
};

}  // namespace kelvin::tools::run_file
