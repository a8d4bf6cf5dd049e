#include "kelvin/driver/usb/usb_transport.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <set>

#include <fmt/format.h>
#include <libusb-1.0/libusb.h>

#include "kelvin/common/deadline_wait.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "usb_context.hpp"
#include "usb_enumerate.hpp"
#include "usb_errors.hpp"

namespace kelvin::driver::usb {

using common::Deadline;
using common::Error;
using common::ErrorKind;
namespace {

// Consecutive failed IN transfers after which the link counts as dead (a stalled or babbling
// endpoint would otherwise spin the event thread).
constexpr int kMaxConsecutiveInErrors = 8;
// How long the destructor waits for cancelled transfers to come back before it leaks them rather
// than free memory libusb may still write (only a wedged libusb can hit this).
constexpr auto kDrainBudget = std::chrono::seconds(5);

const char* status_name(libusb_transfer_status status) {
  switch (status) {
    case LIBUSB_TRANSFER_COMPLETED:
      return "completed";
    case LIBUSB_TRANSFER_ERROR:
      return "error";
    case LIBUSB_TRANSFER_TIMED_OUT:
      return "timed out";
    case LIBUSB_TRANSFER_CANCELLED:
      return "cancelled";
    case LIBUSB_TRANSFER_STALL:
      return "stall";
    case LIBUSB_TRANSFER_NO_DEVICE:
      return "no device";
    case LIBUSB_TRANSFER_OVERFLOW:
      return "overflow";
  }
  return "unknown";
}

}  // namespace

void UsbTransportOptions::validate() const {
  if (transfers_in_flight < 8 || transfers_in_flight > 32) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("USB transfers_in_flight must be in [8, 32], got {}", transfers_in_flight));
  }
  if (transfer_size < 512 || transfer_size > 1024 * 1024 || transfer_size % 512 != 0) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("USB transfer_size must be a multiple of 512 in [512, 1 MiB], got {}",
                            transfer_size));
  }
  if (queue_limit < transfer_size) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("USB queue_limit ({}) must hold at least one transfer ({})",
                            queue_limit, transfer_size));
  }
}

struct UsbTransport::Impl {
  // A bulk OUT in flight; owned by its transfer's callback once submitted.
  struct OutOp {
    Impl* impl = nullptr;
    bool done = false;
    libusb_transfer_status status = LIBUSB_TRANSFER_ERROR;
    int actual = 0;
  };

  std::shared_ptr<usb::UsbContext> context;
  libusb_device_handle* handle = nullptr;
  libusb_device* device = nullptr;
  UsbBoardInfo info;
  UsbTransportOptions options;
  std::string description;
  std::uint64_t listener = 0;
  std::shared_ptr<spdlog::logger> log = common::logger("kelvin.usb");

  mutable std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::uint8_t> queue;          // received, not yet read
  std::vector<libusb_transfer*> in_owned;  // every IN transfer, freed by the destructor
  std::vector<libusb_transfer*> parked;    // IN transfers waiting for queue room
  std::set<libusb_transfer*> flying;       // every submitted transfer, IN and OUT
  bool closed = false;
  bool gone = false;
  std::string gone_reason;
  int consecutive_in_errors = 0;
  UsbTransferStats stats;

  bool has_room_locked() const {
    return queue.size() + options.transfer_size <= options.queue_limit;
  }

  void mark_gone_locked(const std::string& reason) {
    if (gone)
      return;
    gone = true;
    gone_reason = reason;
    log->warn("{}: {}", description, reason);
    cancel_all_locked();
    cv.notify_all();
  }

  void cancel_all_locked() {
    for (libusb_transfer* t : flying)
      libusb_cancel_transfer(t);  // the callback reports the outcome
  }

  void submit_in_locked(libusb_transfer* t) {
    const int rc = libusb_submit_transfer(t);
    if (rc == LIBUSB_SUCCESS) {
      flying.insert(t);
      ++stats.in_transfers_pending;
      return;
    }
    parked.push_back(t);
    ++stats.transfer_errors;
    mark_gone_locked(rc == LIBUSB_ERROR_NO_DEVICE
                         ? "the board was unplugged"
                         : fmt::format("bulk IN submission failed: {}", libusb_strerror(rc)));
  }

  void resubmit_parked_locked() {
    while (!parked.empty() && !closed && !gone && has_room_locked()) {
      libusb_transfer* t = parked.back();
      parked.pop_back();
      submit_in_locked(t);
    }
  }

  std::string disconnected_message() const {
    return closed ? description + " is closed" : description + ": " + gone_reason;
  }

  static void LIBUSB_CALL on_in(libusb_transfer* t) {
    auto* self = static_cast<Impl*>(t->user_data);
    std::lock_guard lock(self->mutex);
    self->flying.erase(t);
    --self->stats.in_transfers_pending;
    switch (t->status) {
      case LIBUSB_TRANSFER_COMPLETED:
        self->queue.insert(self->queue.end(), t->buffer, t->buffer + t->actual_length);
        self->stats.bytes_in += static_cast<std::uint64_t>(t->actual_length);
        ++self->stats.in_transfers_completed;
        self->consecutive_in_errors = 0;
        break;
      case LIBUSB_TRANSFER_CANCELLED:
        break;
      case LIBUSB_TRANSFER_NO_DEVICE:
        self->mark_gone_locked("the board was unplugged");
        break;
      default:
        ++self->stats.transfer_errors;
        self->log->warn("{}: bulk IN transfer ended with status '{}'", self->description,
                        status_name(t->status));
        if (++self->consecutive_in_errors >= kMaxConsecutiveInErrors) {
          self->mark_gone_locked(fmt::format("{} bulk IN transfers failed in a row (last: {})",
                                             self->consecutive_in_errors, status_name(t->status)));
        }
        break;
    }
    if (self->closed || self->gone) {
      self->parked.push_back(t);  // back in the destructor's hands
    } else if (self->has_room_locked()) {
      self->submit_in_locked(t);
    } else {
      // Back-pressure: the board keeps its data until read_some() makes room.
      self->parked.push_back(t);
      ++self->stats.parked_transfers;
    }
    self->cv.notify_all();
  }

  static void LIBUSB_CALL on_out(libusb_transfer* t) {
    auto* op = static_cast<OutOp*>(t->user_data);
    Impl* self = op->impl;
    {
      std::lock_guard lock(self->mutex);
      self->flying.erase(t);
      op->done = true;
      op->status = t->status;
      op->actual = t->actual_length;
      if (t->status == LIBUSB_TRANSFER_COMPLETED) {
        self->stats.bytes_out += static_cast<std::uint64_t>(t->actual_length);
        ++self->stats.out_transfers_completed;
      } else if (t->status == LIBUSB_TRANSFER_NO_DEVICE) {
        self->mark_gone_locked("the board was unplugged");
      } else if (t->status != LIBUSB_TRANSFER_CANCELLED) {
        ++self->stats.transfer_errors;
      }
      self->cv.notify_all();
    }
  }

  // Allocates and submits the IN transfers. Throws Error; the caller's destructor cleans up.
  void start_reading() {
    std::lock_guard lock(mutex);
    for (std::uint32_t i = 0; i < options.transfers_in_flight; ++i) {
      libusb_transfer* t = libusb_alloc_transfer(0);
      auto* buffer = static_cast<unsigned char*>(std::malloc(options.transfer_size));
      if (t == nullptr || buffer == nullptr) {
        std::free(buffer);
        libusb_free_transfer(t);
        throw Error(ErrorKind::kOutOfRange, "out of memory for USB transfers");
      }
      // Timeout 0: IN transfers wait for the board indefinitely; callers' deadlines apply to
      // read_some(), never to the transfers, so a timed-out read loses no data.
      libusb_fill_bulk_transfer(t, handle, kUsbEndpointIn, buffer,
                                static_cast<int>(options.transfer_size), &Impl::on_in, this, 0);
      t->flags = LIBUSB_TRANSFER_FREE_BUFFER;
      in_owned.push_back(t);
      submit_in_locked(t);
    }
    if (gone)
      throw Error(ErrorKind::kDisconnected, "cannot start reading from the board: " + gone_reason);
  }

  void on_board_event(libusb_device* dev, bool arrived) {
    if (arrived || dev != device)
      return;
    std::lock_guard lock(mutex);
    mark_gone_locked("the board was unplugged");
  }
};

std::vector<UsbBoardInfo> list_usb_boards() {
  auto context = usb::UsbContext::shared();
  return usb::enumerate_boards(*context);
}

std::unique_ptr<UsbTransport> UsbTransport::open(const UsbSelector& selector,
                                                 const UsbTransportOptions& options) {
  options.validate();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->context = usb::UsbContext::shared();
  usb::OpenedBoard board = usb::open_board(*impl->context, selector);
  impl->handle = board.handle;
  impl->device = libusb_get_device(board.handle);
  impl->info = board.info;
  impl->description = fmt::format("usb:serial={} (bus {} address {})", board.info.serial,
                                  board.info.bus, board.info.address);
  const int rc = libusb_claim_interface(impl->handle, kUsbInterface);
  if (rc != LIBUSB_SUCCESS) {
    libusb_close(impl->handle);
    throw usb::libusb_failure(rc, "cannot claim the interface of " + impl->description);
  }
  // Hotplug LEFT fails blocked callers at once, even before a transfer reports NO_DEVICE.
  Impl* raw = impl.get();
  impl->listener = impl->context->add_listener(
      [raw](libusb_device* dev, bool arrived) { raw->on_board_event(dev, arrived); });
  // From here on the transport's destructor releases everything if starting fails.
  std::unique_ptr<UsbTransport> transport(new UsbTransport(std::move(impl)));
  raw->start_reading();
  raw->log->info("opened {} with {} x {} B IN transfers", raw->description,
                 options.transfers_in_flight, options.transfer_size);
  return transport;
}

UsbTransport::UsbTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

UsbTransport::~UsbTransport() {
  if (!impl_)
    return;
  close();
  bool drained = false;
  {
    std::unique_lock lock(impl_->mutex);
    drained = impl_->cv.wait_for(lock, kDrainBudget, [&] { return impl_->flying.empty(); });
  }
  impl_->context->remove_listener(impl_->listener);
  if (!drained) {
    // Freeing transfers libusb still owns would corrupt memory; leaking them is the lesser harm.
    impl_->log->error("{}: {} USB transfers did not return after cancel; leaking them",
                      impl_->description, impl_->flying.size());
    new std::shared_ptr<usb::UsbContext>(std::move(impl_->context));  // keep libusb alive
    (void)impl_.release();
    return;
  }
  libusb_release_interface(impl_->handle, kUsbInterface);  // fails harmlessly once unplugged
  libusb_close(impl_->handle);
  for (libusb_transfer* t : impl_->in_owned)
    libusb_free_transfer(t);
  impl_->in_owned.clear();
}

void UsbTransport::write(std::span<const std::uint8_t> bytes, Deadline deadline) {
  if (bytes.empty())
    return;
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("a USB write of {} B is larger than one libusb transfer can be", bytes.size()));
  }
  Impl& impl = *impl_;
  std::unique_lock lock(impl.mutex);
  if (impl.closed || impl.gone)
    throw Error(ErrorKind::kDisconnected, impl.disconnected_message());
  if (deadline.expired())
    throw Error(ErrorKind::kTimeout, "write deadline passed before sending to " + impl.description);
  libusb_transfer* t = libusb_alloc_transfer(0);
  auto* buffer = static_cast<unsigned char*>(std::malloc(bytes.size()));
  if (t == nullptr || buffer == nullptr) {
    std::free(buffer);
    libusb_free_transfer(t);
    throw Error(ErrorKind::kOutOfRange, "out of memory for a USB transfer");
  }
  std::memcpy(buffer, bytes.data(), bytes.size());
  auto op = std::make_unique<Impl::OutOp>();
  op->impl = &impl;
  libusb_fill_bulk_transfer(t, impl.handle, kUsbEndpointOut, buffer, static_cast<int>(bytes.size()),
                            &Impl::on_out, op.get(), 0);
  t->flags = LIBUSB_TRANSFER_FREE_BUFFER;
  const int rc = libusb_submit_transfer(t);
  if (rc != LIBUSB_SUCCESS) {
    libusb_free_transfer(t);
    if (rc == LIBUSB_ERROR_NO_DEVICE) {
      impl.mark_gone_locked("the board was unplugged");
      throw Error(ErrorKind::kDisconnected, impl.disconnected_message());
    }
    throw usb::libusb_failure(rc, "bulk OUT to " + impl.description + " failed");
  }
  impl.flying.insert(t);
  common::detail::wait_until(impl.cv, lock, deadline,
                             [&] { return op->done || impl.closed || impl.gone; });
  if (!op->done) {
    // Timed out, closed or unplugged: cancel, then wait for the callback (cancellation is
    // prompt: the event thread reaps the discarded URB) so that op and t can be freed here.
    libusb_cancel_transfer(t);
    impl.cv.wait_for(lock, kDrainBudget, [&] { return op->done; });
    if (!op->done) {
      (void)op.release();  // the callback may still come; never free what it will touch
      throw Error(ErrorKind::kDisconnected, impl.description + ": bulk OUT did not return");
    }
  }
  libusb_free_transfer(t);
  if (op->status == LIBUSB_TRANSFER_COMPLETED && op->actual == static_cast<int>(bytes.size()))
    return;
  if (impl.closed || impl.gone)
    throw Error(ErrorKind::kDisconnected, impl.disconnected_message());
  if (op->status == LIBUSB_TRANSFER_CANCELLED || op->status == LIBUSB_TRANSFER_COMPLETED) {
    throw Error(ErrorKind::kTimeout,
                fmt::format("bulk OUT of {} B to {} did not finish before the deadline ({} B sent)",
                            bytes.size(), impl.description, op->actual));
  }
  throw Error(ErrorKind::kDisconnected,
              fmt::format("bulk OUT to {} failed: {}", impl.description, status_name(op->status)));
}

std::size_t UsbTransport::read_some(std::span<std::uint8_t> out, Deadline deadline) {
  if (out.empty())
    return 0;
  Impl& impl = *impl_;
  std::unique_lock lock(impl.mutex);
  common::detail::wait_until(impl.cv, lock, deadline,
                             [&] { return impl.closed || impl.gone || !impl.queue.empty(); });
  // Bytes that arrived before an unplug are still delivered; after close() nothing is.
  if (!impl.queue.empty() && !impl.closed) {
    const std::size_t n = std::min(out.size(), impl.queue.size());
    std::copy_n(impl.queue.begin(), n, out.begin());
    impl.queue.erase(impl.queue.begin(), impl.queue.begin() + static_cast<std::ptrdiff_t>(n));
    impl.resubmit_parked_locked();
    return n;
  }
  if (impl.closed || impl.gone)
    throw Error(ErrorKind::kDisconnected, impl.disconnected_message());
  throw Error(ErrorKind::kTimeout,
              fmt::format("no bytes from {} before the deadline", impl.description));
}

void UsbTransport::close() noexcept {
  std::lock_guard lock(impl_->mutex);
  if (impl_->closed)
    return;
  impl_->closed = true;
  impl_->cancel_all_locked();
  impl_->cv.notify_all();
}

bool UsbTransport::is_open() const noexcept {
  std::lock_guard lock(impl_->mutex);
  return !impl_->closed && !impl_->gone;
}

std::string UsbTransport::describe() const {
  return impl_->description;
}

UsbTransferStats UsbTransport::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

const UsbBoardInfo& UsbTransport::board() const noexcept {
  return impl_->info;
}

}  // namespace kelvin::driver::usb
