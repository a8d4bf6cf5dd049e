// Wire DeviceInfo -> DeviceDescription, with the checks that keep a confused board from
// handing the host impossible scales.
#pragma once

#include "kelvin/driver/device_description.hpp"
#include "kelvin/firmware_protocol/wire.pb.h"

namespace kelvin::driver::detail {

CodeScale from_wire(const firmware_protocol::wire::CodeFormat& format);
// Throws Error(kProtocol) for an unknown family, zero cells or inconsistent code formats.
DeviceDescription from_wire(const firmware_protocol::wire::DeviceInfo& info);

}  // namespace kelvin::driver::detail
