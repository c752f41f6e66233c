#include "lib/pipeline/internal/suggest.h"

#include <algorithm>
#include <cstdlib>
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

std::optional<std::string> ClosestName(
    absl::string_view name, absl::Span<const std::string> candidates) {
  const int limit = std::max(1, static_cast<int>(name.size()) / 3);
  std::optional<std::string> best;
  int best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const int d = BoundedEditDistance(name, candidate, best_distance - 1);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string DidYouMean(absl::string_view name,
                       absl::Span<const std::string> candidates) {
  std::optional<std::string> close = ClosestName(name, candidates);
  return close ? absl::StrCat(" (did you mean \"", *close, "\"?)") : "";
}

}  // namespace landfall::internal
