// "Did you mean" suggestions for misspelt names.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace landfall::internal {

// Edit distance (insertions, deletions, substitutions) between a and b, or
// any value above `limit` once it is known to exceed it.
int BoundedEditDistance(absl::string_view a, absl::string_view b, int limit);

// Suggestions against one list of candidates, bounded so that many unknown
// names against many candidates stay cheap (validation stays about linear):
// only candidates whose length is within the edit budget are compared,
// a name longer than kMaxLength gets no suggestion, and once kMaxCells
// edit-distance cells have been spent in all, nothing more is suggested.
class Suggester {
 public:
  static constexpr size_t kMaxLength = 256;
  static constexpr int64_t kMaxCells = 50'000'000;

  // `candidates` must outlive the Suggester.
  explicit Suggester(absl::Span<const std::string> candidates);

  // The candidate closest to `name` by edit distance, if one is close
  // enough to be a plausible typo (at most a third of the name's length,
  // and at least one edit allowed). Ties go to the earliest candidate.
  std::optional<std::string> Closest(absl::string_view name);

  // ` (did you mean "close"?)` when Closest finds one, else "".
  std::string DidYouMean(absl::string_view name);

  // How many candidates have been compared so far.
  int64_t comparisons() const { return comparisons_; }

 private:
  absl::Span<const std::string> candidates_;
  std::map<size_t, std::vector<int>> by_length_;  // Indices, in list order.
  int64_t comparisons_ = 0;
  int64_t cells_ = 0;
};

// Suggester(candidates).Closest(name).
std::optional<std::string> ClosestName(
    absl::string_view name, absl::Span<const std::string> candidates);

// Suggester(candidates).DidYouMean(name): the tail of every "unknown ..."
// message.
std::string DidYouMean(absl::string_view name,
                       absl::Span<const std::string> candidates);

}  // namespace landfall::internal
