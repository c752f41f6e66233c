// Where a table's slots are: each found by its partition, all listed in
// creation order, and the one with the newest version.
//
// A table's TableRuntime holds its slot created last, found without
// hashing (a day's run mostly touches one partition per table), and says
// whether it has none, one, or a list here. A table with one slot (most of
// them, in a graph of many tables) costs nothing here.
//
// A table with a list finds its other slots by partition id, in an array
// indexed by it while its partitions' ids are dense (below kDenseSpan times
// its slot count, plus kDenseSlack: a table of daily partitions, as most
// are), else by hashing. The array costs 4 bytes an id (8 a slot at the
// least density it allows, about what the hash set costs a slot), and finds
// a slot in one load where a hash probe reads the slot it points to, a cache
// miss apiece once a scheduler holds millions of task states. A table leaves
// the array for good once an id falls outside.
#pragma once

#include <optional>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/types/span.h"
#include "lib/core/chunked_vector.h"
#include "lib/core/task_state.h"

namespace landfall::internal {

class SlotDirectory {
 public:
  // `slots` outlives the directory, and a slot's key (table, partition)
  // never changes.
  explicit SlotDirectory(const ChunkedVector<Slot>* slots)
      : ids_(0, Hash{{slots}}, Eq{{slots}}) {}

  // The slot of (table, p); `rt` is the table's.
  std::optional<SlotIndex> Find(const TableRuntime& rt, TableId table,
                                PartitionId p) const {
    if (!rt.has_slots()) return std::nullopt;
    if (rt.recent_partition == p) return rt.recent_slot;
    if (rt.slot_list == TableRuntime::kOneSlot) return std::nullopt;
    const SlotList& list = lists_[rt.slot_list];
    if (list.dense) {
      if (p >= list.by_partition.size()) return std::nullopt;
      const SlotIndex s = list.by_partition[p];
      if (s == kNoSlot) return std::nullopt;
      return s;
    }
    auto it = ids_.find(Key{table, p});
    if (it == ids_.end()) return std::nullopt;
    return *it;
  }
  // The table's slots in creation order. Valid until the next slot of that
  // table is added.
  absl::Span<const SlotIndex> SlotsOf(const TableRuntime& rt) const {
    if (rt.slot_list >= 0) return lists_[rt.slot_list].slots;
    return absl::Span<const SlotIndex>(&rt.recent_slot,
                                       rt.slot_list == TableRuntime::kOneSlot);
  }
  // The table's slot with the newest version over all partitions, or
  // kNoSlot before any has one. With one slot, that slot.
  SlotIndex Latest(const TableRuntime& rt) const {
    if (!rt.versioned) return kNoSlot;
    return rt.slot_list >= 0 ? lists_[rt.slot_list].latest : rt.recent_slot;
  }
  // Slot `s` of the table has just got the table's newest version.
  void SetLatest(TableRuntime& rt, SlotIndex s) {
    rt.versioned = true;
    if (rt.slot_list >= 0) lists_[rt.slot_list].latest = s;
  }
  // Registers slot `s` of partition `p` as the table's newest.
  // REQUIRES: the table has no slot of that partition yet.
  void Add(TableRuntime& rt, SlotIndex s, PartitionId p) {
    if (rt.slot_list == TableRuntime::kNoSlots) {
      rt.slot_list = TableRuntime::kOneSlot;
    } else {
      if (rt.slot_list == TableRuntime::kOneSlot) {
        rt.slot_list = static_cast<int32_t>(lists_.size());
        // Its one slot is the latest if the table is versioned.
        SlotList& list = lists_.emplace_back();
        list.slots.push_back(rt.recent_slot);
        list.latest = rt.recent_slot;
        Index(list, rt.recent_slot, rt.recent_partition);
      }
      SlotList& list = lists_[rt.slot_list];
      list.slots.push_back(s);
      if (list.dense) {
        Index(list, s, p);
      } else {
        // The slot recent until now is found by hashing from here on.
        ids_.insert(rt.recent_slot);
      }
    }
    rt.recent_partition = p;
    rt.recent_slot = s;
  }

  // A table's partition ids are dense while below kDenseSpan times its
  // slot count, plus kDenseSlack.
  static constexpr size_t kDenseSpan = 2;
  static constexpr size_t kDenseSlack = 64;

 private:
  // The slots found by hashing, as bare indices: the key is read from the
  // slot itself, 4 bytes a slot and no copy of it.
  struct Key {
    TableId table;
    PartitionId partition;
  };
  struct KeyOf {
    using is_transparent = void;
    const ChunkedVector<Slot>* slots;
    Key operator()(SlotIndex s) const {
      return Key{(*slots)[s].table, (*slots)[s].partition};
    }
    Key operator()(const Key& k) const { return k; }
  };
  struct Hash : KeyOf {
    template <typename K>
    size_t operator()(const K& k) const {
      const Key key = KeyOf::operator()(k);
      return absl::HashOf(key.table, key.partition);
    }
  };
  struct Eq : KeyOf {
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      const Key x = KeyOf::operator()(a);
      const Key y = KeyOf::operator()(b);
      return x.table == y.table && x.partition == y.partition;
    }
  };
  absl::flat_hash_set<SlotIndex, Hash, Eq> ids_;
  // A table with two slots or more: its slots in creation order and, once
  // one has a version, the slot with the newest.
  struct SlotList {
    std::vector<SlotIndex> slots;
    SlotIndex latest = kNoSlot;
    // While dense: each slot by its partition id, kNoSlot for none. Else
    // every slot but the table's recent one is in ids_.
    bool dense = true;
    std::vector<SlotIndex> by_partition;
  };
  // Indexes slot `s` of partition `p` in the array of `list`, or when `p`
  // is too far out for it, moves every slot of the list but `s` (the
  // table's recent one from now on) to ids_.
  void Index(SlotList& list, SlotIndex s, PartitionId p) {
    if (p < kDenseSpan * list.slots.size() + kDenseSlack) {
      if (p >= list.by_partition.size()) {
        list.by_partition.resize(p + 1, kNoSlot);
      }
      list.by_partition[p] = s;
      return;
    }
    list.dense = false;
    std::vector<SlotIndex>().swap(list.by_partition);
    for (SlotIndex other : list.slots) {
      if (other != s) ids_.insert(other);
    }
  }
  std::vector<SlotList> lists_;
};

}  // namespace landfall::internal
