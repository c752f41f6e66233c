#include "landfall/sqs_source.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "lib/sources/sqs/message_body.h"
#include "lib/sources/sqs/queue_stats.h"
#include "lib/sources/sqs/sqs_client.h"

namespace landfall {
namespace {

using internal::KeyRule;
using internal::MessageBody;
using internal::SqsClient;
using internal::SqsClientConfig;
using internal::SqsMessage;
using internal::WithFreshCredentials;

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

// `handles` in groups of at most kSqsMaxBatch, for the batch actions.
std::vector<std::vector<std::string>> InBatches(
    const std::vector<std::string>& handles) {
  std::vector<std::vector<std::string>> out;
  for (size_t from = 0; from < handles.size(); from += internal::kSqsMaxBatch) {
    const size_t to = std::min(handles.size(), from + internal::kSqsMaxBatch);
    out.emplace_back(handles.begin() + from, handles.begin() + to);
  }
  return out;
}

// One receive's messages on their way: parsed, committed, deleted.
struct Batch {
  int receiver = 0;
  std::vector<SqsMessage> messages;
  std::vector<MessageBody> bodies;  // One per message.
  std::vector<std::string> done;    // Receipt handles to delete.
};

// Three stages, each on its own threads, so that receiving never waits
// for the store's commit: receivers (long polls, parsing), one committer
// (a group commit of every batch waiting: one Deliver, one transaction)
// and one deleter (DeleteMessageBatch of what was committed). A message is
// tracked from its receipt until its batch has passed the deleter; while
// tracked, the extender keeps it invisible.
class SqsSourceImpl : public SqsSource {
 public:
  SqsSourceImpl(std::shared_ptr<const Pipeline> pipeline,
                SqsSourceOptions options, SqsClientConfig config, KeyRule rule)
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

  // Receiving and committing stop first; then what was committed is
  // deleted, for up to kDeleteGrace, so that a clean stop leaves no
  // duplicates behind. Batches not committed or deleted by then come back
  // after their visibility timeout, as after a crash.
  void Stop() override {
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

 private:
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

  void ReportPoison(const SqsMessage& message, const std::string& reason) {
    Problem(absl::InvalidArgumentError(
        absl::StrCat("SQS ", options_.queue_url, ": message ",
                     message.message_id, " (received ", message.receive_count,
                     " times) left to the queue's redrive policy: ", reason)));
  }

  void ReceiveLoop(int receiver) {
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

  // After a receive: idle when it found nothing, else busy with `batch`
  // (or with retrying, when there is no batch: an error).
  void Received(int receiver, const Batch* batch) {
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

  // The longest a message waited in the queue as this source saw it: for
  // each held (received, not yet deleted or given back), `now` less its
  // sending; for each received since the last call, its receipt less its
  // sending. Nullopt when there are none.
  std::optional<absl::Duration> TakeOldestAge(absl::Time now) {
    absl::MutexLock lock(&mu_);
    std::optional<absl::Duration> out;
    out.swap(longest_wait_);
    for (const auto& [handle, held] : in_flight_) {
      if (held.sent == absl::InfiniteFuture()) continue;
      out = std::max(out.value_or(now - held.sent), now - held.sent);
    }
    return out;
  }

  // Reads each message: what carries nothing is to be deleted, poison is
  // reported and left.
  void Parse(Batch* batch) {
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

  void CommitLoop() {
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

  // Group commit: every waiting batch's arrivals in one Deliver (one store
  // transaction). A refused group is committed again message by message,
  // so that one bad arrival fails only its own message. Returns the
  // arrivals committed.
  int64_t CommitGroup(std::vector<Batch>* group) {
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
    for (int attempt = 1;
         !s.ok() && !absl::IsInvalidArgument(s) && !stop_.load(); ++attempt) {
      Problem(absl::Status(
          s.code(), absl::StrCat("SQS ", options_.queue_url,
                                 ": arrivals not committed yet, retrying: ",
                                 s.message())));
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

  void DeleteLoop() {
    SqsClient client(config_);
    client.set_abort(&abort_deletes_);
    while (true) {
      std::vector<Batch> group;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this] {
          return finish_deletes_ || !delete_queue_.empty();
        };
        mu_.Await(absl::Condition(&ready));
        if (delete_queue_.empty() || abort_deletes_.load()) {
          deleter_done_ = true;
          return;
        }
        group.swap(delete_queue_);
      }
      std::vector<std::string> handles;
      for (const Batch& b : group) {
        handles.insert(handles.end(), b.done.begin(), b.done.end());
      }
      Delete(client, handles);
      absl::MutexLock lock(&mu_);
      for (const Batch& b : group) {
        --outstanding_[b.receiver];
        for (const SqsMessage& m : b.messages) {
          in_flight_.erase(m.receipt_handle);
        }
      }
    }
  }

  // Deletes `handles`, retrying what may succeed. A message not deleted
  // comes back: its arrivals are then duplicates.
  void Delete(SqsClient& client, const std::vector<std::string>& handles) {
    for (const std::vector<std::string>& part : InBatches(handles)) {
      for (int attempt = 1;; ++attempt) {
        absl::StatusOr<std::vector<internal::SqsBatchFailure>> failed =
            WithFreshCredentials(client, [&] {
              return client.DeleteBatch(options_.queue_url, part);
            });
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

  // Extends the visibility timeout of messages held past half of it, up
  // to kSqsMaxBatch per call.
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
        for (const auto& [handle, held] : in_flight_) {
          if (now - held.extended >= visibility / 2) due.push_back(handle);
        }
      }
      for (const std::vector<std::string>& part : InBatches(due)) {
        if (stop_.load()) break;
        Extend(client, part);
      }
    }
  }

  // One ChangeMessageVisibilityBatch. Only the entries the server says
  // succeeded count as extended (from the call's start); the others are
  // reported and tried again at the next round while they are held (a
  // message deleted meanwhile has no visibility left to extend).
  void Extend(SqsClient& client, const std::vector<std::string>& handles) {
    const absl::Time started = absl::Now();
    absl::StatusOr<std::vector<internal::SqsBatchFailure>> failed =
        WithFreshCredentials(client, [&] {
          return client.ChangeVisibilityBatch(
              options_.queue_url, handles,
              static_cast<int>(
                  absl::ToInt64Seconds(options_.visibility_timeout)));
        });
    if (!failed.ok()) {
      if (!absl::IsCancelled(failed.status())) Problem(failed.status());
      return;
    }
    std::vector<bool> extended(handles.size(), true);
    std::vector<absl::Status> problems;
    {
      absl::MutexLock lock(&mu_);
      for (const internal::SqsBatchFailure& f : *failed) {
        size_t i = 0;
        if (!absl::SimpleAtoi(f.id, &i) || i >= handles.size()) continue;
        extended[i] = false;
        if (in_flight_.contains(handles[i])) {
          problems.push_back(absl::InternalError(absl::StrCat(
              "SQS ", options_.queue_url, ": visibility timeout not extended (",
              f.code, ": ", f.message, "); trying again")));
        }
      }
      for (size_t i = 0; i < handles.size(); ++i) {
        auto it = in_flight_.find(handles[i]);
        if (extended[i] && it != in_flight_.end()) {
          it->second.extended = started;
        }
      }
    }
    for (const absl::Status& p : problems) Problem(p);
  }

  const std::shared_ptr<const Pipeline> pipeline_;
  const SqsSourceOptions options_;
  const SqsClientConfig config_;
  const KeyRule rule_;
  // With SqsSourceOptions::metrics; stopped first by Stop.
  std::unique_ptr<internal::QueueStatsPoller> stats_poller_;
  Deliver deliver_;
  Report report_;
  std::vector<std::thread> threads_;  // Receivers, committer, extender.
  std::thread deleter_;
  std::atomic<bool> stop_{false};
  // Set when Stop's grace for the last deletes has run out.
  std::atomic<bool> abort_deletes_{false};

  mutable absl::Mutex mu_;
  // A message received and not yet deleted or given back.
  struct Held {
    absl::Time extended;  // When its visibility timeout last began.
    absl::Time sent;      // SentTimestamp (InfiniteFuture: not given).
  };
  absl::flat_hash_map<std::string, Held> in_flight_ ABSL_GUARDED_BY(mu_);
  // The longest wait of a message received since TakeOldestAge.
  std::optional<absl::Duration> longest_wait_ ABSL_GUARDED_BY(mu_);
  std::vector<Batch> commit_queue_ ABSL_GUARDED_BY(mu_);
  std::vector<Batch> delete_queue_ ABSL_GUARDED_BY(mu_);
  // Per receiver: whether its last receive found nothing, since when its
  // receive under way has waited (InfiniteFuture when none is), and its
  // batches not yet deleted.
  std::vector<bool> idle_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> polling_since_ ABSL_GUARDED_BY(mu_);
  std::vector<int> outstanding_ ABSL_GUARDED_BY(mu_);
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  // Stop has stopped the committer: the deleter ends once its queue is
  // empty, and says so.
  bool finish_deletes_ ABSL_GUARDED_BY(mu_) = false;
  bool deleter_done_ ABSL_GUARDED_BY(mu_) = false;
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
