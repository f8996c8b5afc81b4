// SPDX-License-Identifier: MIT
// A throwaway redis-server for the demo and the tests: on a free 127.0.0.1 port, its files in a
// fresh temporary directory, no persistence, in the foreground of a child process that dies
// with its parent. Never the system's service.
#pragma once

#include <string>
#include <sys/types.h>

namespace ikeguard_cluster {

class RedisServer {
 public:
  /// Runs `redis-server` (or $IKEGUARD_REDIS_SERVER) and waits up to 10 s for it to answer
  /// PING. On failure `error()` says why and `running()` is false.
  RedisServer();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  bool running() const noexcept { return pid_ > 0; }
  const std::string& error() const noexcept { return error_; }
  int port() const noexcept { return port_; }

  /// SIGKILL, as a crash: no goodbye to the clients. Waits for the process to end.
  void kill();
  /// Starts it again on the same port (empty: nothing was saved). False, with error(), if it
  /// does not answer within 10 s.
  bool restart();

 private:
  bool launch();
  std::string directory_;
  std::string error_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace ikeguard_cluster
