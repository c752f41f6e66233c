// The SQS source: its options checked, its receivers and its committer
// (sqs_source_batch_actions.cc holds the deleter and the extender).
#include "landfall/sqs_source.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "lib/sources/sqs/message_body.h"
#include "lib/sources/sqs/queue_stats.h"
#include "lib/sources/sqs/sqs_client.h"
#include "lib/sources/sqs/sqs_source_impl.h"

namespace landfall {
namespace {

using internal::KeyRule;
using internal::SqsClientConfig;
using internal::SqsSourceImpl;

constexpr int kMaxReceivers = 64;
// A receive waiting this long without a message counts as finding none.
constexpr absl::Duration kQuietPoll = absl::Seconds(1);
// Batches a receiver may have received and not yet deleted: it receives
// the next while the last is being committed.
constexpr int kMaxOutstanding = 16;
// How long Stop waits for the deletes of what was committed before it.
constexpr absl::Duration kDeleteGrace = absl::Seconds(5);
// The queue's figures are asked for at most this often.
constexpr absl::Duration kMinStatsInterval = absl::Seconds(1);

}  // namespace

namespace internal {

SqsSourceImpl::SqsSourceImpl(std::shared_ptr<const Pipeline> pipeline,
                             SqsSourceOptions options, SqsClientConfig config,
                             KeyRule rule)
    : pipeline_(std::move(pipeline)),
      options_(std::move(options)),
      config_(std::move(config)),
      rule_(std::move(rule)) {
  if (options_.metrics != nullptr) {
    internal::QueueStatsPoller::Options stats;
    stats.queue_url = options_.queue_url;
    stats.interval = options_.stats_interval;
    stats.metrics = options_.metrics;
    stats.oldest_age = [this](absl::Time now) { return TakeOldestAge(now); };
    stats.problem = [this](const absl::Status& s) { Problem(s); };
    stats_poller_ =
        std::make_unique<internal::QueueStatsPoller>(config_, stats);
  }
}

SqsSourceImpl::~SqsSourceImpl() { Stop(); }

absl::Status SqsSourceImpl::Start(Deliver deliver) {
  return StartReporting(std::move(deliver), nullptr);
}

absl::Status SqsSourceImpl::StartReporting(Deliver deliver, Report report) {
  deliver_ = std::move(deliver);
  report_ = std::move(report);
  // A missing queue or refused credentials fail here, not in a thread.
  SqsClient probe(config_);
  probe.set_abort(&stop_);
  int failures = 0;
  while (true) {
    absl::StatusOr<std::map<std::string, std::string>> attributes =
        WithFreshCredentials(
            probe, [&] { return probe.GetAttributes(options_.queue_url); });
    if (attributes.ok()) {
      // The queue's first figures, before any receive.
      if (stats_poller_ != nullptr) stats_poller_->Record(*attributes);
      break;
    }
    if (!absl::IsUnavailable(attributes.status()) || ++failures >= 5) {
      return attributes.status();
    }
    Problem(attributes.status());
    BackOff(failures);
  }
  {
    absl::MutexLock lock(&mu_);
    idle_.assign(options_.receivers, false);
    polling_since_.assign(options_.receivers, absl::InfiniteFuture());
    outstanding_.assign(options_.receivers, 0);
  }
  for (int i = 0; i < options_.receivers; ++i) {
    threads_.emplace_back([this, i] { ReceiveLoop(i); });
  }
  threads_.emplace_back([this] { CommitLoop(); });
  deleter_ = std::thread([this] { DeleteLoop(); });
  threads_.emplace_back([this] { ExtendLoop(); });
  if (stats_poller_ != nullptr) stats_poller_->Start();
  return absl::OkStatus();
}

void SqsSourceImpl::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_.store(true);
  }
  if (stats_poller_ != nullptr) stats_poller_->Stop();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  if (!deleter_.joinable()) return;
  {
    absl::MutexLock lock(&mu_);
    finish_deletes_ = true;
    auto done = [this] { return deleter_done_; };
    if (!mu_.AwaitWithTimeout(absl::Condition(&done), kDeleteGrace)) {
      abort_deletes_.store(true);
    }
  }
  deleter_.join();
}

bool SqsSourceImpl::Drained() const {
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

absl::Status SqsSourceImpl::status() const {
  absl::MutexLock lock(&mu_);
  return failed_;
}

SqsSourceStats SqsSourceImpl::stats() const {
  SqsSourceStats out;
  {
    absl::MutexLock lock(&mu_);
    out = stats_;
  }
  if (stats_poller_ != nullptr) {
    out.stats_polls = stats_poller_->polls();
    out.stats_errors = stats_poller_->errors();
  }
  return out;
}

void SqsSourceImpl::Problem(const absl::Status& status) {
  if (report_) report_(status);
  if (options_.on_error) options_.on_error(status);
}

void SqsSourceImpl::SleepUntil(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto stopping = [this] { return stop_.load(); };
  mu_.AwaitWithDeadline(absl::Condition(&stopping), deadline);
}

void SqsSourceImpl::BackOff(int n) {
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

void SqsSourceImpl::Fail(const absl::Status& status) {
  Problem(status);
  absl::MutexLock lock(&mu_);
  if (failed_.ok()) failed_ = status;
  stop_.store(true);
}

void SqsSourceImpl::ReportPoison(const SqsMessage& message,
                                 const std::string& reason) {
  Problem(absl::InvalidArgumentError(
      absl::StrCat("SQS ", options_.queue_url, ": message ", message.message_id,
                   " (received ", message.receive_count,
                   " times) left to the queue's redrive policy: ", reason)));
}

void SqsSourceImpl::ReceiveLoop(int receiver) {
  SqsClient client(config_);
  client.set_abort(&stop_);
  const int visibility =
      static_cast<int>(absl::ToInt64Seconds(options_.visibility_timeout));
  int failures = 0;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto may_receive = [this, receiver] {
        return stop_.load() || outstanding_[receiver] < kMaxOutstanding;
      };
      mu_.Await(absl::Condition(&may_receive));
      if (stop_.load()) return;
      polling_since_[receiver] = absl::Now();
    }
    absl::StatusOr<std::vector<SqsMessage>> messages =
        WithFreshCredentials(client, [&] {
          return client.Receive(options_.queue_url, options_.max_messages,
                                options_.wait_time_seconds, visibility);
        });
    if (!messages.ok()) {
      Received(receiver, nullptr);
      if (absl::IsCancelled(messages.status())) return;
      if (internal::SqsErrorIsFatal(messages.status())) {
        return Fail(messages.status());
      }
      Problem(messages.status());
      BackOff(++failures);
      continue;
    }
    failures = 0;
    Batch batch;
    batch.receiver = receiver;
    batch.messages = *std::move(messages);
    Received(receiver, &batch);
    if (batch.messages.empty()) {
      // Without long polling, an empty queue is asked at most 10 times a
      // second.
      if (options_.wait_time_seconds == 0) {
        SleepUntil(absl::Now() + absl::Milliseconds(100));
      }
      continue;
    }
    Parse(&batch);
    absl::MutexLock lock(&mu_);
    ++outstanding_[receiver];
    commit_queue_.push_back(std::move(batch));
  }
}

void SqsSourceImpl::Received(int receiver, const Batch* batch) {
  absl::MutexLock lock(&mu_);
  polling_since_[receiver] = absl::InfiniteFuture();
  idle_[receiver] = batch != nullptr && batch->messages.empty();
  if (batch == nullptr) return;
  stats_.received += static_cast<int64_t>(batch->messages.size());
  const absl::Time now = absl::Now();
  for (const SqsMessage& m : batch->messages) {
    in_flight_[m.receipt_handle] = {now, m.sent};
    if (m.sent != absl::InfiniteFuture()) {
      longest_wait_ =
          std::max(longest_wait_.value_or(now - m.sent), now - m.sent);
    }
  }
}

std::optional<absl::Duration> SqsSourceImpl::TakeOldestAge(absl::Time now) {
  absl::MutexLock lock(&mu_);
  std::optional<absl::Duration> out;
  out.swap(longest_wait_);
  for (const auto& [handle, held] : in_flight_) {
    if (held.sent == absl::InfiniteFuture()) continue;
    out = std::max(out.value_or(now - held.sent), now - held.sent);
  }
  return out;
}

void SqsSourceImpl::Parse(Batch* batch) {
  int64_t ignored = 0, poison = 0;
  for (const SqsMessage& m : batch->messages) {
    MessageBody body = internal::ParseMessageBody(m.body, rule_, *pipeline_);
    if (body.kind == MessageBody::Kind::kIgnored) {
      ++ignored;
      batch->done.push_back(m.receipt_handle);
    } else if (body.kind == MessageBody::Kind::kPoison) {
      ++poison;
      ReportPoison(m, body.reason);
    }
    batch->bodies.push_back(std::move(body));
  }
  absl::MutexLock lock(&mu_);
  stats_.ignored += ignored;
  stats_.poison += poison;
}

void SqsSourceImpl::CommitLoop() {
  while (true) {
    std::vector<Batch> group;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this] { return stop_.load() || !commit_queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (stop_.load()) return;
      group.swap(commit_queue_);
    }
    const int64_t committed = CommitGroup(&group);
    absl::MutexLock lock(&mu_);
    stats_.arrivals += committed;
    for (Batch& b : group) delete_queue_.push_back(std::move(b));
  }
}

int64_t SqsSourceImpl::CommitGroup(std::vector<Batch>* group) {
  std::vector<Arrival> all;
  for (const Batch& b : *group) {
    for (const MessageBody& body : b.bodies) {
      if (body.kind != MessageBody::Kind::kArrivals) continue;
      all.insert(all.end(), body.arrivals.begin(), body.arrivals.end());
    }
  }
  if (all.empty()) return 0;
  const int64_t total = static_cast<int64_t>(all.size());
  // A store that is away (Unavailable) is waited for here, with backoff,
  // the messages held and kept invisible: left to come back, each return
  // would count as a receive, and a long outage would move good messages
  // to the dead-letter queue. Receivers stop when their batches are full.
  absl::Status s = deliver_(all);
  for (int attempt = 1; !s.ok() && !absl::IsInvalidArgument(s) && !stop_.load();
       ++attempt) {
    Problem(absl::Status(
        s.code(),
        absl::StrCat("SQS ", options_.queue_url,
                     ": arrivals not committed yet, retrying: ", s.message())));
    BackOff(attempt);
    if (!stop_.load()) s = deliver_(all);
  }
  if (!s.ok() && !absl::IsInvalidArgument(s)) {
    return 0;  // Stopping: not committed, the messages come back.
  }
  int64_t committed = 0;
  for (Batch& b : *group) {
    for (size_t i = 0; i < b.messages.size(); ++i) {
      const MessageBody& body = b.bodies[i];
      if (body.kind != MessageBody::Kind::kArrivals) continue;
      const absl::Status one = s.ok() ? s : deliver_(body.arrivals);
      if (one.ok()) {
        committed += static_cast<int64_t>(body.arrivals.size());
        b.done.push_back(b.messages[i].receipt_handle);
      } else if (absl::IsInvalidArgument(one)) {
        {
          absl::MutexLock lock(&mu_);
          ++stats_.poison;
        }
        ReportPoison(b.messages[i], std::string(one.message()));
      } else {
        Problem(one);
      }
    }
  }
  return s.ok() ? total : committed;
}

}  // namespace internal

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
  if (options.stats_interval < kMinStatsInterval) {
    return bad(absl::StrCat("stats_interval must be at least ",
                            absl::FormatDuration(kMinStatsInterval), ", not ",
                            absl::FormatDuration(options.stats_interval)));
  }
  absl::StatusOr<KeyRule> rule = KeyRule::Parse(options.key_rule);
  if (!rule.ok()) return rule.status();
  absl::StatusOr<SqsClientConfig> config = internal::ResolveSqsConfig(
      options.queue_url, options.endpoint, options.region);
  if (!config.ok()) return config.status();
  absl::StatusOr<internal::AwsCredentials> credentials =
      internal::LoadAwsCredentials();
  if (!credentials.ok()) return credentials.status();
  config->credentials = *std::move(credentials);
  return std::unique_ptr<SqsSource>(
      new SqsSourceImpl(std::move(pipeline), std::move(options),
                        *std::move(config), *std::move(rule)));
}

}  // namespace landfall
