// SPDX-License-Identifier: MIT
// The events of one guard call: collected while it holds a shard's lock, delivered to the sink
// when the call ends, after every lock is released. Internal.
#pragma once

#include <ikeguard/events.hpp>
#include <ikeguard/detail/peer_state.hpp>
#include <ikeguard/detail/stamps.hpp>

#include <algorithm>
#include <new>

namespace ikeguard::detail {

class EventBatch {
 public:
  // The most events one call makes: three lapses, a lift, an eviction, a window, a notice.
  static constexpr unsigned capacity = 8;

  // Declared before the call's lock, so it ends after the lock. `peer` is the call's peer (null
  // for none); `sink` null: every add() answers null and nothing else happens.
  EventBatch(EventSink* sink, const PeerKey* peer, const Now& now) noexcept
      : sink_(sink), peer_(peer), now_(now) {}
  ~EventBatch() {
    for (unsigned i = 0; i < count_; ++i) sink_->on_event(event(i));
  }
  EventBatch(const EventBatch&) = delete;
  EventBatch& operator=(const EventBatch&) = delete;

  bool wanted() const noexcept { return sink_ != nullptr; }

  // A new event about the call's peer at now, or null when no sink wants it.
  Event* add(EventKind kind, Direction direction) noexcept {
    return add_about(peer_ != nullptr ? *peer_ : PeerKey{}, kind, direction);
  }
  Event* add_about(const PeerKey& peer, EventKind kind, Direction direction) noexcept {
    if (sink_ == nullptr || count_ == capacity) return nullptr;
    // Constructed only here: a call that emits nothing pays for no Event.
    Event* e = new (&storage_[count_++ * sizeof(Event)]) Event();
    e->kind = kind;
    e->direction = direction;
    e->peer = peer;
    e->at = point(now_.ns);
    e->until = e->at;
    e->node = node_;
    return e;
  }

  // `until` as the event's window end, and the time left when it lies ahead.
  void window(Event* e, Stamp until, std::uint32_t strikes, std::uint32_t fingerprint) const noexcept {
    if (e == nullptr) return;
    e->until = end_of(until, now_);
    e->remaining = std::max(Duration::zero(), e->until - e->at);
    e->strikes = strikes;
    e->fingerprint = fingerprint;
  }

  // A cluster record's origin, given to every event: such events are never sent on again.
  void from_node(std::uint64_t node) noexcept { node_ = node; }

  // The call's notice, given to the events add_noticed() makes.
  void about(const Notice& notice, NotifyClass cls) noexcept {
    notice_ = &notice;
    class_ = cls;
  }
  Event* add_noticed(EventKind kind, Direction direction) noexcept {
    Event* e = add(kind, direction);
    if (e != nullptr && notice_ != nullptr) {
      e->has_notice = true;
      e->version = notice_->version;
      e->notify_type = notice_->type;
      e->notify_class = class_;
    }
    return e;
  }

  // settle(), saying what lapsed.
  bool settle(PeerState& state, Millis forgive_ms) noexcept {
    if (sink_ == nullptr) return state.settle(now_.at, forgive_ms);
    const PeerState before = state;
    if (!state.settle(now_.at, forgive_ms)) return false;
    if (before.sender_hold() != SenderHold::none && state.sender_hold() == SenderHold::none) {
      Event* e = add(EventKind::window_lapsed, Direction::sender);
      window(e, before.sender_until, before.sender_strikes, before.sender_fingerprint);
      if (e != nullptr) e->remaining = Duration::zero();
    }
    if (before.receiver_set() && !state.receiver_set()) {
      Event* e = add(EventKind::window_lapsed, Direction::receiver);
      window(e, before.receiver_until, before.receiver_strikes, before.receiver_fingerprint);
      if (e != nullptr) e->remaining = Duration::zero();
    }
    if (before.counted() && !state.counted()) {
      // until: when they were due to be forgiven, forgive_after after the last failure.
      window(add(EventKind::strikes_forgiven, Direction::none),
             stamp(now_.ms + ahead(before.last_failure, now_.at) + forgive_ms), before.total_strikes(), 0);
    }
    return true;
  }

 private:
  Event& event(unsigned i) noexcept { return *std::launder(reinterpret_cast<Event*>(&storage_[i * sizeof(Event)])); }

  EventSink* sink_;
  const PeerKey* peer_;
  const Now& now_;
  const Notice* notice_ = nullptr;
  NotifyClass class_ = NotifyClass::ignored;
  std::uint64_t node_ = 0;
  unsigned count_ = 0;
  alignas(Event) unsigned char storage_[capacity * sizeof(Event)];
};

}  // namespace ikeguard::detail
