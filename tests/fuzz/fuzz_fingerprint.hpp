// SPDX-License-Identifier: MIT
// The C guard fuzz_ikev2 and fuzz_ikev1 give every input to ikeguard_fingerprint_message().
#pragma once

#include <ikeguard/ikeguard.h>

#include "fuzz_check.hpp"

namespace ikeguard::fuzz {

/// One guard for the whole run, with a table of one peer: only its fingerprint key is used.
inline const ikeguard_handle* c_guard() {
  static ikeguard_handle* const guard = [] {
    ikeguard_policy policy;
    ikeguard_policy_init(&policy);
    policy.max_peers = 1;
    ikeguard_handle* made = nullptr;
    IKEGUARD_FUZZ_CHECK(ikeguard_create(&made, &policy, nullptr, nullptr) == IKEGUARD_OK);
    return made;
  }();
  return guard;
}

/// The major version of a message at least a header long (IKE and ISAKMP alike), else 0.
inline unsigned major_version(wire::Bytes message) noexcept {
  return message.data != nullptr && message.size >= 28 ? unsigned{message.data[17]} >> 4 : 0u;
}

}  // namespace ikeguard::fuzz
