#include "usb_context.hpp"

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/driver/usb/usb_transport.hpp"

namespace kelvin::driver::usb {

using common::Error;
using common::ErrorKind;

std::shared_ptr<UsbContext> UsbContext::shared() {
  static std::mutex mutex;
  static std::weak_ptr<UsbContext> current;
  std::lock_guard lock(mutex);
  if (auto live = current.lock())
    return live;
  std::shared_ptr<UsbContext> created(new UsbContext());
  current = created;
  return created;
}

UsbContext::UsbContext() {
  const int rc = libusb_init(&ctx_);
  if (rc != LIBUSB_SUCCESS) {
    throw Error(ErrorKind::kNotSupported,
                fmt::format("cannot start libusb: {}", libusb_strerror(rc)));
  }
  auto log = common::logger("kelvin.usb");
  if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
    const int hp = libusb_hotplug_register_callback(
        ctx_,
        static_cast<int>(LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT), 0,
        kUsbVendorId, kUsbProductId, LIBUSB_HOTPLUG_MATCH_ANY, &UsbContext::on_hotplug, this,
        &hotplug_);
    if (hp != LIBUSB_SUCCESS) {
      hotplug_ = 0;
      log->warn(
          "libusb hotplug registration failed ({}); unplug is seen through transfer "
          "errors only",
          libusb_strerror(hp));
    }
  } else {
    log->info("libusb has no hotplug support here; unplug is seen through transfer errors only");
  }
  events_ = std::thread([this] { event_loop(); });
}

UsbContext::~UsbContext() {
  stop_ = true;
  if (hotplug_ != 0)
    libusb_hotplug_deregister_callback(ctx_, hotplug_);
  libusb_interrupt_event_handler(ctx_);
  if (events_.joinable())
    events_.join();
  libusb_exit(ctx_);
}

void UsbContext::event_loop() {
  auto log = common::logger("kelvin.usb");
  while (!stop_) {
    // The timeout only bounds how late a stop request is noticed; interrupt_event_handler()
    // wakes the loop at once.
    timeval tv{0, 200'000};
    const int rc = libusb_handle_events_timeout_completed(ctx_, &tv, nullptr);
    if (rc != LIBUSB_SUCCESS && rc != LIBUSB_ERROR_INTERRUPTED) {
      log->warn("libusb event handling failed: {}", libusb_strerror(rc));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // do not spin on a bad fd
    }
  }
}

std::uint64_t UsbContext::add_listener(Listener listener) {
  std::lock_guard lock(listeners_mutex_);
  const std::uint64_t id = next_listener_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void UsbContext::remove_listener(std::uint64_t id) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.erase(id);
}

int LIBUSB_CALL UsbContext::on_hotplug(libusb_context*, libusb_device* device,
                                       libusb_hotplug_event event, void* self) {
  auto* context = static_cast<UsbContext*>(self);
  const bool arrived = event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED;
  common::logger("kelvin.usb")
      ->info("kelvin board {} on bus {} address {}", arrived ? "arrived" : "left",
             libusb_get_bus_number(device), libusb_get_device_address(device));
  std::lock_guard lock(context->listeners_mutex_);
  for (auto& [id, listener] : context->listeners_) {
    try {
      listener(device, arrived);
    } catch (...) {
      // A listener must not take the event thread down.
    }
  }
  return 0;  // stay registered
}

}  // namespace kelvin::driver::usb
