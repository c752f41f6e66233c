// The numbering rule every StateStore enforces on AppendEntries.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "landfall/records.pb.h"

namespace landfall::internal {

// OK when `entries` are numbered last_seq + 1, + 2, ...
inline absl::Status CheckAppend(int64_t last_seq,
                                absl::Span<const JournalEntry> entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const int64_t want = last_seq + 1 + static_cast<int64_t>(i);
    if (entries[i].seq() != want) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot append history entry ", entries[i].seq(), ": the next is ",
          want, " (another writer appended meanwhile?)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace landfall::internal
