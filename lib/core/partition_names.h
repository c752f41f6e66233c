// The partition names a scheduler has seen, interned: each gets a dense id,
// and a rank in the order of the names so that ties in claim order are
// broken without reading a string.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "lib/core/entry.h"

namespace landfall::internal {

class PartitionNames {
 public:
  // The id of `name`, a new one (the next in order) the first time.
  PartitionId Intern(const std::string& name);
  std::optional<PartitionId> Find(const std::string& name) const;

  const std::string& Name(PartitionId p) const { return names_[p]; }
  absl::string_view View(PartitionId p) const { return views_[p]; }
  // The names by id.
  const std::deque<std::string>& names() const { return names_; }
  size_t size() const { return names_.size(); }

  // By id, numbers in the order of the names (equal only for the same
  // name), spaced so that a new name mostly fits between its neighbours'
  // (Rank). Valid as long as this object.
  const std::vector<uint64_t>& ranks() const { return ranks_; }

  void Clear();

 private:
  // Gives the name just interned as `id` its rank, renumbering all (in the
  // same order) when its neighbours leave no room.
  void Rank(PartitionId id);

  std::deque<std::string> names_;  // A deque: views of them stay valid.
  // Views of names_, by id: one load where the deque takes several.
  std::vector<absl::string_view> views_;
  absl::flat_hash_map<std::string, PartitionId> ids_;
  std::vector<uint64_t> ranks_;
  absl::btree_map<absl::string_view, PartitionId> in_order_;
};

}  // namespace landfall::internal
