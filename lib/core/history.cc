#include "landfall/history.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "landfall/state_store.h"
#include "landfall/version.h"
#include "lib/core/entry.h"
#include "lib/core/rfc3339.h"

namespace landfall {

const char* EntryKindName(EntryKind kind) {
  switch (kind) {
    case EntryKind::kArrival:
      return "arrival";
    case EntryKind::kDuplicate:
      return "duplicate";
    case EntryKind::kReady:
      return "ready";
    case EntryKind::kBlocked:
      return "blocked";
    case EntryKind::kUnblocked:
      return "unblocked";
    case EntryKind::kClaimed:
      return "claimed";
    case EntryKind::kHeartbeat:
      return "heartbeat";
    case EntryKind::kSucceeded:
      return "succeeded";
    case EntryKind::kRetryScheduled:
      return "retry_scheduled";
    case EntryKind::kDead:
      return "dead";
    case EntryKind::kRetryDue:
      return "retry_due";
    case EntryKind::kRedriven:
      return "redriven";
    case EntryKind::kMarkedSucceeded:
      return "marked_succeeded";
    case EntryKind::kRerunRequested:
      return "rerun_requested";
    case EntryKind::kPaused:
      return "paused";
    case EntryKind::kResumed:
      return "resumed";
    case EntryKind::kClassChanged:
      return "class_changed";
    case EntryKind::kPoolResized:
      return "pool_resized";
    case EntryKind::kPipelineUpdated:
      return "pipeline_updated";
  }
  return "unknown";
}

std::string HistoryEntry::ToString() const {
  std::string out = absl::StrCat("#", seq, " ", internal::Rfc3339(at), " ",
                                 EntryKindName(kind));
  if (!table.empty()) {
    absl::StrAppend(&out, " ", table, partition.empty() ? "" : "/", partition);
  }
  if (!priority_class.empty()) absl::StrAppend(&out, " class ", priority_class);
  if (!pool.empty()) absl::StrAppend(&out, " pool ", pool, " slots ", slots);
  if (attempt > 0) absl::StrAppend(&out, " attempt ", attempt);
  if (!worker.empty()) absl::StrAppend(&out, " by ", worker);
  if (!event_id.empty()) absl::StrAppend(&out, " event ", event_id);
  if (until != absl::InfinitePast()) {
    // An arrival's `until` is when the data landed, as its JSON says.
    absl::StrAppend(&out, kind == EntryKind::kArrival ? " landed " : " until ",
                    internal::Rfc3339(until));
  }
  if (!detail.empty()) absl::StrAppend(&out, ": ", detail);
  if (!adopted.empty()) {
    absl::StrAppend(&out, "; adopted ", absl::StrJoin(adopted, ", "));
  }
  if (!rebuilt.empty()) {
    absl::StrAppend(&out, "; rebuilt ", absl::StrJoin(rebuilt, ", "));
  }
  return out;
}

namespace {
int64_t NanosOrNone(absl::Time t) {
  return t == absl::InfinitePast() ? EntryView::kNoTime : absl::ToUnixNanos(t);
}
}  // namespace

EntryView::EntryView(const HistoryEntry& entry)
    : seq(entry.seq),
      at_ns(absl::ToUnixNanos(entry.at)),
      kind(entry.kind),
      partition(entry.partition),
      attempt(entry.attempt),
      worker(entry.worker),
      outcome(entry.outcome),
      until_ns(NanosOrNone(entry.until)),
      priority_class(entry.priority_class),
      pool(entry.pool),
      slots(entry.slots),
      ready_ns(NanosOrNone(entry.ready_at)),
      claim_seq(entry.claim_seq),
      table_(entry.table),
      entry_(&entry) {}

JournalEntry ToJournal(const HistoryEntry& h) {
  JournalEntry j;
  ToJournal(h, &j);
  return j;
}

void ToJournal(const HistoryEntry& h, JournalEntry* out) {
  out->Clear();  // Keeps the strings' memory for the fields set below.
  JournalEntry& j = *out;
  j.set_seq(h.seq);
  j.set_at_ns(absl::ToUnixNanos(h.at));
  j.set_kind(static_cast<int32_t>(h.kind));
  j.set_table(h.table);
  j.set_partition(h.partition);
  j.set_attempt(h.attempt);
  j.set_worker(h.worker);
  j.set_event_id(h.event_id);
  j.set_origin(h.origin);
  j.mutable_attributes()->insert(h.attributes.begin(), h.attributes.end());
  j.set_outcome(h.outcome);
  j.set_detail(h.detail);
  if (h.until != absl::InfinitePast()) {
    j.set_until_ns(absl::ToUnixNanos(h.until));
  }
  j.set_priority_class(h.priority_class);
  j.set_pool(h.pool);
  j.set_slots(h.slots);
  j.set_spec(h.spec);
  for (const std::string& table : h.adopted) j.add_adopted(table);
  for (const std::string& table : h.rebuilt) j.add_rebuilt(table);
  if (h.ready_at != absl::InfinitePast()) {
    j.set_ready_ns(absl::ToUnixNanos(h.ready_at));
  }
  j.set_claim_seq(h.claim_seq);
}

namespace internal {

EntryView JournalView(const JournalEntry& j,
                      absl::FunctionRef<HistoryEntry()> whole) {
  EntryView v(whole, j.table());
  v.seq = j.seq();
  v.at_ns = j.at_ns();
  v.kind = static_cast<EntryKind>(j.kind());
  v.partition = j.partition();
  v.attempt = j.attempt();
  v.worker = j.worker();
  v.outcome = j.outcome();
  if (j.has_until_ns()) v.until_ns = j.until_ns();
  v.priority_class = j.priority_class();
  v.pool = j.pool();
  v.slots = j.slots();
  if (j.has_ready_ns()) v.ready_ns = j.ready_ns();
  v.claim_seq = j.claim_seq();
  return v;
}

absl::Status CheckKind(const JournalEntry& j) {
  if (j.kind() > static_cast<int32_t>(EntryKind::kPipelineUpdated)) {
    return WrittenByNewerLandfall(
        absl::StrCat("history entry ", j.seq(), " has kind ", j.kind()));
  }
  if (j.kind() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "history entry ", j.seq(), " has kind ", j.kind(), ", which is none"));
  }
  return absl::OkStatus();
}

namespace {
constexpr char kNewerLandfallPayload[] = "landfall/written-by-newer-landfall";
}  // namespace

absl::Status MarkedNewer(absl::Status status) {
  status.SetPayload(kNewerLandfallPayload, absl::Cord("1"));
  return status;
}

absl::Status WrittenByNewerLandfall(absl::string_view what) {
  return MarkedNewer(absl::FailedPreconditionError(absl::StrCat(
      what, ", which landfall ", Version(),
      " does not know: it was written by a newer landfall; open it with "
      "that version or a later one")));
}

absl::Status AsStoredStateError(const absl::Status& status,
                                absl::string_view context) {
  if (status.ok()) return status;
  const std::string message = absl::StrCat(context, status.message());
  if (IsWrittenByNewerLandfall(status)) {
    return MarkedNewer(absl::FailedPreconditionError(message));
  }
  return absl::DataLossError(message);
}

}  // namespace internal

bool IsWrittenByNewerLandfall(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition &&
         status.GetPayload(internal::kNewerLandfallPayload).has_value();
}

absl::StatusOr<HistoryEntry> FromJournal(const JournalEntry& j) {
  if (absl::Status s = internal::CheckKind(j); !s.ok()) return s;
  HistoryEntry h;
  h.seq = j.seq();
  h.at = absl::FromUnixNanos(j.at_ns());
  h.kind = static_cast<EntryKind>(j.kind());
  h.table = j.table();
  h.partition = j.partition();
  h.attempt = j.attempt();
  h.worker = j.worker();
  h.event_id = j.event_id();
  h.origin = j.origin();
  h.attributes.insert(j.attributes().begin(), j.attributes().end());
  h.outcome = j.outcome();
  h.detail = j.detail();
  if (j.has_until_ns()) h.until = absl::FromUnixNanos(j.until_ns());
  h.priority_class = j.priority_class();
  h.pool = j.pool();
  h.slots = j.slots();
  h.spec = j.spec();
  h.adopted.assign(j.adopted().begin(), j.adopted().end());
  h.rebuilt.assign(j.rebuilt().begin(), j.rebuilt().end());
  if (j.has_ready_ns()) h.ready_at = absl::FromUnixNanos(j.ready_ns());
  h.claim_seq = j.claim_seq();
  return h;
}

}  // namespace landfall
