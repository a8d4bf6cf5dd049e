// Wire DeviceInfo -> DeviceDescription, with the checks that keep a confused board from
// handing the host impossible scales.
#pragma once

#include "kelvin/driver/device_description.hpp"
#include "kelvin/wire/v1/kelvin.pb.h"

namespace kelvin::driver::detail {

CodeScale from_wire(const wire::v1::CodeFormat& format);
// Throws Error(kProtocol) for an unknown family, zero cells or inconsistent code formats.
DeviceDescription from_wire(const wire::v1::DeviceInfo& info);

}  // namespace kelvin::driver::detail
