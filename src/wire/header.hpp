// SPDX-License-Identifier: MIT
// What the IKEv1 (RFC 2408 3.1, 3.2, 3.14) and IKEv2 (RFC 7296 3.1, 3.2, 3.10) codecs share: the
// fixed header (two 8-byte SPIs or cookies, next payload, version, exchange type, flags, message
// ID, length), the generic payload chain, and a notify payload's fields. Internal to the codec.
#pragma once

#include <ikeguard/error.hpp>
#include <ikeguard/notify.hpp>
#include <ikeguard/wire/bytes.hpp>
#include <ikeguard/wire/message.hpp>

#include <ikeguard/detail/endian.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace ikeguard::wire::detail {

constexpr std::size_t header_size = 28;
constexpr std::size_t max_payload_length = 0xffff;
constexpr std::size_t notify_fixed_size = 4;  // protocol ID, SPI size, notify type

/// Reads the header of `message` if its major version is `version`'s and its length field is
/// exactly the message's size (longer: truncated; shorter or below the header: bad length).
/// The SPIs (IKEv1: cookies) go to `initiator_spi` and `responder_spi`, the rest to `out`.
inline Errc read_header(Bytes message, std::uint8_t version, std::uint64_t& initiator_spi,
                        std::uint64_t& responder_spi, HeaderFields& out) noexcept {
  if (message.data == nullptr || message.size < header_size) return Errc::wire_truncated;
  const std::uint8_t* const p = message.data;
  if ((p[17] >> 4) != (version >> 4)) return Errc::wire_bad_version;
  initiator_spi = load_u64(p);
  responder_spi = load_u64(p + 8);
  out.first_payload = p[16];
  out.exchange_type = p[18];
  out.flags = p[19];
  out.message_id = load_u32(p + 20);
  out.length = load_u32(p + 24);
  if (out.length < header_size) return Errc::wire_bad_length;
  if (out.length > message.size) return Errc::wire_truncated;
  if (out.length < message.size) return Errc::wire_bad_length;
  return Errc::ok;
}

inline void write_header(std::uint8_t* p, std::uint8_t version, std::uint64_t initiator_spi,
                         std::uint64_t responder_spi, std::uint8_t first_payload,
                         std::uint8_t exchange_type, std::uint8_t flags, std::uint32_t message_id,
                         std::size_t length) noexcept {
  store_u64(p, initiator_spi);
  store_u64(p + 8, responder_spi);
  p[16] = first_payload;
  p[17] = version;
  p[18] = exchange_type;
  p[19] = flags;
  store_u32(p + 20, message_id);
  store_u32(p + 24, static_cast<std::uint32_t>(length));
}

/// One payload of the chain: its type (announced by the header or the previous payload), the
/// reserved byte of its generic header (IKEv2: the critical bit), and its body.
struct Payload {
  std::uint8_t type = 0;
  std::uint8_t reserved = 0;
  Bytes body;
};

/// The generic payload chain after the header, read one payload at a time:
///   for (Payload payload; chain.next(payload);) { ... }
///   if (const Errc error = chain.finish(); error != Errc::ok) return error;
/// Each payload's generic header must be there and its length must cover that header and stay
/// within the message; at most max_payloads are read; the chain must end where the message ends.
class PayloadChain {
 public:
  PayloadChain(Bytes message, std::uint8_t first_payload) noexcept
      : message_(message), type_(first_payload) {}

  /// Reads the payload the header or the previous payload announced. False at the end of the
  /// chain (payload type 0, none, in both versions) or on an error, which finish() reports.
  bool next(Payload& out) noexcept {
    if (type_ == 0 || error_ != Errc::ok) return false;
    if (count_ == max_payloads) return fail(Errc::wire_too_many_payloads);
    if (message_.size - offset_ < generic_payload_header_size) return fail(Errc::wire_truncated);
    const std::uint8_t* const h = message_.data + offset_;
    const std::size_t length = load_u16(h + 2);
    if (length < generic_payload_header_size) return fail(Errc::wire_bad_length);
    if (length > message_.size - offset_) return fail(Errc::wire_bad_length);
    out.type = type_;
    out.reserved = h[1];
    out.body = Bytes{h + generic_payload_header_size, length - generic_payload_header_size};
    ++count_;
    offset_ += length;
    type_ = h[0];
    return true;
  }

  /// Payloads read so far.
  std::size_t count() const noexcept { return count_; }

  /// After the last payload read: the error next() met, or a bad length when the payloads
  /// read do not end exactly where the message ends.
  Errc finish() const noexcept {
    if (error_ != Errc::ok) return error_;
    return offset_ == message_.size ? Errc::ok : Errc::wire_bad_length;
  }

 private:
  bool fail(Errc error) noexcept {
    error_ = error;
    return false;
  }

  Bytes message_;
  std::size_t offset_ = header_size;
  std::uint8_t type_ = 0;
  std::size_t count_ = 0;
  Errc error_ = Errc::ok;
};

/// Reads the fields of a notify payload `body` (IKEv1: the body after its DOI): protocol ID,
/// SPI size, type, then the SPI and the notification data.
inline Errc read_notify(Bytes body, NotifyPayload& out) noexcept {
  if (body.size < notify_fixed_size) return Errc::wire_malformed_payload;
  const std::size_t spi_size = body.data[1];
  if (body.size - notify_fixed_size < spi_size) return Errc::wire_malformed_payload;
  out.protocol_id = body.data[0];
  out.type = load_u16(body.data + 2);
  out.spi = Bytes{body.data + notify_fixed_size, spi_size};
  out.data = Bytes{body.data + notify_fixed_size + spi_size,
                   body.size - notify_fixed_size - spi_size};
  return Errc::ok;
}

/// The generic payload header: next payload, not critical, length including these 4 bytes.
inline void write_payload_header(std::uint8_t* p, std::uint8_t next_payload,
                                 std::size_t length) noexcept {
  p[0] = next_payload;
  p[1] = 0;
  store_u16(p + 2, static_cast<std::uint16_t>(length));
}

/// Writes a notify's fields with no SPI (IKEv1: after the DOI); returns the bytes written.
inline std::size_t write_notify_fields(std::uint8_t* p, std::uint8_t protocol_id,
                                       std::uint16_t type, Bytes data) noexcept {
  p[0] = protocol_id;
  p[1] = 0;  // SPI size
  store_u16(p + 2, type);
  copy_bytes(p + notify_fixed_size, data.data, data.size);
  return notify_fixed_size + data.size;
}

/// The size of a message of the header and one notify payload whose body is `fixed_size` bytes
/// and then `data`; refused when `data` is not a valid view, the payload would not fit its
/// length field, or `out` cannot hold the message.
inline Result<std::size_t> single_notify_size(MutableBytes out, std::size_t fixed_size,
                                              Bytes data) noexcept {
  if (!valid_view(data.data, data.size)) return Errc::wire_malformed_payload;
  if (data.size > max_payload_length - generic_payload_header_size - fixed_size) {
    return Errc::wire_bad_length;
  }
  const std::size_t total = header_size + generic_payload_header_size + fixed_size + data.size;
  if (out.data == nullptr || out.size < total) return Errc::wire_buffer_too_small;
  return total;
}

/// The first error notification (a type below `first_status`) of the `count` kept in
/// `notifications`, as the Notice the guard takes: error_notice() of both versions.
template <class Notifications>
std::optional<Notice> first_error(const Notifications& notifications, std::size_t count,
                                  IkeVersion version, std::uint16_t first_status,
                                  std::uint64_t initiator_spi, std::uint64_t responder_spi,
                                  std::uint32_t message_id) noexcept {
  for (std::size_t i = 0; i < count && i < notifications.size(); ++i) {
    if (notifications[i].type < first_status) {
      Notice notice;
      notice.version = version;
      notice.type = notifications[i].type;
      notice.initiator_spi = initiator_spi;
      notice.responder_spi = responder_spi;
      notice.message_id = message_id;
      return notice;
    }
  }
  return std::nullopt;
}

}  // namespace ikeguard::wire::detail
