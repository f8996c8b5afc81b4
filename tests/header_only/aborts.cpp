// SPDX-License-Identifier: MIT
// The contract's constructor in a build without exceptions: an invalid policy writes the
// validation message to stderr and aborts (ctest checks both).
#include <ikeguard/ikeguard.hpp>

#if IKEGUARD_HAS_EXCEPTIONS
#error "this program checks a build without exceptions"
#endif

int main() {
  ikeguard::ManualClock clock;
  ikeguard::NullTransport transport;
  ikeguard::Policy policy;
  policy.max_peers = 0;
  ikeguard::NegotiationGuard guard(policy, clock, transport);
  return 0;  // not reached
}
