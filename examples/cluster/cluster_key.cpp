// SPDX-License-Identifier: MIT
#include "cluster_member.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ikeguard_cluster {

bool read_cluster_key(const std::string& path, ikeguard::ClusterKey& key, std::string& error) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  unsigned char extra = 0;
  const std::size_t read = std::fread(key.bytes.data(), 1, key.bytes.size(), file);
  const bool longer = std::fread(&extra, 1, 1, file) == 1;
  std::fclose(file);
  if (read != key.bytes.size() || longer) {
    error = path + ": a cluster key is exactly 32 bytes";
    return false;
  }
  return true;
}

bool random_cluster_key(ikeguard::ClusterKey& key) {
  std::size_t filled = 0;
  while (filled < key.bytes.size()) {
    const ssize_t got = ::getrandom(key.bytes.data() + filled, key.bytes.size() - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    filled += static_cast<std::size_t>(got);
  }
  return true;
}

}  // namespace ikeguard_cluster
