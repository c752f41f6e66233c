// The core's entries as the journal and the public history hold them, and
// entries replayed from a journal.
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/core/core.h"
#include "lib/core/replay_check.h"

namespace landfall::internal {

absl::string_view Core::ClassNameOf(const Entry& e) const {
  if (e.kind == EntryKind::kClassChanged ||
      ((e.kind == EntryKind::kPaused || e.kind == EntryKind::kResumed) &&
       e.table < 0)) {
    return pipeline_->priority_classes()[e.target].name;
  }
  return {};
}

absl::string_view Core::PoolNameOf(const Entry& e) const {
  if (e.kind != EntryKind::kPoolResized) return {};
  return pipeline_->pools()[e.target].name;
}

absl::string_view Core::TableOfTold::operator()() const {
  // The name is in the pipeline's Table, a cache miss away on a large
  // pipeline: read only when the observer asks.
  const TableId table = core->told_->table;
  return table >= 0 ? absl::string_view(core->info_[table].name)
                    : absl::string_view();
}

void Core::Tell(const Entry& e, int64_t claimed_ns) const {
  told_ = &e;
  EntryView& view = told_view_;
  const bool has_table = e.table >= 0;
  const bool claim = e.kind == EntryKind::kClaimed;
  const bool ends = EndsAttempt(e.kind);
  view.seq = e.seq;
  view.at_ns = e.at_ns;
  view.kind = e.kind;
  view.partition =
      has_table ? partitions_.View(e.partition) : absl::string_view();
  view.table_id = has_table ? e.table : -1;
  view.attempt = e.attempt;
  view.worker = e.worker >= 0 ? absl::string_view(workers_[e.worker])
                              : absl::string_view();
  view.outcome = e.outcome;
  view.until_ns = e.until_ns != 0 ? e.until_ns : EntryView::kNoTime;
  view.priority_class = ClassNameOf(e);
  view.pool = PoolNameOf(e);
  view.slots = e.slots;
  view.ready_ns = claim ? e.attempt_link : EntryView::kNoTime;
  view.claim_time_follows = claim;  // Its lease keeps the time.
  view.claim_seq = ends ? e.attempt_link : 0;
  view.claimed_ns = ends ? claimed_ns : EntryView::kNoTime;
  options_.observer->OnEntryView(view);
  told_ = nullptr;
}

void Core::ToJournal(const Entry& e, JournalEntry* out) const {
  JournalEntry& j = *out;
  j.set_seq(e.seq);
  j.set_at_ns(e.at_ns);
  j.set_kind(static_cast<int32_t>(e.kind));
  if (e.table >= 0) {
    j.set_table(info_[e.table].name);
    j.set_partition(partitions_.Name(e.partition));
  }
  j.set_attempt(e.attempt);
  if (e.worker >= 0) j.set_worker(workers_[e.worker]);
  if (e.text != nullptr) {
    j.set_event_id(e.text->event_id);
    j.set_origin(e.text->origin);
    j.mutable_attributes()->insert(e.text->attributes.begin(),
                                   e.text->attributes.end());
    j.set_detail(e.text->detail);
  } else if (e.kind == EntryKind::kReady && e.cause != kNoSlot) {
    const Slot& cause = slots_[e.cause];
    std::string& detail = *j.mutable_detail();
    detail.clear();
    absl::StrAppend(&detail, "upstream ", info_[cause.table].name,
                    cause.partition == 0 ? "" : "/",
                    partitions_.Name(cause.partition), " reached version ",
                    e.cause_version);
  }
  j.set_outcome(e.outcome);
  if (e.until_ns != 0) j.set_until_ns(e.until_ns);
  if (absl::string_view cls = ClassNameOf(e); !cls.empty()) {
    j.set_priority_class(cls.data(), cls.size());
  }
  if (e.kind == EntryKind::kPoolResized) {
    const absl::string_view pool = PoolNameOf(e);
    j.set_pool(pool.data(), pool.size());
    j.set_slots(e.slots);
  }
  if (e.kind == EntryKind::kClaimed) {
    j.set_ready_ns(e.attempt_link);
  } else if (EndsAttempt(e.kind)) {
    j.set_claim_seq(e.attempt_link);
  }
  // A core runs one pipeline, and its update is the first entry it applies.
  if (e.kind == EntryKind::kPipelineUpdated) {
    j.set_spec(pipeline_->spec().SerializeAsString());
    for (TableId t : adopted_) j.add_adopted(info_[t].name);
    for (TableId t : rebuilt_) j.add_rebuilt(info_[t].name);
  }
}

HistoryEntry Core::ToPublic(const Entry& e) const {
  // Cleared, not made anew: its strings keep their memory from one entry
  // to the next.
  public_scratch_.Clear();
  ToJournal(e, &public_scratch_);
  // The kinds of entries emitted here are all known.
  return *FromJournal(public_scratch_);
}

absl::Status Core::Replay(const JournalEntry& j) {
  if (j.seq() != last_seq_ + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "history entry ", j.seq(), " follows ", last_seq_, ": there is a gap"));
  }
  if (absl::Status s = CheckKind(j); !s.ok()) return s;
  if (absl::Status s = CheckReplayedEntry(j, *pipeline_); !s.ok()) return s;
  Entry e;
  e.kind = static_cast<EntryKind>(j.kind());
  e.at_ns = j.at_ns();
  e.attempt = j.attempt();
  e.outcome = j.outcome();
  e.slots = j.slots();
  if (j.has_until_ns()) e.until_ns = j.until_ns();
  if (!j.table().empty()) {
    auto table = pipeline_->FindTable(j.table());
    if (!table) {
      return absl::InvalidArgumentError(absl::StrCat(
          "history entry ", j.seq(), ": unknown table ", j.table()));
    }
    e.table = *table;
    e.partition = partitions_.Intern(j.partition());
  }
  if (!j.worker().empty()) e.worker = InternWorker(j.worker());
  if (!j.event_id().empty() || !j.origin().empty() || !j.detail().empty() ||
      !j.attributes().empty()) {
    e.text = std::make_shared<EntryText>(
        EntryText{j.event_id(), j.origin(), SortedAttributes(j.attributes()),
                  j.detail()});
  }
  if (!j.priority_class().empty()) {
    auto cls = pipeline_->FindPriorityClass(j.priority_class());
    if (!cls) return absl::InvalidArgumentError("unknown class in history");
    e.target = *cls;
  }
  if (e.kind == EntryKind::kPoolResized) {
    auto pool = pipeline_->FindPool(j.pool());
    if (!pool) return absl::InvalidArgumentError("unknown pool in history");
    e.target = *pool;
  }
  Emit(std::move(e));
  return absl::OkStatus();
}

}  // namespace landfall::internal
