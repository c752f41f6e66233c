// "Did you mean" suggestions for misspelt names.
#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace landfall::internal {

// Edit distance (insertions, deletions, substitutions) between a and b, or
// any value above `limit` once it is known to exceed it.
int BoundedEditDistance(absl::string_view a, absl::string_view b, int limit);

// The candidate closest to `name` by edit distance, if one is close enough
// to be a plausible typo (at most a third of the name's length, and at least
// one edit allowed). Ties go to the earliest candidate.
std::optional<std::string> ClosestName(
    absl::string_view name, absl::Span<const std::string> candidates);

// ` (did you mean "close"?)` when ClosestName finds one, else "": the tail
// of every "unknown ..." message.
std::string DidYouMean(absl::string_view name,
                       absl::Span<const std::string> candidates);

}  // namespace landfall::internal
