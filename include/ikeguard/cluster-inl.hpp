// SPDX-License-Identifier: MIT
// ClusterNode's bodies (cluster.hpp). The library compiles this once; under IKEGUARD_HEADER_ONLY
// every user includes it.
#pragma once

#include <ikeguard/cluster.hpp>
