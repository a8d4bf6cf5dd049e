#include "usb_descriptors.hpp"

#include <fmt/format.h>

namespace kelvin::sim_backend::usb {
namespace {

// Multi-byte fields are little-endian, as on the wire.
constexpr std::uint8_t kDeviceDescriptor[] = {
    18,    // bLength
    0x01,  // bDescriptorType: device
    0x00,
    0x02,  // bcdUSB 2.00
    0xFF,  // bDeviceClass: vendor specific
    0x00,
    0x00,  // bDeviceSubClass, bDeviceProtocol
    64,    // bMaxPacketSize0
    0x09,
    0x12,  // idVendor 0x1209 (pid.codes)
    0x01,
    0xAC,  // idProduct 0xAC01 (pid.codes test range; see kUsbProductId in the driver)
    0x00,
    0x01,  // bcdDevice 1.00
    kManufacturerIndex,
    kProductIndex,
    kSerialIndex,
    1,  // bNumConfigurations
};

constexpr std::uint8_t kConfiguration[] = {
    // Configuration: 32 bytes in total, 1 interface, value 1, bus powered, 100 mA.
    9, 0x02, 32, 0, 1, 1, 0, 0x80, 50,
    // Interface 0, alternate 0, 2 endpoints, vendor class.
    9, 0x04, 0, 0, 2, 0xFF, 0, 0, 0,
    // Endpoint 0x01 OUT, bulk, 512 B.
    7, 0x05, 0x01, 0x02, 0x00, 0x02, 0,
    // Endpoint 0x81 IN, bulk, 512 B.
    7, 0x05, 0x81, 0x02, 0x00, 0x02, 0};

std::vector<std::uint8_t> utf16_string(const std::string& text) {
  // ASCII only (serials and names are), so UTF-16LE is each byte followed by a zero.
  const std::size_t chars = std::min<std::size_t>(text.size(), 126);
  std::vector<std::uint8_t> out{static_cast<std::uint8_t>(2 + 2 * chars), 0x03};
  for (std::size_t i = 0; i < chars; ++i) {
    out.push_back(static_cast<std::uint8_t>(text[i]));
    out.push_back(0);
  }
  return out;
}

}  // namespace

std::string descriptors_hex() {
  std::string hex;
  for (std::uint8_t b : kDeviceDescriptor)
    hex += fmt::format("{:02X}", b);
  for (std::uint8_t b : kConfiguration)
    hex += fmt::format("{:02X}", b);
  return hex;
}

std::vector<std::uint8_t> device_descriptor() {
  return {std::begin(kDeviceDescriptor), std::end(kDeviceDescriptor)};
}

std::optional<std::vector<std::uint8_t>> string_descriptor(std::uint8_t index,
                                                           const std::string& serial) {
  switch (index) {
    case 0:
      return std::vector<std::uint8_t>{4, 0x03, 0x09, 0x04};  // LANGID 0x0409
    case kManufacturerIndex:
      return utf16_string("kelvin");
    case kProductIndex:
      return utf16_string("kelvin resonator board (emulated)");
    case kSerialIndex:
      return utf16_string(serial);
    default:
      return std::nullopt;
  }
}

}  // namespace kelvin::sim_backend::usb
