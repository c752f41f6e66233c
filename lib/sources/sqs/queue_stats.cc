#include "lib/sources/sqs/queue_stats.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace landfall::internal {
namespace {

std::optional<int64_t> Count(
    const std::map<std::string, std::string>& attributes, const char* name) {
  auto it = attributes.find(name);
  int64_t n = 0;
  if (it == attributes.end() || !absl::SimpleAtoi(it->second, &n)) {
    return std::nullopt;
  }
  return n;
}

}  // namespace

std::string SqsQueueName(const std::string& queue_url) {
  std::string url = queue_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url.substr(url.rfind('/') + 1);
}

QueueStats QueueStatsOf(const std::map<std::string, std::string>& attributes,
                        std::optional<absl::Duration> oldest_age,
                        absl::Time now) {
  QueueStats stats;
  stats.visible = Count(attributes, "ApproximateNumberOfMessages");
  stats.in_flight = Count(attributes, "ApproximateNumberOfMessagesNotVisible");
  stats.delayed = Count(attributes, "ApproximateNumberOfMessagesDelayed");
  if (oldest_age) {
    stats.oldest_age_seconds =
        std::max(0.0, absl::ToDoubleSeconds(*oldest_age));
  } else if (stats.visible == 0) {
    stats.oldest_age_seconds = 0;
  }
  stats.polled_at = now;
  return stats;
}

QueueStatsPoller::QueueStatsPoller(SqsClientConfig config, Options options)
    : config_(std::move(config)),
      options_(std::move(options)),
      name_(SqsQueueName(options_.queue_url)) {}

QueueStatsPoller::~QueueStatsPoller() { Stop(); }

void QueueStatsPoller::Record(
    const std::map<std::string, std::string>& attributes) {
  const absl::Time now = absl::Now();
  ++polls_;
  QueueStats stats = QueueStatsOf(attributes, options_.oldest_age(now), now);
  {
    absl::MutexLock lock(&mu_);
    stats.poll_errors = last_.poll_errors;
    last_ = stats;
  }
  Publish(stats);
}

void QueueStatsPoller::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void QueueStatsPoller::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_.store(true);
  }
  if (thread_.joinable()) thread_.join();
}

void QueueStatsPoller::Publish(const QueueStats& stats) {
  if (options_.metrics != nullptr)
    options_.metrics->SetQueueStats(name_, stats);
}

void QueueStatsPoller::Loop() {
  SqsClient client(config_);
  client.set_abort(&stop_);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto stopping = [this] { return stop_.load(); };
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping), options_.interval)) {
        return;
      }
    }
    absl::StatusOr<std::map<std::string, std::string>> attributes =
        WithFreshCredentials(
            client, [&] { return client.GetAttributes(options_.queue_url); });
    if (attributes.ok()) {
      Record(*attributes);
      continue;
    }
    if (absl::IsCancelled(attributes.status())) return;
    ++errors_;
    QueueStats kept;
    {
      absl::MutexLock lock(&mu_);
      ++last_.poll_errors;
      kept = last_;
    }
    Publish(kept);
    if (options_.problem) {
      options_.problem(absl::Status(
          attributes.status().code(),
          absl::StrCat("queue figures not read (", kept.poll_errors,
                       " failed polls so far; the source goes on): ",
                       attributes.status().message())));
    }
  }
}

}  // namespace landfall::internal
