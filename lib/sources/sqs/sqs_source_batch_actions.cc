// The SQS source's deleter and extender: the batch actions on the messages
// it holds (DeleteMessageBatch, ChangeMessageVisibilityBatch).
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "lib/sources/sqs/sqs_client.h"
#include "lib/sources/sqs/sqs_source_impl.h"

namespace landfall::internal {
namespace {

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

}  // namespace

void SqsSourceImpl::DeleteLoop() {
  SqsClient client(config_);
  client.set_abort(&abort_deletes_);
  while (true) {
    std::vector<Batch> group;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this] { return finish_deletes_ || !delete_queue_.empty(); };
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

void SqsSourceImpl::Delete(SqsClient& client,
                           const std::vector<std::string>& handles) {
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

void SqsSourceImpl::ExtendLoop() {
  SqsClient client(config_);
  client.set_abort(&stop_);
  const absl::Duration visibility = options_.visibility_timeout;
  while (!stop_.load()) {
    SleepUntil(absl::Now() + std::max(absl::Milliseconds(100), visibility / 4));
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

void SqsSourceImpl::Extend(SqsClient& client,
                           const std::vector<std::string>& handles) {
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

}  // namespace landfall::internal
