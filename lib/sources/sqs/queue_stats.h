// The figures of an SQS queue for the metrics: depth by state from
// GetQueueAttributes, and the age of its oldest message from the
// SentTimestamp of the messages the source receives (SQS has no queue
// attribute for it: ApproximateAgeOfOldestMessage is a CloudWatch metric).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "landfall/metrics.h"
#include "lib/sources/sqs/sqs_client.h"

namespace landfall::internal {

// The queue's name: the last segment of its URL
// (https://sqs.eu-west-1.amazonaws.com/123456789012/landing is "landing").
std::string SqsQueueName(const std::string& queue_url);

// The figures `attributes` (a GetQueueAttributes answer) give at `now`:
// ApproximateNumberOfMessages (visible), ...NotVisible (in_flight) and
// ...Delayed (delayed), each absent when missing or not a number. The age
// of the oldest message is `oldest_age` (not below 0) when the source saw
// one; else 0 when the queue has no visible message, else absent.
QueueStats QueueStatsOf(const std::map<std::string, std::string>& attributes,
                        std::optional<absl::Duration> oldest_age,
                        absl::Time now);

// Asks GetQueueAttributes every `interval` on a thread of its own (its own
// connection, so receiving and committing never wait for it) and gives
// the figures to `metrics`. A failed poll is counted (QueueStats::
// poll_errors, errors()) and reported, the last figures kept; it never
// stops the source.
class QueueStatsPoller {
 public:
  struct Options {
    std::string queue_url;
    absl::Duration interval = absl::Seconds(30);
    Metrics* metrics = nullptr;  // Not owned.
    // The longest wait of a message the source saw since the last call
    // (see SqsSourceOptions::metrics); nullopt when it saw none.
    std::function<std::optional<absl::Duration>(absl::Time now)> oldest_age;
    std::function<void(const absl::Status&)> problem;
  };
  QueueStatsPoller(SqsClientConfig config, Options options);
  ~QueueStatsPoller();  // Stops.

  // Records the figures of `attributes`, got by the caller (the source's
  // first request), without asking the queue.
  void Record(const std::map<std::string, std::string>& attributes);
  // Polls from now on, the first time one interval from now.
  void Start();
  // Stops polling (a request under way is cancelled). Idempotent.
  void Stop();

  int64_t polls() const { return polls_.load(); }
  int64_t errors() const { return errors_.load(); }

 private:
  void Loop();
  void Publish(const QueueStats& stats);

  SqsClientConfig config_;
  const Options options_;
  const std::string name_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> polls_{0};
  std::atomic<int64_t> errors_{0};
  absl::Mutex mu_;
  QueueStats last_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace landfall::internal
