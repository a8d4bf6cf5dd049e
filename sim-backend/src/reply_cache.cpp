#include "kelvin/sim_backend/reply_cache.hpp"

#include "kelvin/firmware_protocol/framing.hpp"

namespace kelvin::sim_backend {

const std::vector<std::uint8_t>* ReplyCache::find(
    std::uint64_t request_id, std::span<const std::uint8_t> request_payload) const {
  if (request_id == 0 || entries_.empty())
    return nullptr;
  const std::uint32_t crc = firmware_protocol::crc32(request_payload);
  for (const Entry& e : entries_) {
    if (e.request_id == request_id && e.request_crc == crc)
      return &e.reply;
  }
  return nullptr;
}

void ReplyCache::store(std::uint64_t request_id, std::span<const std::uint8_t> request_payload,
                       std::vector<std::uint8_t> reply) {
  if (request_id == 0)
    return;
  entries_.push_back({request_id, firmware_protocol::crc32(request_payload), std::move(reply)});
  while (entries_.size() > kReplyCacheDepth)
    entries_.pop_front();
}

}  // namespace kelvin::sim_backend
