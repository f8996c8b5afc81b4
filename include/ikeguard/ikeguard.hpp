// SPDX-License-Identifier: MIT
// The umbrella header: everything a daemon needs from ikeguard. The fmt formatters and the
// JSON-lines sink are apart, in <ikeguard/format.hpp> and <ikeguard/json_sink.hpp> (CMake
// target ikeguard::format).
#pragma once

#include <ikeguard/clock.hpp>
#include <ikeguard/error.hpp>
#include <ikeguard/export.hpp>
#include <ikeguard/fingerprint.hpp>
#include <ikeguard/guard.hpp>
#include <ikeguard/notify.hpp>
#include <ikeguard/peer_key.hpp>
#include <ikeguard/policy.hpp>
#include <ikeguard/prometheus.hpp>
#include <ikeguard/snapshot.hpp>
#include <ikeguard/transport.hpp>
#include <ikeguard/version.hpp>
#include <ikeguard/wire/ikev1.hpp>
#include <ikeguard/wire/ikev2.hpp>
#include <ikeguard/wire/key_exchange.hpp>
#include <ikeguard/wire/proposal.hpp>
