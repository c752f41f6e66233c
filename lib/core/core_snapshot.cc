// Snapshots: the state written out, and a fresh core rebuilt from one.
//
// A snapshot holds what the entries built (slots, table and pool settings,
// event ids in the dedup window, origins); what follows from it (queues,
// timers, counters, indexes) is derived again on restore, as Apply keeps it.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "lib/core/core.h"

namespace landfall::internal {
namespace {

constexpr int32_t kSnapshotFormat = 1;

// Writes a Snapshot in its wire format field by field, each repeated
// message through one message reused: a snapshot of a million task states
// and dedup ids then allocates little beyond its bytes, where a whole
// Snapshot message took hundreds of megabytes of fresh heap every time.
// Fields come in field number order, as the message would serialize them.
class SnapshotWriter {
 public:
  explicit SnapshotWriter(std::string* out) : string_(out), coded_(&string_) {}

  // Zero is left out, as in the message.
  void Int(int field, int64_t value) {
    if (value != 0) WireFormatLite::WriteInt64(field, value, &coded_);
  }
  void Bytes(int field, const std::string& value) {
    WireFormatLite::WriteBytes(field, value, &coded_);
  }
  void Message(int field, const google::protobuf::MessageLite& message) {
    WireFormatLite::WriteTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED,
                             &coded_);
    coded_.WriteVarint32(static_cast<uint32_t>(message.ByteSizeLong()));
    message.SerializeWithCachedSizes(&coded_);
  }
  void PackedFixed64(int field, const std::vector<uint64_t>& values) {
    if (values.empty()) return;
    WireFormatLite::WriteTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED,
                             &coded_);
    coded_.WriteVarint32(static_cast<uint32_t>(values.size() * 8));
    for (uint64_t v : values) coded_.WriteLittleEndian64(v);
  }
  // The bytes written are in `out`, trimmed to their length.
  void Finish() { coded_.Trim(); }

 private:
  using WireFormatLite = google::protobuf::internal::WireFormatLite;
  google::protobuf::io::StringOutputStream string_;
  google::protobuf::io::CodedOutputStream coded_;
};

absl::Status Unfit(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("snapshot does not fit the pipeline: ", what));
}

}  // namespace

std::string Core::SerializedSnapshot(size_t expected_bytes) const {
  std::string bytes;
  // With room for some growth since: the bytes are written into the
  // string's whole capacity, and each doubling copies them and touches
  // fresh pages.
  bytes.reserve(expected_bytes + expected_bytes / 8);
  SnapshotWriter out(&bytes);
  out.Int(Snapshot::kFormatFieldNumber, kSnapshotFormat);
  out.Int(Snapshot::kLastSeqFieldNumber, last_seq_);
  for (const Table& table : info_) {
    out.Bytes(Snapshot::kTablesFieldNumber, table.name);
  }
  for (const std::string& p : partitions_.names()) {
    out.Bytes(Snapshot::kPartitionsFieldNumber, p);
  }
  for (const std::string& w : workers_) {
    out.Bytes(Snapshot::kWorkersFieldNumber, w);
  }
  SlotState state;
  for (SlotIndex s = 0; s < slots_.size(); ++s) {
    const Slot& slot = slots_[s];
    state.Clear();
    state.set_table(slot.table);
    state.set_partition(slot.partition);
    state.set_worker(WorkerOf(slot));
    state.set_missing_inputs(slot.missing_inputs);
    state.set_version(slot.version);
    state.set_attempt(slot.attempt);
    state.set_run_attempts(slot.run_attempts);
    state.set_phase(static_cast<int32_t>(slot.phase));
    state.set_blocked(slot.blocked);
    state.set_forced(slot.forced);
    state.set_newest_input_seq(slot.newest_input_seq);
    state.set_version_seq(slot.version_seq);
    state.set_consumed_seq(slot.consumed_seq);
    state.set_claim_seq(ClaimSeqOf(slot));
    if (slot.run >= 0 && runs_[slot.run].claimed_ns != EntryView::kNoTime) {
      state.set_claimed_ns(runs_[slot.run].claimed_ns);
    }
    state.set_time_ns(TimeOf(slot));
    state.set_last_arrival_ns(LastArrival(s));
    state.set_last_success_ns(LastSuccess(s));
    state.set_last_outcome(slot.last_outcome);
    if (auto error = errors_.find(s); error != errors_.end()) {
      state.set_error(error->second);
    }
    SaveSlotOrigins(s, &state);
    out.Message(Snapshot::kSlotsFieldNumber, state);
  }
  TableState table_state;
  for (TableId t = 0; t < static_cast<TableId>(tables_.size()); ++t) {
    const TableRuntime& rt = tables_[t];
    table_state.Clear();
    table_state.set_name(info_[t].name);
    table_state.set_priority_class(classes_info_[rt.priority_class].name);
    table_state.set_paused(rt.paused);
    const SlotIndex latest = LatestSlot(t);
    table_state.set_latest_slot(latest == kNoSlot ? int64_t{-1}
                                                  : int64_t{latest});
    out.Message(Snapshot::kTableStatesFieldNumber, table_state);
  }
  PoolState pool;
  for (size_t p = 0; p < pools_info_.size(); ++p) {
    pool.Clear();
    pool.set_name(pools_info_[p].name);
    pool.set_slots(pool_capacity_[p]);
    out.Message(Snapshot::kPoolsFieldNumber, pool);
  }
  for (size_t c = 0; c < classes_info_.size(); ++c) {
    if (class_paused_[c]) {
      out.Bytes(Snapshot::kPausedClassesFieldNumber, classes_info_[c].name);
    }
  }
  SeenEventState seen;
  for (const auto& [at_ns, text] : seen_events_.InOrder()) {
    seen.Clear();
    seen.set_at_ns(at_ns);
    seen.set_event_id(text->event_id);
    seen.set_origin(text->origin);
    seen.mutable_attributes()->insert(text->attributes.begin(),
                                      text->attributes.end());
    out.Message(Snapshot::kSeenEventsFieldNumber, seen);
  }
  std::vector<uint64_t> origins, events;
  SortedOriginEvents(&origins, &events);
  out.PackedFixed64(Snapshot::kOriginHashesFieldNumber, origins);
  out.PackedFixed64(Snapshot::kOriginEventHashesFieldNumber, events);
  out.Finish();
  return bytes;
}

absl::Status Core::CheckSlotFits(const Slot& slot,
                                 const SlotState& state) const {
  const Table& table = pipeline_->table(slot.table);
  const auto where = [&] {
    return absl::StrCat("slot ", slots_.size(), " (table \"", table.name,
                        "\")");
  };
  // A source's slot holds versions only: its task would run in no pool.
  if (table.source && state.phase() != static_cast<int>(Phase::kWaiting)) {
    return Unfit(absl::StrCat(where(), ": table \"", table.name,
                              "\" is a source: it has no task"));
  }
  if (table.partitioned == (slot.partition == 0)) {
    return Unfit(absl::StrCat(where(), ": table \"", table.name, "\" is ",
                              table.partitioned
                                  ? "partitioned: the slot needs a partition"
                                  : "unpartitioned: the slot has a partition"));
  }
  if (!MatchesPartitionFormat(table.partition_format,
                              partitions_.Name(slot.partition))) {
    return Unfit(absl::StrCat(
        where(), ": partition \"", partitions_.Name(slot.partition),
        "\" does not match partition_format \"",
        PartitionFormatText(table.partition_format), "\""));
  }
  return absl::OkStatus();
}

absl::Status Core::RestoreSnapshot(const Snapshot& in) {
  if (in.format() > kSnapshotFormat) {
    return WrittenByNewerLandfall(
        absl::StrCat("snapshot format ", in.format()));
  }
  if (in.format() != kSnapshotFormat) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot format ", in.format(), " is not ",
                     kSnapshotFormat, ", the one this library writes"));
  }
  // Names to this pipeline's ids.
  std::vector<TableId> tables;
  for (const std::string& name : in.tables()) {
    auto table = pipeline_->FindTable(name);
    if (!table) return Unfit(absl::StrCat("no table \"", name, "\""));
    tables.push_back(*table);
  }
  partitions_.Clear();
  for (const std::string& p : in.partitions()) {
    if (partitions_.Intern(p) != partitions_.size() - 1) {
      return Unfit(absl::StrCat("partition \"", p, "\" listed twice"));
    }
  }
  if (partitions_.size() == 0 || !partitions_.Name(0).empty()) {
    return Unfit("the first partition is not the empty one");
  }
  for (const std::string& w : in.workers()) InternWorker(w);

  for (const SlotState& state : in.slots()) {
    if (state.table() < 0 || state.table() >= in.tables_size() ||
        state.partition() >= partitions_.size() || state.worker() < -1 ||
        state.worker() >= static_cast<int32_t>(workers_.size()) ||
        state.phase() < 0 || state.phase() > static_cast<int>(Phase::kDead) ||
        !Outcome_IsValid(state.last_outcome())) {
      return Unfit(absl::StrCat("slot ", slots_.size(), " is out of range"));
    }
    Slot slot;
    slot.table = tables[state.table()];
    slot.partition = state.partition();
    if (absl::Status s = CheckSlotFits(slot, state); !s.ok()) return s;
    if (FindSlot(slot.table, slot.partition)) {
      return Unfit(absl::StrCat("task ", info_[slot.table].name, "/",
                                partitions_.Name(slot.partition),
                                " listed twice"));
    }
    slot.missing_inputs = state.missing_inputs();
    slot.version = state.version();
    slot.attempt = state.attempt();
    slot.run_attempts = state.run_attempts();
    slot.phase = static_cast<Phase>(state.phase());
    slot.blocked = state.blocked();
    slot.newest_input_seq = state.newest_input_seq();
    slot.version_seq = state.version_seq();
    slot.consumed_seq = state.consumed_seq();
    // A timed slot's record; what an older snapshot kept of a time or an
    // attempt that ended is not state.
    if (Timed(slot.phase)) HoldRun(slot).time_ns = state.time_ns();
    if (slot.phase == Phase::kRunning) {
      RunRecord& run = runs_[slot.run];
      run.claim_seq = state.claim_seq();
      if (state.has_claimed_ns()) run.claimed_ns = state.claimed_ns();
      run.worker = state.worker();
    }
    slot.last_outcome = static_cast<uint8_t>(state.last_outcome());
    const SlotIndex s = AddSlot(slot);
    if (state.last_arrival_ns() != 0)
      SetLastArrival(s, state.last_arrival_ns());
    if (state.last_success_ns() != 0)
      SetLastSuccess(s, state.last_success_ns());
    SetForced(slots_[s], state.forced());
    SetUnhealthy(slots_[s], /*before=*/false);
    if (!state.error().empty()) errors_[s] = state.error();
  }
  for (const TableState& state : in.table_states()) {
    auto table = pipeline_->FindTable(state.name());
    if (!table) return Unfit(absl::StrCat("no table \"", state.name(), "\""));
    auto cls = pipeline_->FindPriorityClass(state.priority_class());
    if (!cls) {
      return Unfit(absl::StrCat("no priority class \"", state.priority_class(),
                                "\" (table \"", state.name(), "\")"));
    }
    if (state.latest_slot() < -1 || state.latest_slot() >= in.slots_size()) {
      return Unfit(absl::StrCat("table \"", state.name(),
                                "\": latest slot out of range"));
    }
    if (state.latest_slot() >= 0 &&
        slots_[static_cast<SlotIndex>(state.latest_slot())].table != *table) {
      return Unfit(absl::StrCat("table \"", state.name(),
                                "\": latest slot is another table's"));
    }
    TableRuntime& rt = tables_[*table];
    rt.priority_class = *cls;
    rt.paused = state.paused();
    if (state.latest_slot() >= 0) {
      SetLatestSlot(*table, static_cast<SlotIndex>(state.latest_slot()));
    }
  }
  for (const PoolState& state : in.pools()) {
    // A pool the pipeline no longer has held nothing that still runs.
    if (auto pool = pipeline_->FindPool(state.name())) {
      pool_capacity_[*pool] = state.slots();
    }
  }
  for (const std::string& name : in.paused_classes()) {
    auto cls = pipeline_->FindPriorityClass(name);
    if (!cls) return Unfit(absl::StrCat("no priority class \"", name, "\""));
    class_paused_[*cls] = true;
  }
  for (const SeenEventState& seen : in.seen_events()) {
    auto text = std::make_shared<const EntryText>(
        EntryText{seen.event_id(), seen.origin(),
                  SortedAttributes(seen.attributes()), ""});
    seen_events_.Add(seen.at_ns(), std::move(text));
  }
  if (absl::Status s = RestoreOrigins(in); !s.ok()) return s;
  // A windowed task's input counters follow the time zone data (the hours
  // of a local day): counted again under this host's, as a replay of the
  // history would count them, rather than taken as the writer counted.
  for (SlotIndex s = 0; s < slots_.size(); ++s) {
    if (tables_[slots_[s].table].windowed) CountInputs(slots_[s]);
  }
  // What Apply keeps alongside: slots held in pools, queues and timers.
  for (SlotIndex s = 0; s < slots_.size(); ++s) {
    const Slot& slot = slots_[s];
    if (slot.phase == Phase::kRunning) {
      pool_used_[tables_[slot.table].pool] += info_[slot.table].pool_slots;
    }
    Attach(s);
  }
  last_seq_ = in.last_seq();
  history_.StartAfter(last_seq_);
  return absl::OkStatus();
}

}  // namespace landfall::internal
