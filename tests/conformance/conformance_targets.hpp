// The targets of the conformance suite: each serves the same emulated board (4 cells, seed 21)
// through a different path and hands out its URI. A target that this build cannot provide
// (no umockdev, say) is skipped, never silently passed.
//
// Thread contract: a Target is used by one test at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace kelvin::conformance {

// The board as the in-process emulator serves it: the reference for bit-for-bit comparisons.
inline constexpr const char* kReferenceUri = "sim:resonator?cells=4&seed=21";

enum class TargetKind { kSim };

inline const char* to_string(TargetKind kind) {
  switch (kind) {
    case TargetKind::kSim:
      return "sim";
  }
  return "unknown";
}

class Target {
 public:
  virtual ~Target() = default;
  virtual std::string uri() const = 0;
};

class SimTarget final : public Target {
 public:
  std::string uri() const override { return kReferenceUri; }
};

inline std::vector<TargetKind> all_targets() {
  return {TargetKind::kSim};
}

inline std::unique_ptr<Target> make_target(TargetKind kind) {
  switch (kind) {
    case TargetKind::kSim:
      return std::make_unique<SimTarget>();
  }
  return nullptr;
}

}  // namespace kelvin::conformance
