// The USB identity of the emulated kelvin board: the sysfs "descriptors" blob (device descriptor
// followed by the full configuration descriptor), as libusb reads it on Linux, and the string
// descriptors a host fetches with GET_DESCRIPTOR control requests.
//
// Thread contract: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kelvin::sim_backend::usb {

// String descriptor indices used by the device descriptor.
inline constexpr std::uint8_t kManufacturerIndex = 1;
inline constexpr std::uint8_t kProductIndex = 2;
inline constexpr std::uint8_t kSerialIndex = 3;

// The descriptors as upper-case hex, for a umockdev "H: descriptors=" line. VID:PID 1209:AC01,
// high speed, one configuration with vendor interface 0 (class 0xFF) and bulk endpoints 0x01 OUT
// and 0x81 IN of 512 B.
std::string descriptors_hex();

// The 18-byte device descriptor.
std::vector<std::uint8_t> device_descriptor();

// String descriptor `index` (0: the language list, US English only) with `serial` as string 3,
// or nullopt for an index the board does not have.
std::optional<std::vector<std::uint8_t>> string_descriptor(std::uint8_t index,
                                                           const std::string& serial);

}  // namespace kelvin::sim_backend::usb
