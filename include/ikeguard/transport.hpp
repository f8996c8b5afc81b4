// SPDX-License-Identifier: MIT
// How the guard's abnormal-information messages leave: through the daemon.
#pragma once

#include <ikeguard/export.hpp>
#include <ikeguard/notify.hpp>
#include <ikeguard/peer_key.hpp>

namespace ikeguard {

/// The daemon's way of sending an error notification to a peer (step B). The guard calls
/// `send_notice` from on_local_rejection: for a configuration error at most once per receiver
/// window; for any other notice (INVALID_KE_PAYLOAD, COOKIE ...) every time, since the peer is
/// meant to act on it. Never while holding a lock of its own, so an implementation may call back
/// into the guard. It may be called from any daemon thread.
class IKEGUARD_API Transport {
 public:
  virtual ~Transport() = default;
  virtual void send_notice(const PeerKey& peer, const Notice& notice) = 0;
};

/// A transport that sends nothing: for a guard used only as an initiator, or when the daemon
/// sends its own error responses and only wants the windows.
class IKEGUARD_API NullTransport final : public Transport {
 public:
  void send_notice(const PeerKey&, const Notice&) override {}
};

}  // namespace ikeguard
