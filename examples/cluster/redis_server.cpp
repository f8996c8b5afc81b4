// SPDX-License-Identifier: MIT
#include "redis_server.hpp"

#include <hiredis/hiredis.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace ikeguard_cluster {
namespace {

// A port the kernel says is free on 127.0.0.1 now; redis-server binds it a moment later (a
// failed start is reported, not retried, so a race shows).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

bool answers_ping(int port) {
  timeval timeout{0, 200000};
  redisContext* context = redisConnectWithTimeout("127.0.0.1", port, timeout);
  bool ok = false;
  if (context != nullptr && context->err == 0) {
    redisSetTimeout(context, timeout);
    auto* reply = static_cast<redisReply*>(redisCommand(context, "PING"));
    ok = reply != nullptr && reply->type == REDIS_REPLY_STATUS;
    if (reply != nullptr) freeReplyObject(reply);
  }
  if (context != nullptr) redisFree(context);
  return ok;
}

}  // namespace

RedisServer::RedisServer() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                        "/ikeguard-redis-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    error_ = std::string("mkdtemp: ") + std::strerror(errno);
    return;
  }
  directory_ = pattern;
  port_ = free_port();
  if (port_ == 0) {
    error_ = "no free loopback port";
    return;
  }
  launch();
}

RedisServer::~RedisServer() {
  kill();
  if (!directory_.empty()) {
    ::unlink((directory_ + "/redis.log").c_str());
    ::rmdir(directory_.c_str());
  }
}

// `program` itself when it names a path, else the first executable of that name on PATH.
static std::string find_program(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string directories = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= directories.size()) {
    const std::size_t end = std::min(directories.find(':', start), directories.size());
    const std::string candidate = directories.substr(start, end - start) + "/" + program;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return program;
}

bool RedisServer::launch() {
  const char* named = std::getenv("IKEGUARD_REDIS_SERVER");
  const std::string program =
      find_program(named != nullptr && *named != '\0' ? named : "redis-server");
  const std::string port = std::to_string(port_);
  const std::string log = directory_ + "/redis.log";
  // Everything the child needs is made before fork(): between fork and exec, a process with
  // other threads may only make async-signal-safe calls.
  const char* arguments[] = {program.c_str(), "--port",       port.c_str(), "--bind",
                             "127.0.0.1",     "--save",       "",           "--appendonly",
                             "no",            "--daemonize",  "no",         "--dir",
                             directory_.c_str(), nullptr};
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) {
    error_ = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (child == 0) {
    // Dies with the program that started it, even if that one crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (out >= 0) {
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
    }
    ::execv(arguments[0], const_cast<char* const*>(arguments));
    ::_exit(127);
  }
  pid_ = child;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (answers_ping(port_)) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = program + " exited at start (not installed? see " + log + ")";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  error_ = program + " did not answer PING on port " + port + " within 10 s";
  kill();
  return false;
}

void RedisServer::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool RedisServer::restart() {
  kill();
  return launch();
}

}  // namespace ikeguard_cluster
