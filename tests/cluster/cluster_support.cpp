// SPDX-License-Identifier: MIT
#include "cluster_support.hpp"

#include <hiredis/hiredis.h>

namespace cluster_test {

void publish_raw(int port, const std::string& channel, const void* bytes, std::size_t size) {
  redisContext* context = redisConnectWithTimeout("127.0.0.1", port, timeval{1, 0});
  REQUIRE(context != nullptr);
  REQUIRE(context->err == 0);
  auto* reply = static_cast<redisReply*>(
      redisCommand(context, "PUBLISH %b %b", channel.data(), channel.size(), bytes, size));
  const bool ok = reply != nullptr && reply->type == REDIS_REPLY_INTEGER;
  if (reply != nullptr) freeReplyObject(reply);
  redisFree(context);
  REQUIRE(ok);
}

}  // namespace cluster_test
