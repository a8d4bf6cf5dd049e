// The process's libusb context and its one event thread. Every USB transport and every find()
// shares it, so there is exactly one thread calling libusb_handle_events_timeout_completed per
// context (libusb's "Multi-threaded applications" guide: one thread handles events, the others
// wait for it). libusb's fds are never put into another reactor, because under umockdev the
// usbfs node is a regular file, which epoll_ctl(2) refuses with EPERM.
//
// Thread contract: shared() may be called from any thread; it returns the live context or
// creates one. The context dies with its last user, which must not be the event thread itself
// (transfer callbacks hold no owning reference). Listeners are called on the event thread and
// must not block; add/remove may be called from any thread except from inside a listener.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <libusb-1.0/libusb.h>

namespace kelvin::driver::usb {

class UsbContext {
 public:
  // Throws Error(kNotSupported) if libusb cannot be initialized.
  static std::shared_ptr<UsbContext> shared();

  ~UsbContext();
  UsbContext(const UsbContext&) = delete;
  UsbContext& operator=(const UsbContext&) = delete;

  libusb_context* raw() const noexcept { return ctx_; }
  bool has_hotplug() const noexcept { return hotplug_ != 0; }

  // Called with a kelvin board that arrived or left (hotplug events, if libusb has them).
  using Listener = std::function<void(libusb_device* device, bool arrived)>;
  std::uint64_t add_listener(Listener listener);
  void remove_listener(std::uint64_t id);

 private:
  UsbContext();
  void event_loop();
  static int LIBUSB_CALL on_hotplug(libusb_context* ctx, libusb_device* device,
                                    libusb_hotplug_event event, void* self);

  libusb_context* ctx_ = nullptr;
  libusb_hotplug_callback_handle hotplug_ = 0;
  std::atomic<bool> stop_{false};
  std::thread events_;
  std::mutex listeners_mutex_;
  std::map<std::uint64_t, Listener> listeners_;
  std::uint64_t next_listener_ = 1;
};

}  // namespace kelvin::driver::usb
