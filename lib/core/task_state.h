// The state the scheduler keeps per task and per table (Core's arrays),
// and a ready task's place in claim order.
#pragma once

#include <cstdint>

#include "landfall/pipeline.h"
#include "lib/core/entry.h"

namespace landfall::internal {

enum class Phase : uint8_t { kWaiting, kReady, kRunning, kRetryWait, kDead };

// One (table, partition): its versions and, for a derived table, its task.
struct Slot {
  TableId table = 0;
  PartitionId partition = 0;
  // While ready, running or waiting to retry: the task's record in
  // Core::runs_ (its time, and a running attempt's claim), else -1.
  int32_t run = -1;
  // Inputs that must be present but are not (every upstream for trigger ALL,
  // requirements only for ANY), and below the newest input version's entry:
  // kept up to date as upstream versions change, so readiness costs O(1).
  int32_t missing_inputs = 0;
  int32_t version = 0;
  int32_t attempt = 0;
  int32_t run_attempts = 0;
  Phase phase = Phase::kWaiting;
  bool blocked = false;  // Needs a dead task's output.
  bool forced = false;   // Rerun requested: due even if nothing is newer.
  // How attempt `attempt` ended (an Outcome), once it has: a repeated
  // completion of it is then recognized.
  uint8_t last_outcome = 0;
  int64_t newest_input_seq = 0;
  int64_t version_seq = 0;   // Entry that made the current version.
  int64_t consumed_seq = 0;  // Claim entry of the last successful attempt.
  // A source's last arrival, a derived table's last success: the one each
  // kind of table gets (Core::LastArrival and Core::LastSuccess).
  int64_t stamp_ns = 0;
};
static_assert(sizeof(Slot) <= 64, "a task state should stay small");

// What a task needs only while it is ready, running or waiting to retry
// (Timed): kept aside, so that the many slots waiting or done do not carry
// it.
struct RunRecord {
  // Ready: when it became ready. Running: the lease's end. Retry wait: when
  // the retry is due.
  int64_t time_ns = 0;
  // The running attempt's claim; 0, kNoTime and -1 when none runs.
  int64_t claim_seq = 0;  // Claim entry of the attempt.
  // When the claim was written (Unix ns); EntryView::kNoTime when a
  // snapshot older than the field restored the attempt.
  int64_t claimed_ns = EntryView::kNoTime;
  int32_t worker = -1;
};

// A table's state, with copies of the pipeline's fields that hot paths read:
// two tables a cache line. What few tables need (their dead, blocked and
// forced slot counts) is kept apart, in Core.
struct alignas(32) TableRuntime {
  // From the pipeline's Table.
  bool source : 1;
  bool partitioned : 1;
  bool trigger_any : 1;
  bool windowed : 1;  // Reads an input through a window (core_windows).
  // Some downstream reads it partition by partition (Core::OriginReader):
  // the origins of its arrivals are kept for them.
  bool origins_read : 1;
  // State.
  bool paused : 1;
  // Some slot of it has a version; the one with the newest is
  // Core::LatestSlot.
  bool versioned : 1;
  PoolId pool = 0;
  int32_t longest_path = 0;
  ClassId priority_class = 0;
  // The slot created last is found without hashing: a day's run mostly
  // touches one partition per table. The others are in its SlotDirectory,
  // which lists them all.
  PartitionId recent_partition = 0;
  SlotIndex recent_slot = kNoSlot;
  // kNoSlots, kOneSlot (recent_slot), or with two slots or more the index
  // of its list in the SlotDirectory.
  static constexpr int32_t kNoSlots = -1;
  static constexpr int32_t kOneSlot = -2;
  int32_t slot_list = kNoSlots;
  // How many of its slots are in Core::kept_origins_.
  int32_t kept_origin_slots = 0;

  TableRuntime()
      : source(false),
        partitioned(false),
        trigger_any(false),
        windowed(false),
        origins_read(false),
        paused(false),
        versioned(false) {}
  bool has_slots() const { return slot_list != kNoSlots; }
};
static_assert(sizeof(TableRuntime) == 32, "two tables a cache line");

// A ready task's place in claim order: the longest path first, then the
// earliest ready time, then the table, then the partition key. The first
// three are packed into two words, most significant first, so that the heap
// compares integers.
struct ReadyKey {
  ReadyKey() = default;  // Zero, in a vector sized up front.
  ReadyKey(int32_t longest_path, int64_t ready_ns, TableId table,
           PartitionId partition, SlotIndex slot)
      : partition(partition), slot(slot) {
    constexpr uint64_t kSign = uint64_t{1} << 63;
    // Flipping the sign bit orders signed values as unsigned ones; the path
    // is inverted because longer paths come first.
    const uint64_t path = ~(static_cast<uint32_t>(longest_path) ^ 0x80000000u);
    const uint64_t time = static_cast<uint64_t>(ready_ns) ^ kSign;
    hi = (static_cast<uint64_t>(static_cast<uint32_t>(path)) << 32) |
         (time >> 32);
    lo = (time << 32) | static_cast<uint32_t>(table);
  }
  int64_t ready_ns() const {
    return static_cast<int64_t>(((hi << 32) | (lo >> 32)) ^
                                (uint64_t{1} << 63));
  }
  TableId table() const { return static_cast<TableId>(lo & 0xffffffffu); }

  uint64_t hi;  // Inverted longest path, then the ready time's upper half.
  uint64_t lo;  // The ready time's lower half, then the table.
  PartitionId partition;
  SlotIndex slot;

  friend bool operator==(const ReadyKey& a, const ReadyKey& b) {
    return a.slot == b.slot && a.hi == b.hi && a.lo == b.lo;
  }
};

}  // namespace landfall::internal
