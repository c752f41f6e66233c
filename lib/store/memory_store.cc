// The memory store: the journal in this process, one writer at a time.
#include <deque>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "landfall/state_store.h"
#include "lib/store/append_check.h"

namespace landfall {
namespace {

class MemoryStore : public StateStore {
 public:
  absl::Status Begin(Access /*access*/) override {
    // Readers take the lock too: the store is only as concurrent as the
    // schedulers sharing it need.
    mu_.Lock();
    open_ = true;
    saved_next_seq_ = data_.next_seq();
    saved_snapshots_ = data_.snapshots.size();
    saved_spec_.reset();
    return absl::OkStatus();
  }
  absl::Status Commit() override {
    if (!open_) {
      return absl::FailedPreconditionError("no transaction to commit");
    }
    while (data_.snapshots.size() > 2) data_.snapshots.pop_front();
    open_ = false;
    mu_.Unlock();
    return absl::OkStatus();
  }
  void Rollback() override {
    if (!open_) return;
    // Entries pruned stay pruned: that loses nothing a snapshot needs.
    const int64_t appended = data_.next_seq() - saved_next_seq_;
    data_.entries.resize(data_.entries.size() - appended);
    data_.snapshots.resize(saved_snapshots_);
    if (saved_spec_) data_.spec = std::move(*saved_spec_);
    open_ = false;
    mu_.Unlock();
  }

  absl::Status ReadEntries(int64_t after_seq, size_t max,
                           std::vector<JournalEntry>* out) override {
    const int64_t from = std::max(after_seq + 1, data_.first_seq);
    for (int64_t seq = from; seq < data_.next_seq() && max > 0; ++seq, --max) {
      out->push_back(data_.entries[seq - data_.first_seq]);
    }
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> LastSequence() override {
    return data_.next_seq() - 1;
  }
  absl::Status AppendEntries(absl::Span<const JournalEntry> entries) override {
    if (absl::Status s = internal::CheckAppend(data_.next_seq() - 1, entries);
        !s.ok()) {
      return s;
    }
    data_.entries.insert(data_.entries.end(), entries.begin(), entries.end());
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<StoredSnapshot>> ReadLatestSnapshot() override {
    if (data_.snapshots.empty()) return std::nullopt;
    return data_.snapshots.back();
  }
  absl::Status WriteSnapshot(const StoredSnapshot& snapshot) override {
    data_.snapshots.push_back(snapshot);  // Commit drops the oldest.
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<std::string>> ReadSpec() override {
    return data_.spec;
  }
  absl::Status WriteSpec(std::string_view spec) override {
    if (!saved_spec_) saved_spec_ = data_.spec;  // Only a write keeps a copy.
    data_.spec = std::string(spec);
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> PruneHistory(int64_t before_seq) override {
    const int64_t keep_from = std::min(
        before_seq, data_.snapshots.empty() ? data_.first_seq
                                            : data_.snapshots.back().seq + 1);
    int64_t dropped = 0;
    while (data_.first_seq < keep_from && !data_.entries.empty()) {
      data_.entries.pop_front();
      ++data_.first_seq;
      ++dropped;
    }
    return dropped;
  }

 private:
  struct Data {
    std::deque<JournalEntry> entries;
    int64_t first_seq = 1;  // seq of entries.front()
    std::deque<StoredSnapshot> snapshots;
    std::optional<std::string> spec;
    int64_t next_seq() const {
      return first_seq + static_cast<int64_t>(entries.size());
    }
  };

  absl::Mutex mu_;
  bool open_ = false;
  Data data_;
  // What Rollback restores.
  int64_t saved_next_seq_ = 1;
  size_t saved_snapshots_ = 0;
  // The spec before this transaction's first WriteSpec, if it wrote one.
  std::optional<std::optional<std::string>> saved_spec_;
};

}  // namespace

std::shared_ptr<StateStore> NewMemoryStore() {
  return std::make_shared<MemoryStore>();
}

}  // namespace landfall
