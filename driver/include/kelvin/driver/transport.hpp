// A transport moves bytes between the host and one board: an in-process pipe to an emulator, a
// socket, or USB bulk endpoints. It knows nothing of frames or messages.
//
// Thread contract: write() and read_some() may run concurrently with each other (one writer and
// one reader thread). close() may be called from any thread at any time; it wakes every blocked
// write() and read_some() with Error(kDisconnected). The destructor closes and never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "kelvin/common/deadline.hpp"

namespace kelvin::driver {

class Transport {
 public:
  virtual ~Transport() = default;

  // Sends all bytes. Throws Error(kTimeout) or Error(kDisconnected).
  virtual void write(std::span<const std::uint8_t> bytes, common::Deadline deadline) = 0;
  // Blocks until at least one byte is available, copies up to out.size() bytes and returns how
  // many. Throws Error(kTimeout) or Error(kDisconnected).
  virtual std::size_t read_some(std::span<std::uint8_t> out, common::Deadline deadline) = 0;
  virtual void close() noexcept = 0;
  virtual bool is_open() const noexcept = 0;
  // For logs and errors, for example "in-process sim:resonator?cells=8".
  virtual std::string describe() const = 0;
};

}  // namespace kelvin::driver
