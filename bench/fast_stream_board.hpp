// A board for the streaming benchmarks that produces samples as fast as they are asked for: it
// speaks the real resonator protocol (hello, StartStream, resumable ReadStream, StopStream) and
// keeps the stream's counters consistent, but answers every read at once with a full frame of
// fixed codes instead of emulating the analog cells. The emulated board's 1 MHz sample clock
// (and its model's cost per sample) would otherwise bound the rate; with this board the host
// path (codec, sockets, kelvind's relay, SampleStream's accounting) is what is measured.
//
// Thread contract: one instance per transport; on_bytes() runs on that transport's board thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fake_board.hpp"  // tests/driver
#include "kelvin/driver/device_description.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/firmware_protocol/framing.hpp"

namespace kelvin::bench {

class FastStreamBoard {
 public:
  // `frame_samples` samples of `cells` cells per reply (2 bytes per code).
  FastStreamBoard(std::uint32_t cells, std::uint64_t frame_samples)
      : cells_(cells), frame_samples_(frame_samples), codes_(frame_samples * cells * 2, '\0') {
    for (std::size_t i = 0; i < codes_.size(); ++i)
      codes_[i] = static_cast<char>((i * 2654435761u) >> 13);
  }

  std::vector<std::uint8_t> on_bytes(std::span<const std::uint8_t> bytes) {
    decoder_.feed(bytes);
    std::vector<std::uint8_t> out;
    while (auto frame = decoder_.next()) {
      if (frame->error)
        continue;  // the benchmarks' links do not damage frames
      const auto reply = answer(firmware_protocol::parse_envelope(frame->payload));
      const auto encoded = firmware_protocol::encode_envelope(reply);
      out.insert(out.end(), encoded.begin(), encoded.end());
    }
    return out;
  }

 private:
  using Envelope = firmware_protocol::wire::Envelope;

  Envelope answer(const Envelope& request) {
    Envelope reply;
    if (request.has_hello()) {
      reply = driver::testing::resonator_info_reply(cells_);
      reply.mutable_device_info()->set_capabilities(7 | driver::capability::kStreaming |
                                                    driver::capability::kResumableRead);
    } else if (request.has_start_stream()) {
      running_ = true;
      ++stream_id_;
      produced_ = 0;
      next_unsent_ = 0;
      auto* started = reply.mutable_stream_started();
      started->set_stream_id(stream_id_);
      started->set_first_tick(kTicksPerSample);
      started->set_ticks_per_output_sample(kTicksPerSample);
      started->set_ring_capacity_samples(std::uint64_t{1} << 22);
    } else if (request.has_read_stream()) {
      read(request.read_stream(), reply.mutable_stream_data());
    } else if (request.has_stop_stream()) {
      running_ = false;
      reply.mutable_ack();
    } else {
      reply.mutable_ack();
    }
    reply.set_protocol_version(request.protocol_version());
    reply.set_request_id(request.request_id());
    return reply;
  }

  // While running, every read is answered with a full frame and one more frame stays buffered
  // (so that the host never waits to poll an empty ring); after StopStream the rest drains.
  void read(const firmware_protocol::wire::ReadStream& read,
            firmware_protocol::wire::StreamData* data) {
    const std::uint64_t first = read.has_from_sequence() ? read.from_sequence() : next_unsent_;
    std::uint64_t count = frame_samples_;
    if (read.max_samples() != 0)
      count = std::min<std::uint64_t>(count, read.max_samples());
    if (running_)
      produced_ = std::max(produced_, first + 2 * count);
    count = std::min(count, produced_ - std::min(produced_, first));
    next_unsent_ = first + count;
    data->set_stream_id(stream_id_);
    data->set_cells(cells_);
    data->set_first_sequence(first);
    data->set_first_tick(kTicksPerSample * (first + 1));
    data->set_sample_count(count);
    data->set_samples_le16(codes_.data(), count * cells_ * 2);
    data->set_produced(produced_);
    data->set_running(running_);
    data->set_buffered(produced_ - first - count);
  }

  static constexpr std::uint64_t kTicksPerSample = 100;
  std::uint32_t cells_;
  std::uint64_t frame_samples_;
  std::string codes_;
  firmware_protocol::FrameDecoder decoder_;
  bool running_ = false;
  std::uint64_t stream_id_ = 0;
  std::uint64_t produced_ = 0;
  std::uint64_t next_unsent_ = 0;
};

}  // namespace kelvin::bench
