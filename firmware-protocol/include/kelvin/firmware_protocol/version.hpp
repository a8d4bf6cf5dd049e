// The wire protocol version this build speaks: Envelope.protocol_version of every frame, the
// range a host offers in Hello and the version an emulated board reports in DeviceInfo. It is
// defined here and nowhere else; every doc and comment that names "protocol vN" as current is
// checked against it (tests/repo/check_protocol_version.cmake). Mentions of the version that
// added a feature say so: "since protocol v4".
//
// History: v1 the resonator board; v2 the p-bit board; v3 resonator dynamics modes, the quartic
// register, decimation and streaming; v4 per-chain beta on the p-bit board; v5 Ping/Pong, timed
// stream starts and the board server's Attach; v6 resumable stream reads and Attach.list_only.
//
// Thread contract: a constant.
#pragma once

#include <cstdint>

namespace kelvin::firmware_protocol {

inline constexpr std::uint32_t kProtocolVersion = 6;

}  // namespace kelvin::firmware_protocol
