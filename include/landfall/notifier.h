// Notifier: where alerts go (a webhook, a pager, a host's own channel).
// AlertRules (alerts.h) decides what to alert on; a Notifier delivers.
//
// The webhook notifier posts each alert as JSON to one or more URLs
// (Slack incoming webhooks render its `text`), on a thread of its own: a
// slow or dead endpoint never holds up the caller.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "landfall/clock.h"
#include "landfall/export.h"

namespace landfall {

struct Alert {
  enum class Kind {
    kTaskDead,           // A task went to the dead letter.
    kFreshnessLag,       // A table's last update is older than its max_lag.
    kFreshnessDeadline,  // A partition not built by its deadline.
    kQueueWait,          // A pool's oldest READY task waits too long.
    kStoreUnreachable,   // The state store answers Unavailable.
  };
  Kind kind = Kind::kTaskDead;
  // A recovery: the condition of the alert with the same key has ended.
  bool resolved = false;
  // Names the condition ("dead/TABLE/PARTITION/ATTEMPT", "lag/TABLE",
  // "deadline/TABLE/PARTITION", "queue/POOL", "store"): an alert and its
  // recovery share it; notifiers deduplicate by it.
  std::string key;
  std::string table;      // Empty when the alert is not about a table.
  std::string partition;  // "" for an unpartitioned table, or none.
  std::string pool;       // kQueueWait.
  // One human-readable paragraph, the whole alert on its own.
  std::string text;
  // Structured details by name ("error", "explain", "deadline", "lag").
  std::map<std::string, std::string> fields;
  absl::Time time;  // When the condition was seen.
};

// "task_dead", "freshness_lag", "freshness_deadline", "queue_wait",
// "store_unreachable".
LANDFALL_EXPORT const char* AlertKindName(Alert::Kind kind);

// The interface a host implements to receive alerts.
class LANDFALL_EXPORT Notifier {
 public:
  Notifier() = default;
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;
  virtual ~Notifier();
  // Takes one alert. Must return quickly without blocking on I/O (queue
  // and deliver elsewhere); it may be called under the callers' locks.
  // Thread-safe.
  virtual void Notify(const Alert& alert) = 0;
  // Waits up to `timeout` for the alerts taken so far to be delivered (or
  // given up); whether they were. A Runner calls it when it stops. The
  // default returns true at once. Thread-safe.
  virtual bool Flush(absl::Duration timeout);
};

struct WebhookOptions {
  // Each alert is POSTed to every URL (http:// or https://). URLs carry
  // secrets (a Slack webhook's path is its token): errors and stats name
  // only "scheme://host/...". Default: none (Create refuses that).
  std::vector<std::string> urls;
  // One request's time limit, connecting included. Default 10 seconds.
  absl::Duration timeout = absl::Seconds(10);
  // Tries per alert and URL; a transport error, a timeout, HTTP 429 and
  // 5xx are tried again, any other status is final. >= 1. Default 5.
  int max_attempts = 5;
  // Wait before try n + 1: min(max_backoff, initial_backoff * 2^(n-1)).
  // Defaults 1 second and 1 minute.
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Minutes(1);
  // Alerts waiting per URL; past it new alerts are dropped (counted).
  // Default 1000.
  int queue_capacity = 1000;
  // Deduplication and the per-key limit: an alert whose key (with its
  // `resolved` flag) was accepted within this interval is dropped.
  // Default 1 hour.
  absl::Duration per_key_interval = absl::Hours(1);
  // Global limit: at most this many alerts accepted per minute (a token
  // bucket refilled evenly); the rest are dropped, and the next accepted
  // alert says how many. >= 1. Default 30.
  int max_per_minute = 30;
  // Time for the limits. Not owned; must outlive the notifier. Default:
  // the system clock.
  const Clock* clock = nullptr;
  // Told of each delivery problem (URL redacted), from the notifier's
  // threads. Default: none.
  std::function<void(const absl::Status&)> on_error;
};

// What a WebhookNotifier did so far, over all its URLs.
struct WebhookStats {
  int64_t accepted = 0;      // Alerts queued (once per alert).
  int64_t deduplicated = 0;  // Dropped by per_key_interval.
  int64_t rate_limited = 0;  // Dropped by max_per_minute.
  int64_t queue_full = 0;    // Dropped (per URL) by queue_capacity.
  int64_t delivered = 0;     // Accepted by a URL with a 2xx (per URL).
  int64_t requests = 0;      // HTTP requests made, retries included.
  int64_t given_up = 0;      // Tries spent or a final status (per URL).
};

// A webhook URL is a secret (a Slack incoming webhook's path is its
// token): these read one from outside argv, where any user of the machine
// can see it. The value is trimmed of surrounding whitespace and must be an
// http:// or https:// URL. Errors name the variable or the file, never the
// value: InvalidArgument when the variable is unset, empty or not a URL;
// the file's NotFound, PermissionDenied, FailedPrecondition (not a regular
// file) or ResourceExhausted (over 64 KiB) naming its path, and
// InvalidArgument when it is empty or not a URL. Thread-safe (the
// environment only read).
LANDFALL_EXPORT absl::StatusOr<std::string> WebhookUrlFromEnv(
    const std::string& name);
LANDFALL_EXPORT absl::StatusOr<std::string> WebhookUrlFromFile(
    const std::string& path);

class LANDFALL_EXPORT WebhookNotifier : public Notifier {
 public:
  // Starts one delivery thread per URL. InvalidArgument for no URL, a URL
  // that is not http(s), or limits out of range.
  static absl::StatusOr<std::unique_ptr<WebhookNotifier>> Create(
      WebhookOptions options);
  // Stops at once: a request under way is aborted (within about a
  // second), alerts still queued are dropped.
  ~WebhookNotifier() override;

  // Applies deduplication and the rate limit, then queues the alert for
  // every URL. Never blocks on the network. Thread-safe.
  void Notify(const Alert& alert) override;
  // Waits until every queue is empty and no request is under way, or
  // `timeout` passes; returns whether it emptied. Thread-safe.
  bool Flush(absl::Duration timeout) override;
  WebhookStats stats() const;

  // The JSON body posted for `alert`: {"text": ..., "kind": ...,
  // "resolved": ..., "key", "table", "partition", "pool", "time",
  // "fields": {...}}.
  static std::string Body(const Alert& alert);
  // "scheme://host/..." of `url`: what errors may show.
  static std::string RedactUrl(const std::string& url);

 private:
  class Impl;
  explicit WebhookNotifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace landfall
