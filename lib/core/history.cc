#include "landfall/history.h"

#include "absl/strings/str_cat.h"
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
    absl::StrAppend(&out, " until ", internal::Rfc3339(until));
  }
  if (!detail.empty()) absl::StrAppend(&out, ": ", detail);
  return out;
}

}  // namespace landfall
