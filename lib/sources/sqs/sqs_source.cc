#include "landfall/sqs_source.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "lib/sources/sqs/message_body.h"
#include "lib/sources/sqs/sqs_client.h"

namespace landfall {
namespace {

using internal::KeyRule;
using internal::MessageBody;
using internal::SqsClient;
using internal::SqsClientConfig;
using internal::SqsMessage;

constexpr int kMaxReceivers = 64;
// A receive waiting this long without a message counts as finding none.
constexpr absl::Duration kQuietPoll = absl::Seconds(1);

// One received message on its way through the source.
struct Received {
  SqsMessage message;
  MessageBody body;
};

class SqsSourceImpl : public SqsSource {
 public:
  SqsSourceImpl(std::shared_ptr<const Pipeline> pipeline,
                SqsSourceOptions options, SqsClientConfig config, KeyRule rule)
      : pipeline_(std::move(pipeline)),
        options_(std::move(options)),
        config_(std::move(config)),
        rule_(std::move(rule)) {}
  ~SqsSourceImpl() override { Stop(); }

  absl::Status Start(Deliver deliver) override {
    return StartReporting(std::move(deliver), nullptr);
  }

  absl::Status StartReporting(Deliver deliver, Report report) override {
    deliver_ = std::move(deliver);
    report_ = std::move(report);
    // A missing queue or refused credentials fail here, not in a thread.
    SqsClient probe(config_);
    probe.set_abort(&stop_);
    int failures = 0;
    while (true) {
      absl::StatusOr<std::map<std::string, std::string>> attributes =
          probe.GetAttributes(options_.queue_url);
      if (attributes.ok()) break;
      if (!absl::IsUnavailable(attributes.status()) || ++failures >= 5) {
        return attributes.status();
      }
      Problem(attributes.status());
      BackOff(failures);
    }
    idle_.assign(options_.receivers, false);
    polling_since_.assign(options_.receivers, absl::InfiniteFuture());
    for (int i = 0; i < options_.receivers; ++i) {
      threads_.emplace_back([this, i] { ReceiveLoop(i); });
    }
    threads_.emplace_back([this] { ExtendLoop(); });
    return absl::OkStatus();
  }

  void Stop() override {
    {
      absl::MutexLock lock(&mu_);
      stop_.store(true);
    }
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  bool Drained() const override {
    absl::MutexLock lock(&mu_);
    if (!in_flight_.empty()) return false;
    // A long poll answers as soon as a message is visible: one that has
    // waited a while has found the queue empty so far.
    const absl::Time waited_since = absl::Now() - kQuietPoll;
    for (size_t i = 0; i < idle_.size(); ++i) {
      if (!idle_[i] && polling_since_[i] > waited_since) return false;
    }
    return !idle_.empty();
  }

  absl::Status status() const override {
    absl::MutexLock lock(&mu_);
    return failed_;
  }

  SqsSourceStats stats() const override {
    absl::MutexLock lock(&mu_);
    return stats_;
  }

 private:
  struct InFlight {
    absl::Time extended;  // When its visibility timeout last began.
    std::string handle;
  };

  void Problem(const absl::Status& status) {
    if (report_) report_(status);
    if (options_.on_error) options_.on_error(status);
  }

  // Sleeps until `deadline` or Stop.
  void SleepUntil(absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    auto stopping = [this] { return stop_.load(); };
    mu_.AwaitWithDeadline(absl::Condition(&stopping), deadline);
  }

  // Full jitter: a random wait up to min(cap, 100ms * 2^(n-1)).
  void BackOff(int n) {
    const absl::Duration ceiling =
        std::min(options_.max_backoff,
                 absl::Milliseconds(100) * (int64_t{1} << std::min(n - 1, 20)));
    absl::Duration wait;
    {
      absl::MutexLock lock(&mu_);
      std::uniform_int_distribution<int64_t> pick(
          0, absl::ToInt64Nanoseconds(ceiling));
      wait = absl::Nanoseconds(pick(random_));
    }
    SleepUntil(absl::Now() + wait);
  }

  void Fail(const absl::Status& status) {
    Problem(status);
    absl::MutexLock lock(&mu_);
    if (failed_.ok()) failed_ = status;
    stop_.store(true);
  }

  void SetPolling(int receiver) {
    absl::MutexLock lock(&mu_);
    polling_since_[receiver] = absl::Now();
  }

  // After a receive: idle when it found nothing, else busy with `batch`
  // (or with retrying, after an error).
  void SetReceived(int receiver, const std::vector<Received>& batch,
                   bool failed = false) {
    absl::MutexLock lock(&mu_);
    polling_since_[receiver] = absl::InfiniteFuture();
    idle_[receiver] = batch.empty() && !failed;
    TrackLocked(batch, true);
  }

  void Track(const std::vector<Received>& batch, bool on) {
    absl::MutexLock lock(&mu_);
    TrackLocked(batch, on);
  }

  void TrackLocked(const std::vector<Received>& batch, bool on)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const absl::Time now = absl::Now();
    for (const Received& r : batch) {
      if (on) {
        in_flight_[r.message.receipt_handle] = {now, r.message.receipt_handle};
      } else {
        in_flight_.erase(r.message.receipt_handle);
      }
    }
  }

  void ReceiveLoop(int receiver) {
    SqsClient client(config_);
    client.set_abort(&stop_);
    const int visibility =
        static_cast<int>(absl::ToInt64Seconds(options_.visibility_timeout));
    int failures = 0;
    while (!stop_.load()) {
      SetPolling(receiver);
      absl::StatusOr<std::vector<SqsMessage>> messages =
          client.Receive(options_.queue_url, options_.max_messages,
                         options_.wait_time_seconds, visibility);
      if (!messages.ok()) {
        if (absl::IsCancelled(messages.status())) return;
        if (internal::SqsErrorIsFatal(messages.status())) {
          return Fail(messages.status());
        }
        SetReceived(receiver, {}, /*failed=*/true);
        Problem(messages.status());
        BackOff(++failures);
        continue;
      }
      failures = 0;
      std::vector<Received> batch;
      for (SqsMessage& m : *messages) {
        batch.push_back({std::move(m), MessageBody()});
      }
      SetReceived(receiver, batch);
      if (batch.empty()) {
        // Without long polling, an empty queue is asked at most 10 times a
        // second.
        if (options_.wait_time_seconds == 0) {
          SleepUntil(absl::Now() + absl::Milliseconds(100));
        }
        continue;
      }
      Handle(client, &batch);
      Track(batch, false);
    }
  }

  // Reads, commits and deletes one batch of messages.
  void Handle(SqsClient& client, std::vector<Received>* batch) {
    std::vector<Arrival> arrivals;
    std::vector<std::string> done;  // Receipt handles to delete.
    int64_t ignored = 0, poison = 0, count = 0;
    for (Received& r : *batch) {
      r.body = internal::ParseMessageBody(r.message.body, rule_, *pipeline_);
      switch (r.body.kind) {
        case MessageBody::Kind::kArrivals:
          for (const Arrival& a : r.body.arrivals) arrivals.push_back(a);
          break;
        case MessageBody::Kind::kIgnored:
          ++ignored;
          done.push_back(r.message.receipt_handle);
          break;
        case MessageBody::Kind::kPoison:
          ++poison;
          ReportPoison(r.message, r.body.reason);
          break;
      }
    }
    absl::Status delivered =
        arrivals.empty() ? absl::OkStatus() : deliver_(arrivals);
    if (delivered.ok()) {
      count = static_cast<int64_t>(arrivals.size());
      for (const Received& r : *batch) {
        if (r.body.kind == MessageBody::Kind::kArrivals) {
          done.push_back(r.message.receipt_handle);
        }
      }
    } else if (absl::IsInvalidArgument(delivered)) {
      // The scheduler refused one of them (a partition its table does not
      // take): one message at a time finds which.
      for (const Received& r : *batch) {
        if (r.body.kind != MessageBody::Kind::kArrivals) continue;
        absl::Status one = deliver_(r.body.arrivals);
        if (one.ok()) {
          count += static_cast<int64_t>(r.body.arrivals.size());
          done.push_back(r.message.receipt_handle);
        } else if (absl::IsInvalidArgument(one)) {
          ++poison;
          ReportPoison(r.message, std::string(one.message()));
        } else {
          Problem(one);
        }
      }
    } else {
      // Not committed: the messages come back after their visibility
      // timeout.
      Problem(absl::Status(
          delivered.code(),
          absl::StrCat("SQS ", options_.queue_url, ": arrivals not committed, ",
                       "left to come back: ", delivered.message())));
    }
    {
      absl::MutexLock lock(&mu_);
      stats_.received += static_cast<int64_t>(batch->size());
      stats_.arrivals += count;
      stats_.ignored += ignored;
      stats_.poison += poison;
    }
    Delete(client, done);
  }

  void ReportPoison(const SqsMessage& message, const std::string& reason) {
    Problem(absl::InvalidArgumentError(
        absl::StrCat("SQS ", options_.queue_url, ": message ",
                     message.message_id, " (received ", message.receive_count,
                     " times) left to the queue's redrive policy: ", reason)));
  }

  // Deletes `handles`, retrying what may succeed. A message not deleted
  // comes back: its arrivals are then duplicates.
  void Delete(SqsClient& client, const std::vector<std::string>& handles) {
    for (size_t from = 0; from < handles.size();
         from += internal::kSqsMaxBatch) {
      std::vector<std::string> part(
          handles.begin() + from,
          handles.begin() +
              std::min(handles.size(), from + internal::kSqsMaxBatch));
      for (int attempt = 1;; ++attempt) {
        absl::StatusOr<std::vector<internal::SqsBatchFailure>> failed =
            client.DeleteBatch(options_.queue_url, part);
        if (failed.ok()) {
          for (const auto& f : *failed) {
            Problem(absl::InternalError(
                absl::StrCat("SQS ", options_.queue_url, ": delete failed (",
                             f.code, ": ", f.message,
                             "); the message will come back as a "
                             "duplicate")));
          }
          absl::MutexLock lock(&mu_);
          stats_.deleted += static_cast<int64_t>(part.size() - failed->size());
          break;
        }
        if (absl::IsCancelled(failed.status())) return;
        if (internal::SqsErrorIsFatal(failed.status())) {
          return Fail(failed.status());
        }
        Problem(failed.status());
        if (attempt >= 5 || stop_.load()) break;
        BackOff(attempt);
      }
    }
  }

  // Extends the visibility timeout of messages held past half of it.
  void ExtendLoop() {
    SqsClient client(config_);
    client.set_abort(&stop_);
    const absl::Duration visibility = options_.visibility_timeout;
    while (!stop_.load()) {
      SleepUntil(absl::Now() +
                 std::max(absl::Milliseconds(100), visibility / 4));
      std::vector<std::string> due;
      {
        absl::MutexLock lock(&mu_);
        const absl::Time now = absl::Now();
        for (auto& [handle, held] : in_flight_) {
          if (now - held.extended >= visibility / 2) {
            due.push_back(handle);
            held.extended = now;
          }
        }
      }
      for (const std::string& handle : due) {
        absl::Status s = client.ChangeVisibility(
            options_.queue_url, handle,
            static_cast<int>(absl::ToInt64Seconds(visibility)));
        if (!s.ok() && !absl::IsCancelled(s)) Problem(s);
      }
    }
  }

  const std::shared_ptr<const Pipeline> pipeline_;
  const SqsSourceOptions options_;
  const SqsClientConfig config_;
  const KeyRule rule_;
  Deliver deliver_;
  Report report_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, InFlight> in_flight_ ABSL_GUARDED_BY(mu_);
  // Per receiver: whether its last receive found nothing, and since when
  // its receive under way has waited (InfiniteFuture when none is).
  std::vector<bool> idle_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> polling_since_ ABSL_GUARDED_BY(mu_);
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  SqsSourceStats stats_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 random_ ABSL_GUARDED_BY(mu_){std::random_device()()};
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqsSource>> NewSqsSource(
    std::shared_ptr<const Pipeline> pipeline, SqsSourceOptions options) {
  auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("SQS source: ", what));
  };
  if (pipeline == nullptr) return bad("no pipeline");
  if (options.queue_url.empty()) return bad("no queue URL");
  if (options.receivers < 1 || options.receivers > kMaxReceivers) {
    return bad(absl::StrCat("receivers must be 1 to ", kMaxReceivers, ", not ",
                            options.receivers));
  }
  if (options.wait_time_seconds < 0 ||
      options.wait_time_seconds > internal::kSqsMaxWaitSeconds) {
    return bad(absl::StrCat("wait_time_seconds must be 0 to 20, not ",
                            options.wait_time_seconds));
  }
  if (options.max_messages < 1 ||
      options.max_messages > internal::kSqsMaxBatch) {
    return bad(absl::StrCat("max_messages must be 1 to 10, not ",
                            options.max_messages));
  }
  if (options.visibility_timeout < absl::Seconds(1) ||
      options.visibility_timeout > absl::Hours(12)) {
    return bad(absl::StrCat("visibility_timeout must be 1s to 12h, not ",
                            absl::FormatDuration(options.visibility_timeout)));
  }
  if (options.max_backoff <= absl::ZeroDuration()) {
    return bad("max_backoff must be positive");
  }
  absl::StatusOr<KeyRule> rule = KeyRule::Parse(options.key_rule);
  if (!rule.ok()) return rule.status();
  absl::StatusOr<SqsClientConfig> config = internal::ResolveSqsConfig(
      options.queue_url, options.endpoint, options.region);
  if (!config.ok()) return config.status();
  absl::StatusOr<internal::AwsCredentials> credentials =
      internal::AwsCredentialsFromEnvironment();
  if (!credentials.ok()) return credentials.status();
  config->credentials = *std::move(credentials);
  return std::unique_ptr<SqsSource>(
      new SqsSourceImpl(std::move(pipeline), std::move(options),
                        *std::move(config), *std::move(rule)));
}

}  // namespace landfall
