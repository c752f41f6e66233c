#include "lib/pipeline/internal/suggest.h"

#include <algorithm>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace landfall::internal {

int BoundedEditDistance(absl::string_view a, absl::string_view b, int limit) {
  const int n = static_cast<int>(a.size());
  const int m = static_cast<int>(b.size());
  if (std::abs(n - m) > limit) return limit + 1;
  std::vector<int> row(m + 1);
  for (int j = 0; j <= m; ++j) row[j] = j;
  for (int i = 1; i <= n; ++i) {
    int diagonal = row[0];
    row[0] = i;
    int row_min = row[0];
    for (int j = 1; j <= m; ++j) {
      const int above = row[j];
      row[j] = std::min({above + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
      row_min = std::min(row_min, row[j]);
    }
    if (row_min > limit) return limit + 1;
  }
  return row[m];
}

Suggester::Suggester(absl::Span<const std::string> candidates)
    : candidates_(candidates) {
  for (int i = 0; i < static_cast<int>(candidates.size()); ++i) {
    by_length_[candidates[i].size()].push_back(i);
  }
}

std::optional<std::string> Suggester::Closest(absl::string_view name) {
  if (name.size() > kMaxLength) return std::nullopt;
  const int limit = std::max(1, static_cast<int>(name.size()) / 3);
  int best = -1;
  int best_distance = limit + 1;
  // A candidate whose length differs by more than the budget is never close.
  const size_t shortest =
      name.size() > static_cast<size_t>(limit) ? name.size() - limit : 0;
  for (auto it = by_length_.lower_bound(shortest);
       it != by_length_.end() && it->first <= name.size() + limit; ++it) {
    for (int i : it->second) {
      if (cells_ > kMaxCells) return std::nullopt;
      ++comparisons_;
      cells_ += static_cast<int64_t>(name.size() + 1) * (it->first + 1);
      const int d = BoundedEditDistance(name, candidates_[i], best_distance);
      if (d < best_distance || (d == best_distance && i < best)) {
        best_distance = d;
        best = i;
      }
    }
  }
  if (best < 0) return std::nullopt;
  return candidates_[best];
}

std::string Suggester::DidYouMean(absl::string_view name) {
  std::optional<std::string> close = Closest(name);
  return close ? absl::StrCat(" (did you mean \"", *close, "\"?)") : "";
}

std::optional<std::string> ClosestName(
    absl::string_view name, absl::Span<const std::string> candidates) {
  return Suggester(candidates).Closest(name);
}

std::string DidYouMean(absl::string_view name,
                       absl::Span<const std::string> candidates) {
  return Suggester(candidates).DidYouMean(name);
}

}  // namespace landfall::internal
