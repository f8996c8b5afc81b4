// SPDX-License-Identifier: MIT
// The guard a daemon author would write by hand, for the benchmarks to measure against:
// std::unordered_map behind one std::mutex, the same decisions for the calls measured.
#pragma once

#include <ikeguard/ikeguard.hpp>

#include <cmath>
#include <cstring>
#include <functional>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace ikeguard::bench {

struct PeerKeyHash {
  std::size_t operator()(const PeerKey& key) const noexcept {
    return std::hash<std::string_view>{}(
        std::string_view(reinterpret_cast<const char*>(&key), sizeof key));
  }
};

class BaselineGuard {
 public:
  BaselineGuard(const Policy& policy, Clock& clock, Transport& transport)
      : policy_(policy), clock_(clock), transport_(transport) {}

  Decision on_outbound_proposal(const PeerKey& peer, const Fingerprint& fingerprint = {}) {
    const TimePoint now = clock_.now();
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = peers_.find(peer);
    if (it == peers_.end()) {
      if (fingerprint.known()) peers_[peer].sender_fingerprint = fingerprint.value();
      return {Verdict::proceed, now, 0};
    }
    Entry& e = it->second;
    if (now < e.sender_until) {
      if (!lifts(fingerprint, e.sender_fingerprint)) return {Verdict::hold, e.sender_until, e.sender_strikes};
      e.sender_until = TimePoint::min();
    }
    e.sender_fingerprint = fingerprint.value();
    return {Verdict::proceed, now, e.sender_strikes};
  }

  Decision on_inbound_proposal(const PeerKey& peer, const Fingerprint& fingerprint = {}) {
    const TimePoint now = clock_.now();
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = peers_.find(peer);
    if (it == peers_.end()) return {Verdict::proceed, now, 0};
    Entry& e = it->second;
    if (now < e.receiver_until) {
      if (!lifts(fingerprint, e.receiver_fingerprint)) {
        return {Verdict::hold, e.receiver_until, e.receiver_strikes};
      }
      e.receiver_until = TimePoint::min();
    }
    return {Verdict::proceed, now, e.receiver_strikes};
  }

  Decision on_local_rejection(const PeerKey& peer, const Notice& notice,
                              const Fingerprint& fingerprint = {}) {
    const TimePoint now = clock_.now();
    Decision decision;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      Entry& e = peers_[peer];
      if (now < e.receiver_until && !lifts(fingerprint, e.receiver_fingerprint)) {
        return {Verdict::hold, e.receiver_until, e.receiver_strikes};
      }
      ++e.receiver_strikes;
      const double length = static_cast<double>(policy_.receiver_window.count()) *
                            std::pow(policy_.backoff, e.receiver_strikes - 1.0);
      e.receiver_until = now + Duration(static_cast<Duration::rep>(
                                   std::min(length, static_cast<double>(policy_.max_window.count()))));
      e.receiver_fingerprint = fingerprint.value();
      decision = {Verdict::hold, e.receiver_until, e.receiver_strikes};
    }
    transport_.send_notice(peer, notice);
    return decision;
  }

  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return peers_.size();
  }

 private:
  struct Entry {
    TimePoint sender_until = TimePoint::min();
    TimePoint receiver_until = TimePoint::min();
    std::uint64_t sender_fingerprint = 0;
    std::uint64_t receiver_fingerprint = 0;
    std::uint32_t sender_strikes = 0;
    std::uint32_t receiver_strikes = 0;
  };
  static bool lifts(const Fingerprint& offered, std::uint64_t remembered) {
    return offered.known() && remembered != 0 && offered.value() != remembered;
  }

  Policy policy_;
  Clock& clock_;
  Transport& transport_;
  mutable std::mutex mutex_;
  std::unordered_map<PeerKey, Entry, PeerKeyHash> peers_;
};

}  // namespace ikeguard::bench
