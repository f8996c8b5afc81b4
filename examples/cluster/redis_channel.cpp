// SPDX-License-Identifier: MIT
#include "redis_channel.hpp"

#include <hiredis/hiredis.h>

#include <poll.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace ikeguard_cluster {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

struct FreeContext {
  void operator()(redisContext* context) const noexcept { redisFree(context); }
};
using Context = std::unique_ptr<redisContext, FreeContext>;

struct FreeReply {
  void operator()(redisReply* reply) const noexcept { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, FreeReply>;

timeval to_timeval(milliseconds ms) noexcept {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

// A connection whose connect and every command time out after io_timeout, so no thread hangs on
// a Redis that stopped answering; null when Redis cannot be reached.
Context connect(const ChannelConfig& config) {
  Context context(redisConnectWithTimeout(config.host.c_str(), config.port,
                                          to_timeval(config.io_timeout)));
  if (!context || context->err != 0) return nullptr;
  if (redisSetTimeout(context.get(), to_timeval(config.io_timeout)) != REDIS_OK) return nullptr;
  redisEnableKeepAlive(context.get());
  return context;
}

Reply get_reply(redisContext* context) {
  void* reply = nullptr;
  if (redisGetReply(context, &reply) != REDIS_OK) return nullptr;
  return Reply(static_cast<redisReply*>(reply));
}

bool is_error(const Reply& reply) { return !reply || reply->type == REDIS_REPLY_ERROR; }

// What the channel carries: the record, then 4 bytes big-endian of how many milliseconds passed
// between the record's making and its publishing (the receiver passes that as apply()'s age).
constexpr std::size_t message_size = ikeguard::cluster_format::record_size + 4;

// The store's time to live for a record made `age` ago: a window's remaining time, a
// tombstone's configured time; zero or less when it no longer matters.
milliseconds time_to_live(const RecordFields& fields, milliseconds age,
                          const ChannelConfig& config) noexcept {
  const milliseconds full =
      fields.kind == RecordKind::window ? fields.remaining : config.tombstone_ttl;
  return full - age;
}

}  // namespace

std::uint64_t first_sequence_from_clock() noexcept {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count());
}

RedisChannel::RedisChannel(ikeguard::ClusterNode& node, ChannelConfig config)
    : node_(node),
      config_(std::move(config)),
      queue_(config_.queue_capacity),
      own_(config_.own_capacity) {}

RedisChannel::~RedisChannel() { stop(); }

void RedisChannel::start(ikeguard::NegotiationGuard& guard) {
  guard_ = &guard;
  {
    std::lock_guard<std::mutex> hold(lock_);
    stopping_ = false;
  }
  sender_ = std::thread([this] { run_sender(); });
  subscriber_ = std::thread([this] { run_subscriber(); });
}

void RedisChannel::stop() {
  {
    std::lock_guard<std::mutex> hold(lock_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (sender_.joinable()) sender_.join();
  if (subscriber_.joinable()) subscriber_.join();
}

bool RedisChannel::pause(milliseconds delay) {
  std::unique_lock<std::mutex> hold(lock_);
  return !wake_.wait_for(hold, delay, [this] { return stopping_; });
}

void RedisChannel::on_event(const ikeguard::Event& event) noexcept {
  OwnRecord entry;
  if (node_.encode(event, entry.record.bytes.data(), entry.record.bytes.size()) == 0) return;
  if (!read_fields(entry.record.bytes, entry.fields)) return;
  const auto now = RealClock::now();
  entry.record.made = now;
  entry.expires = now + time_to_live(entry.fields, milliseconds(0), config_);
  entry.pending = true;
  {
    std::lock_guard<std::mutex> hold(lock_);
    if (!queue_.push(entry.record)) counters_.dropped_oldest.fetch_add(1, std::memory_order_relaxed);
    if (entry.expires > now && !own_.put(entry, now)) {
      counters_.untracked.fetch_add(1, std::memory_order_relaxed);
    }
  }
  counters_.queued.fetch_add(1, std::memory_order_relaxed);
  wake_.notify_one();
}

ChannelStats RedisChannel::stats() const noexcept {
  ChannelStats out;
#define IKEGUARD_CLUSTER_LOAD(name, help) out.name = counters_.name.load(std::memory_order_relaxed);
  IKEGUARD_CLUSTER_COUNTERS(IKEGUARD_CLUSTER_LOAD)
#undef IKEGUARD_CLUSTER_LOAD
  for (std::size_t i = 0; i < out.refused_by.size(); ++i) {
    out.refused_by[i] = counters_.refused_by[i].load(std::memory_order_relaxed);
  }
  return out;
}

void RedisChannel::count_apply(const ikeguard::Result<ikeguard::Applied>& result) noexcept {
  if (!result) {
    counters_.refused.fetch_add(1, std::memory_order_relaxed);
    const auto code = static_cast<std::size_t>(result.error());
    if (code < counters_.refused_by.size()) {
      counters_.refused_by[code].fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
  switch (result.value()) {
    case ikeguard::Applied::changed:
      counters_.applied_changed.fetch_add(1, std::memory_order_relaxed);
      break;
    case ikeguard::Applied::unchanged:
      counters_.applied_unchanged.fetch_add(1, std::memory_order_relaxed);
      break;
    case ikeguard::Applied::own:
      counters_.applied_own.fetch_add(1, std::memory_order_relaxed);
      break;
  }
}

// ---- sender -------------------------------------------------------------------------------

namespace {

// Stores `record` under its key for what is left of it and, when `publish`, publishes it with
// its age; one round trip. Returns false when Redis failed (the connection is then unusable);
// `expired` is set, and nothing sent, when the record no longer matters.
bool send_record(redisContext* context, const ChannelConfig& config, std::uint64_t node,
                 const QueuedRecord& record, const RecordFields& fields, bool publish,
                 bool& expired) {
  const auto age = duration_cast<milliseconds>(RealClock::now() - record.made);
  const milliseconds ttl = time_to_live(fields, age, config);
  expired = ttl <= milliseconds(0);
  if (expired) return true;
  const std::string key = store_key(config.key_prefix, node, fields);
  unsigned char message[message_size];
  std::memcpy(message, record.bytes.data(), record.bytes.size());
  write_be32(message + record.bytes.size(), static_cast<std::uint32_t>(age.count()));
  if (redisAppendCommand(context, "SET %b %b PX %lld", key.data(), key.size(),
                         record.bytes.data(), record.bytes.size(),
                         static_cast<long long>(ttl.count())) != REDIS_OK) {
    return false;
  }
  if (publish && redisAppendCommand(context, "PUBLISH %b %b", config.channel.data(),
                                    config.channel.size(), message, sizeof message) != REDIS_OK) {
    return false;
  }
  if (is_error(get_reply(context))) return false;
  if (publish && is_error(get_reply(context))) return false;
  return true;
}

}  // namespace

void RedisChannel::run_sender() {
  Context context;
  milliseconds backoff = config_.backoff_min;
  std::vector<OwnRecord> in_force;  // the sender's scratch: only this thread allocates
  for (;;) {
    if (!context) {
      sender_connected_.store(false, std::memory_order_release);
      context = connect(config_);
      if (!context) {
        if (!pause(backoff)) return;
        backoff = std::min(backoff * 2, config_.backoff_max);
        continue;
      }
      backoff = config_.backoff_min;
      counters_.sender_connects.fetch_add(1, std::memory_order_relaxed);
      // Redis may have lost this node's keys, and the queue may have dropped records: store
      // every record still in force again, and publish those never published.
      in_force.clear();
      {
        std::lock_guard<std::mutex> hold(lock_);
        own_.for_each_live(RealClock::now(), [&](OwnRecord& entry) { in_force.push_back(entry); });
      }
      std::sort(in_force.begin(), in_force.end(), [](const OwnRecord& a, const OwnRecord& b) {
        return a.record.made < b.record.made;
      });
      bool failed = false;
      for (const OwnRecord& entry : in_force) {
        bool expired = false;
        if (!send_record(context.get(), config_, node_.id(), entry.record, entry.fields,
                         entry.pending, expired)) {
          failed = true;
          break;
        }
        if (expired) continue;
        counters_.restored.fetch_add(1, std::memory_order_relaxed);
        counters_.stored.fetch_add(1, std::memory_order_relaxed);
        if (entry.pending) {
          counters_.published.fetch_add(1, std::memory_order_relaxed);
          std::lock_guard<std::mutex> hold(lock_);
          if (OwnRecord* live = own_.find(entry.fields, entry.record.bytes, RealClock::now())) {
            live->pending = false;
          }
        }
      }
      if (failed) {
        counters_.send_failures.fetch_add(1, std::memory_order_relaxed);
        context.reset();
        continue;
      }
      sender_connected_.store(true, std::memory_order_release);
    }

    QueuedRecord record;
    bool publish = true;
    bool have = false;
    {
      std::unique_lock<std::mutex> hold(lock_);
      wake_.wait_for(hold, config_.keepalive, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      have = queue_.pop(record);
      if (have) {
        RecordFields fields;
        read_fields(record.bytes, fields);
        // Published already by a reconnection's restore: store it, do not publish it twice.
        if (const OwnRecord* entry = own_.find(fields, record.bytes, RealClock::now())) {
          publish = entry->pending;
        }
      }
    }
    if (!have) {
      Reply pong(static_cast<redisReply*>(redisCommand(context.get(), "PING")));
      if (is_error(pong)) {
        counters_.send_failures.fetch_add(1, std::memory_order_relaxed);
        context.reset();
      }
      continue;
    }
    RecordFields fields;
    if (!read_fields(record.bytes, fields)) continue;
    bool expired = false;
    if (!send_record(context.get(), config_, node_.id(), record, fields, publish, expired)) {
      // The record stays pending in own_ (unless it could not be tracked): the reconnection
      // publishes it.
      counters_.send_failures.fetch_add(1, std::memory_order_relaxed);
      context.reset();
      continue;
    }
    if (expired) {
      counters_.expired_unsent.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    counters_.stored.fetch_add(1, std::memory_order_relaxed);
    if (publish) {
      counters_.published.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard<std::mutex> hold(lock_);
      if (OwnRecord* entry = own_.find(fields, record.bytes, RealClock::now())) {
        entry->pending = false;
      }
    }
  }
}

// ---- subscriber ---------------------------------------------------------------------------

namespace {

struct StoredRecord {
  std::uint64_t node = 0;
  std::uint64_t sequence = 0;
  std::string bytes;
  milliseconds age{0};
};

// Every record under the key prefix, with its age (what its full time to live was minus what
// is left), through its own connection. False when Redis failed.
bool read_store(const ChannelConfig& config, std::vector<StoredRecord>& out) {
  Context context = connect(config);
  if (!context) return false;
  const std::string pattern = config.key_prefix + "*";
  std::string cursor = "0";
  do {
    Reply page(static_cast<redisReply*>(redisCommand(context.get(), "SCAN %s MATCH %b COUNT 256",
                                                     cursor.c_str(), pattern.data(),
                                                     pattern.size())));
    if (is_error(page) || page->type != REDIS_REPLY_ARRAY || page->elements != 2) return false;
    cursor.assign(page->element[0]->str, page->element[0]->len);
    const redisReply* keys = page->element[1];
    // The value and its time to live read together (MULTI/EXEC), so a SET between them cannot
    // pair one record with another's PTTL.
    for (std::size_t i = 0; i < keys->elements; ++i) {
      const redisReply* key = keys->element[i];
      redisAppendCommand(context.get(), "MULTI");
      redisAppendCommand(context.get(), "GET %b", key->str, key->len);
      redisAppendCommand(context.get(), "PTTL %b", key->str, key->len);
      redisAppendCommand(context.get(), "EXEC");
    }
    for (std::size_t i = 0; i < keys->elements; ++i) {
      for (int queued = 0; queued < 3; ++queued) {
        if (is_error(get_reply(context.get()))) return false;
      }
      Reply exec = get_reply(context.get());
      if (is_error(exec)) return false;
      if (exec->type != REDIS_REPLY_ARRAY || exec->elements != 2) continue;
      const redisReply* value = exec->element[0];
      const redisReply* pttl = exec->element[1];
      if (value->type != REDIS_REPLY_STRING) continue;  // gone since SCAN
      StoredRecord stored;
      stored.bytes.assign(value->str, value->len);
      const auto origin = ikeguard::ClusterNode::view(stored.bytes.data(), stored.bytes.size());
      if (origin) {
        stored.node = origin->node;
        stored.sequence = origin->sequence;
      }
      Record record{};
      RecordFields fields;
      if (stored.bytes.size() == record.size()) {
        std::memcpy(record.data(), stored.bytes.data(), record.size());
        if (read_fields(record, fields) && pttl->type == REDIS_REPLY_INTEGER && pttl->integer >= 0) {
          const milliseconds full =
              fields.kind == RecordKind::window ? fields.remaining : config.tombstone_ttl;
          stored.age = std::max(milliseconds(0), full - milliseconds(pttl->integer));
        }
      }
      out.push_back(std::move(stored));
    }
  } while (cursor != "0");
  return true;
}

}  // namespace

void RedisChannel::run_subscriber() {
  milliseconds backoff = config_.backoff_min;
  std::vector<StoredRecord> stored;
  for (;;) {
    in_sync_.store(false, std::memory_order_release);
    {
      std::lock_guard<std::mutex> hold(lock_);
      if (stopping_) return;
    }
    Context context = connect(config_);
    Reply subscribed;
    if (context) {
      subscribed.reset(static_cast<redisReply*>(redisCommand(
          context.get(), "SUBSCRIBE %b", config_.channel.data(), config_.channel.size())));
    }
    // Subscribed before reading the keys: a record stored after the scan began is published
    // after the subscription, so none falls between the two.
    stored.clear();
    if (is_error(subscribed) || !read_store(config_, stored)) {
      if (!pause(backoff)) return;
      backoff = std::min(backoff * 2, config_.backoff_max);
      continue;
    }
    backoff = config_.backoff_min;
    // The replay window follows each origin's newest sequence: apply each node's records oldest
    // first.
    std::sort(stored.begin(), stored.end(), [](const StoredRecord& a, const StoredRecord& b) {
      return std::tie(a.node, a.sequence) < std::tie(b.node, b.sequence);
    });
    for (std::size_t i = 0; i < stored.size(); ++i) {
      // A clear stored once per slot is one record: apply it once.
      if (i > 0 && stored[i].node == stored[i - 1].node && stored[i].node != 0 &&
          stored[i].sequence == stored[i - 1].sequence) {
        continue;
      }
      counters_.resync_records.fetch_add(1, std::memory_order_relaxed);
      count_apply(guard_->apply(stored[i].bytes.data(), stored[i].bytes.size(), stored[i].age));
    }
    counters_.subscriptions.fetch_add(1, std::memory_order_relaxed);
    in_sync_.store(true, std::memory_order_release);

    // Messages: poll the socket so stop() is noticed within 100 ms; a read that fails (Redis
    // gone) ends this connection.
    bool alive = true;
    while (alive) {
      void* raw = nullptr;
      while (alive && redisGetReplyFromReader(context.get(), &raw) == REDIS_OK && raw != nullptr) {
        Reply message(static_cast<redisReply*>(raw));
        raw = nullptr;
        if (message->type != REDIS_REPLY_ARRAY || message->elements != 3 ||
            message->element[2]->type != REDIS_REPLY_STRING) {
          continue;
        }
        const redisReply* payload = message->element[2];
        counters_.received.fetch_add(1, std::memory_order_relaxed);
        std::size_t size = payload->len;
        milliseconds age{0};
        if (size == message_size) {
          size = ikeguard::cluster_format::record_size;
          age = milliseconds(
              read_be32(reinterpret_cast<const unsigned char*>(payload->str) + size));
        }
        count_apply(guard_->apply(payload->str, size, age));
      }
      {
        std::lock_guard<std::mutex> hold(lock_);
        if (stopping_) return;
      }
      pollfd watch{};
      watch.fd = context->fd;
      watch.events = POLLIN;
      const int ready = ::poll(&watch, 1, 100);
      if (ready < 0) continue;
      if (ready > 0 && redisBufferRead(context.get()) != REDIS_OK) alive = false;
    }
  }
}

}  // namespace ikeguard_cluster
