// Subscriptions to a scheduler's history through C callbacks, fed by the
// scheduler's Observer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "landfall/landfall.h"
#include "landfall/scheduler.h"
#include "lib/capi/records_json.h"

namespace landfall::capi {

// A subscription to the history through the C callback it was given.
struct Subscription {
  Subscription(landfall_entry_fn fn, void* state, void (*destroy)(void*),
               int64_t next_seq)
      : fn(fn), state(state), destroy(destroy), next_seq(next_seq) {}
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() {
    if (armed && destroy != nullptr) destroy(state);
  }
  // Delivers `entry` unless the subscriber has it already.
  void Deliver(int64_t seq, const std::string& json) {
    if (seq < next_seq) return;
    fn(state, json.c_str(), json.size());
    next_seq = seq + 1;
  }

  landfall_entry_fn fn;
  void* state;
  void (*destroy)(void*);
  int64_t next_seq;
  // Off until registration succeeded: a failed one never calls `destroy`.
  bool armed = false;
  // While the subscriber reads the held history, new entries wait here.
  bool catching_up = true;
  std::vector<std::pair<int64_t, std::string>> pending;
};

// The scheduler's Observer, fanning entries out to the C subscriptions.
class Subscriptions : public Observer {
 public:
  void OnEntry(const HistoryEntry& entry) override {
    OnEntryView(EntryView(entry));
  }

  // Builds the whole entry only when a C subscriber wants it. Brackets
  // (BeginEntries) are not forwarded: forward_ may change between an
  // operation's first entry and its last, and an observer that held its
  // lock from one to the other would be left holding it.
  void OnEntryView(const EntryView& entry) override {
    absl::MutexLock lock(&mu_);
    if (forward_ != nullptr) forward_->OnEntryView(entry);
    if (subscriptions_.empty()) return;
    const std::string json = EntryJson(entry.ToHistoryEntry());
    for (auto& [id, sub] : subscriptions_) {
      if (sub->catching_up) {
        sub->pending.emplace_back(entry.seq, json);
      } else {
        sub->Deliver(entry.seq, json);
      }
    }
  }

  uint64_t Add(std::unique_ptr<Subscription> sub) {
    absl::MutexLock lock(&mu_);
    const uint64_t id = next_id_++;
    subscriptions_[id] = std::move(sub);
    return id;
  }

  // Called only by the subscribing thread while catching up, when no other
  // thread delivers to the subscription.
  Subscription* Get(uint64_t id) {
    absl::MutexLock lock(&mu_);
    return subscriptions_.at(id).get();
  }

  // Delivers what arrived while catching up and goes live.
  void FinishCatchUp(uint64_t id) {
    absl::MutexLock lock(&mu_);
    Subscription& sub = *subscriptions_.at(id);
    for (const auto& [seq, json] : sub.pending) sub.Deliver(seq, json);
    sub.pending.clear();
    sub.catching_up = false;
    sub.armed = true;
  }

  // Returns whether `id` was registered. Its `destroy` runs after the
  // lock is released: no call of it is running then, and none can start.
  bool Remove(uint64_t id) {
    std::unique_ptr<Subscription> removed;
    absl::MutexLock lock(&mu_);
    auto it = subscriptions_.find(id);
    if (it == subscriptions_.end()) return false;
    removed = std::move(it->second);
    subscriptions_.erase(it);
    return true;
  }

  // Also tells `observer` (a runner's metrics) of each entry; null stops.
  // False when another is told already.
  bool SetForward(Observer* observer) {
    absl::MutexLock lock(&mu_);
    if (observer != nullptr && forward_ != nullptr) return false;
    forward_ = observer;
    return true;
  }

  void Clear() {
    std::map<uint64_t, std::unique_ptr<Subscription>> removed;
    absl::MutexLock lock(&mu_);
    removed.swap(subscriptions_);
  }

 private:
  absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  Observer* forward_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::map<uint64_t, std::unique_ptr<Subscription>> subscriptions_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace landfall::capi
