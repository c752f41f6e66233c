// The SQS source behind NewSqsSource, for its two halves: sqs_source.cc
// receives and commits, sqs_source_batch_actions.cc deletes and extends.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "landfall/sqs_source.h"
#include "lib/sources/sqs/message_body.h"
#include "lib/sources/sqs/queue_stats.h"
#include "lib/sources/sqs/sqs_client.h"

namespace landfall::internal {

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
                SqsSourceOptions options, SqsClientConfig config, KeyRule rule);
  ~SqsSourceImpl() override;

  absl::Status Start(Deliver deliver) override;
  absl::Status StartReporting(Deliver deliver, Report report) override;

  // Receiving and committing stop first; then what was committed is
  // deleted, for up to kDeleteGrace, so that a clean stop leaves no
  // duplicates behind. Batches not committed or deleted by then come back
  // after their visibility timeout, as after a crash.
  void Stop() override;

  bool Drained() const override;
  absl::Status status() const override;
  SqsSourceStats stats() const override;

 private:
  void Problem(const absl::Status& status);

  // Sleeps until `deadline` or Stop.
  void SleepUntil(absl::Time deadline);

  // Full jitter: a random wait up to min(cap, 100ms * 2^(n-1)).
  void BackOff(int n);

  void Fail(const absl::Status& status);
  void ReportPoison(const SqsMessage& message, const std::string& reason);

  void ReceiveLoop(int receiver);

  // After a receive: idle when it found nothing, else busy with `batch`
  // (or with retrying, when there is no batch: an error).
  void Received(int receiver, const Batch* batch);

  // The longest a message waited in the queue as this source saw it: for
  // each held (received, not yet deleted or given back), `now` less its
  // sending; for each received since the last call, its receipt less its
  // sending. Nullopt when there are none.
  std::optional<absl::Duration> TakeOldestAge(absl::Time now);

  // Reads each message: what carries nothing is to be deleted, poison is
  // reported and left.
  void Parse(Batch* batch);

  void CommitLoop();

  // Group commit: every waiting batch's arrivals in one Deliver (one store
  // transaction). A refused group is committed again message by message,
  // so that one bad arrival fails only its own message. Returns the
  // arrivals committed.
  int64_t CommitGroup(std::vector<Batch>* group);

  void DeleteLoop();

  // Deletes `handles`, retrying what may succeed. A message not deleted
  // comes back: its arrivals are then duplicates.
  void Delete(SqsClient& client, const std::vector<std::string>& handles);

  // Extends the visibility timeout of messages held past half of it, up
  // to kSqsMaxBatch per call.
  void ExtendLoop();

  // One ChangeMessageVisibilityBatch. Only the entries the server says
  // succeeded count as extended (from the call's start); the others are
  // reported and tried again at the next round while they are held (a
  // message deleted meanwhile has no visibility left to extend).
  void Extend(SqsClient& client, const std::vector<std::string>& handles);

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

}  // namespace landfall::internal
