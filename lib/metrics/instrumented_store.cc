// InstrumentStore: a StateStore that times commits and counts catch-ups
// for the metrics, passing every call on.
#include <chrono>
#include <utility>

#include "landfall/metrics.h"

namespace landfall {
namespace {

class InstrumentedStore : public StateStore {
 public:
  InstrumentedStore(std::shared_ptr<StateStore> inner, Metrics* metrics)
      : inner_(std::move(inner)), metrics_(metrics) {}

  absl::Status Begin(Access access) override {
    absl::Status s = inner_->Begin(access);
    if (!s.ok()) return s;
    write_ = access == Access::kWrite;
    head_in_tx_ = head_;
    caught_up_ = 0;
    oldest_ = absl::InfiniteFuture();
    return s;
  }

  absl::Status Commit() override {
    const auto started = std::chrono::steady_clock::now();
    absl::Status s = inner_->Commit();
    if (!s.ok()) return s;
    if (write_) {
      metrics_->ObserveStoreCommit(
          absl::FromChrono(std::chrono::steady_clock::now() - started));
    }
    // The first commit only learns where the head is: start-up's replay
    // is no lag.
    if (head_ >= 0) metrics_->ObserveCatchUp(caught_up_, oldest_);
    head_ = head_in_tx_;
    return s;
  }

  void Rollback() override { inner_->Rollback(); }

  // Entries past the head this handle has seen, read from it or before
  // (contiguously), are other writers': caught up on.
  absl::Status ReadEntries(int64_t after_seq, size_t max,
                           std::vector<JournalEntry>* out) override {
    const size_t before = out->size();
    absl::Status s = inner_->ReadEntries(after_seq, max, out);
    if (!s.ok()) return s;
    const bool counting = head_in_tx_ >= 0;
    if (!counting) head_in_tx_ = after_seq;
    if (after_seq > head_in_tx_) return s;
    for (size_t i = before; i < out->size(); ++i) {
      const JournalEntry& j = (*out)[i];
      if (j.seq() <= head_in_tx_) continue;
      head_in_tx_ = j.seq();
      if (!counting) continue;
      ++caught_up_;
      oldest_ = std::min(oldest_, absl::FromUnixNanos(j.at_ns()));
    }
    return s;
  }

  absl::StatusOr<int64_t> LastSequence() override {
    return inner_->LastSequence();
  }

  absl::Status AppendEntries(absl::Span<const JournalEntry> entries) override {
    absl::Status s = inner_->AppendEntries(entries);
    if (s.ok() && !entries.empty()) head_in_tx_ = entries.back().seq();
    return s;
  }

  absl::StatusOr<std::optional<StoredSnapshot>> ReadLatestSnapshot() override {
    return inner_->ReadLatestSnapshot();
  }
  absl::Status WriteSnapshot(const StoredSnapshot& snapshot) override {
    return inner_->WriteSnapshot(snapshot);
  }
  absl::StatusOr<std::optional<std::string>> ReadSpec() override {
    return inner_->ReadSpec();
  }
  absl::Status WriteSpec(std::string_view spec) override {
    return inner_->WriteSpec(spec);
  }
  absl::StatusOr<int64_t> PruneHistory(int64_t before_seq) override {
    return inner_->PruneHistory(before_seq);
  }
  std::unique_ptr<StoreWatch> Watch() override { return inner_->Watch(); }

 private:
  const std::shared_ptr<StateStore> inner_;
  Metrics* const metrics_;
  // The last entry this handle has seen committed (-1: not known yet), and
  // within the transaction under way.
  int64_t head_ = -1;
  int64_t head_in_tx_ = -1;
  bool write_ = false;
  int64_t caught_up_ = 0;
  absl::Time oldest_ = absl::InfiniteFuture();
};

}  // namespace

std::shared_ptr<StateStore> InstrumentStore(std::shared_ptr<StateStore> store,
                                            Metrics* metrics) {
  return std::make_shared<InstrumentedStore>(std::move(store), metrics);
}

}  // namespace landfall
