// SPDX-License-Identifier: MIT
// The Prometheus text exposition (prometheus.hpp), compiled once (without IKEGUARD_HEADER_ONLY,
// the header declares it only).
#include <ikeguard/prometheus-inl.hpp>
