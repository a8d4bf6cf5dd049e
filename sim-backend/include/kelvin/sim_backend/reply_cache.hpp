// The replies an emulated board keeps so that a request the host sends again (because the reply
// was lost, damaged or late) is answered again without being done twice: a StartRun repeated
// after its RunStarted was lost must not start a second run, and a ReadResults repeated after
// its RunResults was damaged must not find the run already released.
//
// A repeat is recognized by its request id AND the CRC-32 of its payload: a host sends a repeat
// byte for byte, so a different request that happens to reuse an id (a new session, a raw test
// client) is done, not answered from the cache. Hello starts a session: it is always done and
// empties the cache, since a new session numbers its requests from the start again. Request id
// 0 means "no id" and is never cached.
//
// What a real firmware does instead (docs/protocol.md, "Repeated requests"): the host has one
// request in flight, so keeping the newest reply suffices; a board short of RAM keeps what the
// reply was built from (for ReadResults the run record, released only when a request with a
// higher id arrives) rather than a copy of the frame. The emulator keeps copies of the last
// kReplyCacheDepth replies, which also covers a host with a few requests in flight.
//
// Thread contract: a plain value type; the firmware that owns it uses it from its one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

namespace kelvin::sim_backend {

inline constexpr std::size_t kReplyCacheDepth = 4;

class ReplyCache {
 public:
  // The reply kept for this request (same id, same payload bytes), or null.
  const std::vector<std::uint8_t>* find(std::uint64_t request_id,
                                        std::span<const std::uint8_t> request_payload) const;
  // Keeps `reply` as the answer to this request, forgetting the oldest beyond the depth.
  void store(std::uint64_t request_id, std::span<const std::uint8_t> request_payload,
             std::vector<std::uint8_t> reply);
  void clear() noexcept { entries_.clear(); }
  // Repeated requests answered from the cache so far (for diagnostics and tests).
  std::uint64_t resent() const noexcept { return resent_; }
  void count_resent() noexcept { ++resent_; }

 private:
  struct Entry {
    std::uint64_t request_id = 0;
    std::uint32_t request_crc = 0;
    std::vector<std::uint8_t> reply;
  };
  std::deque<Entry> entries_;
  std::uint64_t resent_ = 0;
};

}  // namespace kelvin::sim_backend
