#include "lib/core/partition_names.h"

#include <iterator>
#include <limits>

namespace landfall::internal {

PartitionId PartitionNames::Intern(const std::string& name) {
  auto [it, added] =
      ids_.emplace(name, static_cast<PartitionId>(names_.size()));
  if (added) {
    names_.push_back(name);
    views_.push_back(names_.back());
    Rank(it->second);
  }
  return it->second;
}

std::optional<PartitionId> PartitionNames::Find(const std::string& name) const {
  auto it = ids_.find(name);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

void PartitionNames::Clear() {
  names_.clear();
  views_.clear();
  ids_.clear();
  ranks_.clear();
  in_order_.clear();
}

void PartitionNames::Rank(PartitionId id) {
  // Appended names (dates, hours) take the last rank plus a gap; names in
  // between halve their neighbours' gap. Renumbering is rare: it needs 32
  // names in a row between the same two.
  constexpr uint64_t kGap = uint64_t{1} << 32;
  auto [it, added] = in_order_.emplace(names_[id], id);
  ranks_.resize(names_.size());
  const uint64_t below =
      it == in_order_.begin() ? 0 : ranks_[std::prev(it)->second];
  const auto next = std::next(it);
  if (next == in_order_.end()) {
    if (std::numeric_limits<uint64_t>::max() - below > kGap) {
      ranks_[id] = below + kGap;
      return;
    }
  } else if (const uint64_t above = ranks_[next->second]; above - below >= 2) {
    ranks_[id] = below + (above - below) / 2;
    return;
  }
  uint64_t rank = 0;
  for (const auto& [name, p] : in_order_) {
    rank += kGap;
    ranks_[p] = rank;
  }
}

}  // namespace landfall::internal
