#include "lib/core/ready_key_sort.h"

#include <algorithm>
#include <cstddef>

namespace landfall::internal {
namespace {

// One stable pass of a least-significant-digit radix sort, descending by
// the byte of `word` at `shift`: from `from` into `to`.
template <typename Word>
void DescendingPass(const std::vector<ReadyKey>& from,
                    std::vector<ReadyKey>& to, Word word, int shift) {
  size_t next[256] = {};
  for (const ReadyKey& key : from) ++next[(word(key) >> shift) & 0xff];
  size_t at = 0;
  for (int digit = 255; digit >= 0; --digit) {
    const size_t count = next[digit];
    next[digit] = at;
    at += count;
  }
  for (const ReadyKey& key : from) {
    to[next[(word(key) >> shift) & 0xff]++] = key;
  }
}

}  // namespace

void SortReadyKeysLastFirst(std::vector<ReadyKey>& keys,
                            const std::vector<uint64_t>& partition_ranks) {
  const auto later = [&](const ReadyKey& a, const ReadyKey& b) {
    return ReadyBefore(b, a, partition_ranks);
  };
  if (keys.size() < kRadixSortMinimum) {
    std::sort(keys.begin(), keys.end(), later);
    return;
  }
  // The bits in which some key differs from the first: the bytes without
  // any need no pass.
  uint64_t hi_differs = 0;
  uint64_t lo_differs = 0;
  for (const ReadyKey& key : keys) {
    hi_differs |= key.hi ^ keys.front().hi;
    lo_differs |= key.lo ^ keys.front().lo;
  }
  std::vector<ReadyKey> buffer(keys.size());
  const auto sort_by = [&](uint64_t differs, auto word) {
    for (int shift = 0; shift < 64; shift += 8) {
      if (((differs >> shift) & 0xff) == 0) continue;
      DescendingPass(keys, buffer, word, shift);
      keys.swap(buffer);
    }
  };
  // The less significant word first: each pass keeps the order of the one
  // before among equal bytes.
  sort_by(lo_differs, [](const ReadyKey& key) { return key.lo; });
  sort_by(hi_differs, [](const ReadyKey& key) { return key.hi; });
  // Keys equal in both words are partitions of one table ready at once:
  // ordered by their names' ranks.
  for (auto first = keys.begin(); first != keys.end();) {
    auto last = first + 1;
    while (last != keys.end() && last->hi == first->hi &&
           last->lo == first->lo) {
      ++last;
    }
    if (last - first > 1) std::sort(first, last, later);
    first = last;
  }
}

}  // namespace landfall::internal
