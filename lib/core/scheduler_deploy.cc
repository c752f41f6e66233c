// Scheduler::Impl moving its state onto another pipeline: a deploy, a
// deploy replayed from the history, and the store's pipeline taken up.
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "lib/core/scheduler_impl.h"
#include "lib/core/spec_known.h"
#include "lib/core/upgrade.h"

namespace landfall {

using google::protobuf::util::MessageDifferencer;

absl::Status Scheduler::Impl::RecordFirstPipeline() {
  absl::StatusOr<std::optional<std::string>> stored = store_->ReadSpec();
  if (!stored.ok()) return stored.status();
  if (stored->has_value()) return absl::OkStatus();
  if (pipeline_ == nullptr) {
    return absl::FailedPreconditionError(
        "the store holds no pipeline yet: open it with a pipeline first");
  }
  return store_->WriteSpec(pipeline_->spec().SerializeAsString());
}

absl::Status Scheduler::Impl::TakeStoredPipeline() {
  absl::StatusOr<std::optional<std::string>> stored = store_->ReadSpec();
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) {
    return absl::DataLossError("the store has lost its pipeline spec");
  }
  PipelineSpec spec;
  if (!spec.ParseFromString(**stored)) {
    return absl::DataLossError("the stored pipeline spec cannot be read");
  }
  if (pipeline_ != nullptr &&
      MessageDifferencer::Equals(spec, pipeline_->spec())) {
    return absl::OkStatus();  // Equals compares unknown fields and values.
  }
  if (absl::Status s =
          internal::CheckSpecKnown(spec, "the stored pipeline spec");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::shared_ptr<const Pipeline>> pipeline =
      Pipeline::FromSpec(spec);
  if (!pipeline.ok()) {
    return absl::DataLossError(
        absl::StrCat("the stored pipeline spec is not valid: ",
                     pipeline.status().message()));
  }
  Retire(*std::move(pipeline));
  return absl::OkStatus();
}

void Scheduler::Impl::Retire(std::shared_ptr<const Pipeline> next) {
  if (pipeline_ != nullptr) retired_.push_back(std::move(pipeline_));
  pipeline_ = std::move(next);
}

absl::StatusOr<std::unique_ptr<internal::Core>> Scheduler::Impl::Upgraded(
    const std::shared_ptr<const Pipeline>& next, const DeployOptions& options) {
  internal::Snapshot current;
  if (!current.ParseFromString(core_->SerializedSnapshot(snapshot_bytes_))) {
    // Only past protobuf's 2 GiB: the store could not hold it either.
    return absl::ResourceExhaustedError(
        "the scheduler's state is too large to deploy a pipeline on");
  }
  absl::StatusOr<internal::Snapshot> snapshot =
      internal::UpgradeSnapshot(current, *pipeline_, *next, options);
  if (!snapshot.ok()) return snapshot.status();
  std::unique_ptr<internal::Core> core = NewCore(next);
  if (absl::Status s = core->RestoreSnapshot(*snapshot); !s.ok()) return s;
  core->SetDeployPlan(options);
  core->set_capture(core_->capture());
  return core;
}

absl::StatusOr<DeployPlan> Scheduler::Impl::Deploy(
    std::shared_ptr<const Pipeline> next, int64_t now,
    const DeployOptions& options) {
  if (absl::Status s = internal::CheckDeployOptions(*next, options); !s.ok()) {
    return s;
  }
  if (absl::Status s = internal::CheckRelated(*pipeline_, *next, options);
      !s.ok()) {
    return s;
  }
  DeployPlan plan;
  // Equals, not Equivalent: a field set to its proto default (such as
  // `partitioned: false`) is a change.
  if (MessageDifferencer::Equals(next->spec(), pipeline_->spec()) &&
      options.rebuild.empty()) {
    plan.summary = "no change";
    return plan;
  }
  absl::StatusOr<std::unique_ptr<internal::Core>> core =
      Upgraded(next, options);
  if (!core.ok()) return core.status();
  plan.changed = true;
  plan.summary = internal::DescribeChange(*pipeline_, *next);
  plan.changes = internal::DescribeChanges(*pipeline_, *next, options);
  // A dry run's entries go nowhere: not to the store, nor the observer.
  internal::JournalBuffer dry;
  if (options.dry_run) (*core)->set_capture(&dry);
  (*core)->RecordPipelineUpdate(plan.summary, now, &plan.made_ready);
  if (!options.dry_run) Switch(std::move(next), *std::move(core));
  return plan;
}

absl::Status Scheduler::Impl::ReplayEntry(const JournalEntry& j) {
  if (j.kind() != static_cast<int32_t>(EntryKind::kPipelineUpdated)) {
    return core_->Replay(j);
  }
  PipelineSpec spec;
  if (!spec.ParseFromString(j.spec())) {
    return absl::DataLossError(absl::StrCat(
        "history entry ", j.seq(), ": the pipeline spec cannot be read"));
  }
  if (absl::Status s = internal::CheckSpecKnown(
          spec, absl::StrCat("history entry ", j.seq(), "'s pipeline spec"));
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::shared_ptr<const Pipeline>> next =
      Pipeline::FromSpec(spec);
  if (!next.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("history entry ", j.seq(), ": the pipeline it deploys is ",
                     "not valid: ", next.status().message()));
  }
  // What the entry records was allowed when it was written.
  DeployOptions options;
  options.adopt.assign(j.adopted().begin(), j.adopted().end());
  options.rebuild.assign(j.rebuilt().begin(), j.rebuilt().end());
  options.force = true;
  if (absl::Status s = internal::CheckDeployOptions(**next, options); !s.ok()) {
    return absl::DataLossError(
        absl::StrCat("history entry ", j.seq(),
                     ": the deploy it records is not valid: ", s.message()));
  }
  absl::StatusOr<std::unique_ptr<internal::Core>> core =
      Upgraded(*next, options);
  if (!core.ok()) return core.status();
  if (absl::Status s = (*core)->Replay(j); !s.ok()) return s;
  Switch(*std::move(next), *std::move(core));
  return absl::OkStatus();
}

void Scheduler::Impl::Switch(std::shared_ptr<const Pipeline> next,
                             std::unique_ptr<internal::Core> core) {
  if (store_ == nullptr) {
    for (HistoryEntry& h : core_->ReadHistory(1, SIZE_MAX)) {
      earlier_.push_back(std::move(h));
    }
    const size_t capacity = options_.history_capacity;
    while (capacity != 0 && earlier_.size() > capacity) earlier_.pop_front();
  }
  Retire(std::move(next));
  core_ = std::move(core);
}

}  // namespace landfall
