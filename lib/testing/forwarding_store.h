// A StateStore that passes every call to another: tests derive from it to
// change one call (a commit that fails, one whose acknowledgement is lost).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "landfall/state_store.h"

namespace landfall::testing {

class ForwardingStore : public StateStore {
 public:
  explicit ForwardingStore(std::shared_ptr<StateStore> inner)
      : inner_(std::move(inner)) {}
  absl::Status Begin(Access a) override { return inner_->Begin(a); }
  absl::Status Commit() override { return inner_->Commit(); }
  void Rollback() override { inner_->Rollback(); }
  absl::Status ReadEntries(int64_t after, size_t max,
                           std::vector<JournalEntry>* out) override {
    return inner_->ReadEntries(after, max, out);
  }
  absl::StatusOr<int64_t> LastSequence() override {
    return inner_->LastSequence();
  }
  absl::Status AppendEntries(absl::Span<const JournalEntry> e) override {
    return inner_->AppendEntries(e);
  }
  absl::StatusOr<std::optional<StoredSnapshot>> ReadLatestSnapshot() override {
    return inner_->ReadLatestSnapshot();
  }
  absl::Status WriteSnapshot(const StoredSnapshot& s) override {
    return inner_->WriteSnapshot(s);
  }
  absl::StatusOr<std::optional<std::string>> ReadSpec() override {
    return inner_->ReadSpec();
  }
  absl::Status WriteSpec(std::string_view spec) override {
    return inner_->WriteSpec(spec);
  }
  absl::StatusOr<int64_t> PruneHistory(int64_t before) override {
    return inner_->PruneHistory(before);
  }
  std::unique_ptr<StoreWatch> Watch() override { return inner_->Watch(); }

 protected:
  StateStore& inner() { return *inner_; }

 private:
  std::shared_ptr<StateStore> inner_;
};

}  // namespace landfall::testing
