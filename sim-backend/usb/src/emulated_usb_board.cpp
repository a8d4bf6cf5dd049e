#include "kelvin/sim_backend/usb/emulated_usb_board.hpp"

#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>
#include <umockdev.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>

#include "firmware_pump.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/sim_backend/resonator_firmware.hpp"
#include "usb_descriptors.hpp"

namespace kelvin::sim_backend::usb {
namespace {

constexpr const char* kSysPath = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1";
constexpr const char* kDevNode = "/dev/bus/usb/001/002";

// What the host may ask of the emulated usbfs: one URB per transfer (scatter-gather), so the
// handler never has to honour bulk continuation, and URBs are reapable after a disconnect.
constexpr std::uint32_t kCapabilities = USBDEVFS_CAP_BULK_SCATTER_GATHER |
                                        USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
                                        USBDEVFS_CAP_REAP_AFTER_DISCONNECT;

std::string device_record(const std::string& serial) {
  return fmt::format(
      "P: /devices/pci0000:00/0000:00:14.0/usb1/1-1\n"
      "N: bus/usb/001/002\n"
      "E: SUBSYSTEM=usb\n"
      "E: DEVTYPE=usb_device\n"
      "E: DEVNAME=/dev/bus/usb/001/002\n"
      "E: BUSNUM=001\n"
      "E: DEVNUM=002\n"
      "A: busnum=1\n"
      "A: devnum=2\n"
      "A: speed=480\n"
      "A: bConfigurationValue=1\n"
      "A: serial={}\n"
      "A: dev=189:1\n"
      "H: descriptors={}\n",
      serial, descriptors_hex());
}

// A submitted URB: the handler's copy of the client's struct and of its buffer (both resolved
// through umockdev, which writes them back to the client when the URB is reaped).
struct Urb {
  UMockdevIoctlData* urb = nullptr;
  UMockdevIoctlData* buffer = nullptr;
  usbdevfs_urb* fields() const { return reinterpret_cast<usbdevfs_urb*>(urb->data); }
};

void release(Urb& u) {
  if (u.buffer != nullptr)
    umockdev_ioctl_data_unref(u.buffer);
  if (u.urb != nullptr)
    umockdev_ioctl_data_unref(u.urb);
  u = {};
}

}  // namespace

struct EmulatedUsbBoard::Impl {
  EmulatedUsbBoardOptions options;
  UMockdevTestbed* testbed = nullptr;
  UMockdevIoctlBase* handler = nullptr;
  std::shared_ptr<spdlog::logger> log = common::logger("kelvin.sim.usb");

  mutable std::mutex mutex;
  bool present = false;
  std::unique_ptr<FirmwarePump> pump;
  // URBs belong to the open file (umockdev client) that submitted them, as in the kernel: a
  // second handle (find() reading the serial) must never reap the transport's URBs.
  struct ClientUrbs {
    std::deque<Urb> in_pending;  // bulk IN URBs waiting for firmware bytes
    std::deque<Urb> done;        // completed URBs waiting to be reaped
  };
  std::map<UMockdevIoctlClient*, ClientUrbs> clients;
  EmulatedUsbStats stats;

  static void on_client_connected(UMockdevIoctlBase*, UMockdevIoctlClient* client, gpointer self) {
    auto* impl = static_cast<Impl*>(self);
    std::lock_guard lock(impl->mutex);
    // A new open file may reuse a closed one's address: start it clean.
    auto it = impl->clients.find(client);
    if (it != impl->clients.end()) {
      release_all(it->second);
      impl->clients.erase(it);
    }
  }

  static void release_all(ClientUrbs& c) {
    for (Urb& u : c.in_pending)
      release(u);
    for (Urb& u : c.done)
      release(u);
    c.in_pending.clear();
    c.done.clear();
  }

  std::uint32_t in_pending_count_locked() const {
    std::size_t n = 0;
    for (const auto& [client, c] : clients)
      n += c.in_pending.size();
    return static_cast<std::uint32_t>(n);
  }

  static gboolean on_ioctl(UMockdevIoctlBase*, UMockdevIoctlClient* client, gpointer self) {
    return static_cast<Impl*>(self)->handle(client);
  }

  gboolean handle(UMockdevIoctlClient* client) {
    const gulong request = umockdev_ioctl_client_get_request(client);
    UMockdevIoctlData* arg = umockdev_ioctl_client_get_arg(client);
    switch (request) {
      case USBDEVFS_GET_CAPABILITIES: {
        UMockdevIoctlData* caps =
            umockdev_ioctl_data_resolve(arg, 0, sizeof(std::uint32_t), nullptr);
        if (caps == nullptr)
          return complete(client, -1, EFAULT);
        std::memcpy(caps->data, &kCapabilities, sizeof kCapabilities);
        umockdev_ioctl_data_unref(caps);
        return complete(client, 0, 0);
      }
      case USBDEVFS_CLAIMINTERFACE:
      case USBDEVFS_RELEASEINTERFACE:
      case USBDEVFS_SETINTERFACE:
      case USBDEVFS_CLEAR_HALT:
      case USBDEVFS_RESETEP:
      case USBDEVFS_RESET:
        return is_present() ? complete(client, 0, 0) : complete(client, -1, ENODEV);
      case USBDEVFS_GETDRIVER:
        return complete(client, -1, ENODATA);  // a vendor interface: no kernel driver bound
      case USBDEVFS_SUBMITURB:
        return submit(client, arg);
      case USBDEVFS_REAPURB:
      case USBDEVFS_REAPURBNDELAY:
        return reap(client, arg);
      case USBDEVFS_DISCARDURB:
        return discard(client, arg);
      default:
        log->debug("emulated USB board: unhandled ioctl 0x{:x}", request);
        return complete(client, -1, ENOTTY);
    }
  }

  static gboolean complete(UMockdevIoctlClient* client, long result, int error) {
    umockdev_ioctl_client_complete(client, result, error);
    return TRUE;
  }

  bool is_present() const {
    std::lock_guard lock(mutex);
    return present;
  }

  gboolean submit(UMockdevIoctlClient* client, UMockdevIoctlData* arg) {
    Urb u;
    u.urb = umockdev_ioctl_data_resolve(arg, 0, sizeof(usbdevfs_urb), nullptr);
    if (u.urb == nullptr)
      return complete(client, -1, EFAULT);
    usbdevfs_urb* f = u.fields();
    if (f->buffer_length < 0) {
      release(u);
      return complete(client, -1, EINVAL);
    }
    u.buffer = umockdev_ioctl_data_resolve(u.urb, offsetof(usbdevfs_urb, buffer),
                                           static_cast<gsize>(f->buffer_length), nullptr);
    if (u.buffer == nullptr && f->buffer_length > 0) {
      release(u);
      return complete(client, -1, EFAULT);
    }
    std::lock_guard lock(mutex);
    if (!present) {
      release(u);
      return complete(client, -1, ENODEV);
    }
    ClientUrbs& mine = clients[client];
    ++stats.urbs_submitted;
    f->status = 0;
    f->actual_length = 0;
    if (f->type == USBDEVFS_URB_TYPE_BULK && f->endpoint == 0x01) {
      const auto* bytes = u.buffer != nullptr ? u.buffer->data : nullptr;
      pump->push({bytes, static_cast<std::size_t>(f->buffer_length)});
      stats.bytes_out += static_cast<std::uint64_t>(f->buffer_length);
      f->actual_length = f->buffer_length;
      mine.done.push_back(u);
    } else if (f->type == USBDEVFS_URB_TYPE_BULK && f->endpoint == 0x81) {
      mine.in_pending.push_back(u);
      stats.in_urbs_pending = in_pending_count_locked();
      stats.max_in_urbs_pending = std::max(stats.max_in_urbs_pending, stats.in_urbs_pending);
    } else if (f->type == USBDEVFS_URB_TYPE_CONTROL && f->endpoint == 0x00) {
      ++stats.control_transfers;
      control(u);
      mine.done.push_back(u);
    } else {
      release(u);
      return complete(client, -1, ENOENT);  // no such endpoint
    }
    return complete(client, 0, 0);
  }

  // Answers a control URB in place: the 8-byte setup packet leads the buffer, data follows.
  void control(Urb& u) {
    usbdevfs_urb* f = u.fields();
    if (u.buffer == nullptr || f->buffer_length < 8) {
      f->status = -EPIPE;
      return;
    }
    const std::uint8_t* setup = u.buffer->data;
    const std::uint8_t request_type = setup[0];
    const std::uint8_t request = setup[1];
    const std::uint8_t index = setup[2];
    const std::uint8_t type = setup[3];
    const std::size_t length = static_cast<std::size_t>(setup[6] | (setup[7] << 8));
    std::optional<std::vector<std::uint8_t>> reply;
    if (request_type == 0x80 && request == 0x06) {  // GET_DESCRIPTOR
      if (type == 0x03)
        reply = string_descriptor(index, options.serial);
      else if (type == 0x01)
        reply = device_descriptor();
    }
    if (!reply) {
      f->status = -EPIPE;  // STALL: the board does not know this request
      return;
    }
    const std::size_t room = std::min(length, static_cast<std::size_t>(f->buffer_length) - 8);
    const std::size_t n = std::min(room, reply->size());
    std::memcpy(u.buffer->data + 8, reply->data(), n);
    f->actual_length = static_cast<int>(n);
  }

  // Completes pending bulk IN URBs with the firmware's bytes, each with as many as are ready (a
  // short packet ends a transfer, as on the wire).
  void fill_in_urbs_locked(ClientUrbs& c) {
    while (!c.in_pending.empty() && pump) {
      Urb& u = c.in_pending.front();
      usbdevfs_urb* f = u.fields();
      const std::size_t n =
          pump->take({u.buffer->data, static_cast<std::size_t>(f->buffer_length)});
      if (n == 0)
        return;
      f->actual_length = static_cast<int>(n);
      f->status = 0;
      stats.bytes_in += n;
      c.done.push_back(u);
      c.in_pending.pop_front();
    }
  }

  gboolean reap(UMockdevIoctlClient* client, UMockdevIoctlData* arg) {
    Urb u;
    bool gone = false;
    {
      std::lock_guard lock(mutex);
      ClientUrbs& mine = clients[client];
      fill_in_urbs_locked(mine);
      stats.in_urbs_pending = in_pending_count_locked();
      if (!mine.done.empty()) {
        u = mine.done.front();
        mine.done.pop_front();
      }
      gone = !present;
    }
    if (u.urb == nullptr) {
      if (gone)
        return complete(client, -1, ENODEV);
      // Nothing to reap. The fd is a regular file, so libusb will ask again at once: pause so
      // that a waiting host does not spin a core.
      if (options.idle_reap_delay_us > 0)
        g_usleep(options.idle_reap_delay_us);
      return complete(client, -1, EAGAIN);
    }
    UMockdevIoctlData* slot = umockdev_ioctl_data_resolve(arg, 0, sizeof(void*), nullptr);
    if (slot == nullptr) {
      release(u);
      return complete(client, -1, EFAULT);
    }
    umockdev_ioctl_data_set_ptr(slot, 0, u.urb);  // writes the URB and its buffer back
    umockdev_ioctl_data_unref(slot);
    release(u);
    return complete(client, 0, 0);
  }

  gboolean discard(UMockdevIoctlClient* client, UMockdevIoctlData* arg) {
    // The argument is the client's URB pointer itself.
    const gulong address = *reinterpret_cast<const gulong*>(arg->data);
    std::lock_guard lock(mutex);
    ClientUrbs& mine = clients[client];
    for (auto it = mine.in_pending.begin(); it != mine.in_pending.end(); ++it) {
      if (it->urb->client_addr == address) {
        it->fields()->status = -ENOENT;
        it->fields()->actual_length = 0;
        mine.done.push_back(*it);
        mine.in_pending.erase(it);
        ++stats.discarded_urbs;
        stats.in_urbs_pending = in_pending_count_locked();
        return complete(client, 0, 0);
      }
    }
    return complete(client, -1, EINVAL);  // already completed
  }

  void add_device() {
    GError* error = nullptr;
    if (!umockdev_testbed_add_from_string(testbed, device_record(options.serial).c_str(), &error)) {
      const std::string why = error != nullptr ? error->message : "unknown error";
      g_clear_error(&error);
      throw std::runtime_error("umockdev cannot add the emulated USB board: " + why);
    }
  }
};

EmulatedUsbBoard::EmulatedUsbBoard(EmulatedUsbBoardOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->options.firmware.serial = impl_->options.serial;
  impl_->testbed = umockdev_testbed_new();
  if (!umockdev_in_mock_environment()) {
    g_object_unref(impl_->testbed);
    throw std::runtime_error(
        "umockdev is not active: run with LD_PRELOAD=libumockdev-preload.so.0");
  }
  impl_->handler = umockdev_ioctl_base_new();
  g_signal_connect(impl_->handler, "handle-ioctl", G_CALLBACK(&Impl::on_ioctl), impl_.get());
  g_signal_connect(impl_->handler, "client-connected", G_CALLBACK(&Impl::on_client_connected),
                   impl_.get());
  GError* error = nullptr;
  // The handler is attached before the device exists, so that a host reacting to the "add"
  // uevent can already open it.
  if (!umockdev_testbed_attach_ioctl(impl_->testbed, kDevNode, impl_->handler, &error)) {
    const std::string why = error != nullptr ? error->message : "unknown error";
    g_clear_error(&error);
    g_object_unref(impl_->handler);
    g_object_unref(impl_->testbed);
    throw std::runtime_error("umockdev cannot attach the usbfs handler: " + why);
  }
  plug();
}

EmulatedUsbBoard::~EmulatedUsbBoard() {
  try {
    unplug();
  } catch (...) {
  }
  umockdev_testbed_detach_ioctl(impl_->testbed, kDevNode, nullptr);
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& [client, urbs] : impl_->clients)
      Impl::release_all(urbs);
    impl_->clients.clear();
  }
  g_object_unref(impl_->handler);
  g_object_unref(impl_->testbed);
}

void EmulatedUsbBoard::plug() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->present)
      return;
    std::unique_ptr<FirmwareEndpoint> firmware = make_resonator_firmware(impl_->options.firmware);
    if (!impl_->options.faults.none()) {
      firmware = std::make_unique<FaultyLink>(std::move(firmware), impl_->options.faults,
                                              impl_->options.firmware.seed);
    }
    impl_->pump = std::make_unique<FirmwarePump>(std::move(firmware));
    impl_->present = true;
  }
  impl_->add_device();  // emits the "add" uevent
}

void EmulatedUsbBoard::unplug(Unplug style) {
  std::unique_ptr<FirmwarePump> old;
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->present)
      return;
    impl_->present = false;
    // As the kernel does on disconnect: every URB in flight completes with -ENODEV.
    for (auto& [client, urbs] : impl_->clients) {
      if (style == Unplug::kAnnounceOnly)
        break;
      for (Urb& u : urbs.in_pending) {
        u.fields()->status = -ENODEV;
        u.fields()->actual_length = 0;
        urbs.done.push_back(u);
      }
      urbs.in_pending.clear();
    }
    impl_->stats.in_urbs_pending = impl_->in_pending_count_locked();
    old = std::move(impl_->pump);
  }
  old.reset();  // powers the firmware off and joins its thread
  umockdev_testbed_uevent(impl_->testbed, kSysPath, "remove");
  umockdev_testbed_remove_device(impl_->testbed, kSysPath);
}

bool EmulatedUsbBoard::plugged() const {
  return impl_->is_present();
}

EmulatedUsbStats EmulatedUsbBoard::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

const std::string& EmulatedUsbBoard::serial() const noexcept {
  return impl_->options.serial;
}

}  // namespace kelvin::sim_backend::usb
