// Origins: which object each origin delivered last (Scheduler::Ingested),
// and per slot the origins of arrivals that the tasks reading it have not
// consumed yet (InputVersion::origins).
//
// A slot's kept origins are dropped three ways, all decided in Apply so that
// a replay drops the same: all at once when every reader has consumed the
// newest (counted down on each success: no scan of the readers), the ones
// every reader has consumed when the list reaches a power of two (a scan of
// the readers, as costly as the arrival's Propagate), and the oldest past
// kMaxOriginsPerPartition.
#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "lib/core/core.h"
#include "lib/core/stable_hash.h"

namespace landfall::internal {
namespace {

constexpr size_t kFirstPrune = 8;

// The list sizes at which the consumed origins are looked for: 8, 16, 32...
bool IsPruneSize(size_t n) { return n >= kFirstPrune && (n & (n - 1)) == 0; }

}  // namespace

bool Core::Ingested(const std::string& origin,
                    const std::string& event_id) const {
  if (origin.empty()) return false;
  auto it = origin_events_.find(Fnv1a64(origin));
  return it != origin_events_.end() && it->second == Fnv1a64(event_id);
}

bool Core::OriginReader(TableId up, TableId down) const {
  return tables_[down].partitioned == tables_[up].partitioned &&
         ReadsByIdentity(up, down);
}

int32_t Core::OriginReaderCount(TableId up) const {
  int32_t count = 0;
  for (TableId down : pipeline_->Downstreams(up)) {
    count += OriginReader(up, down);
  }
  return count;
}

template <typename F>
void Core::ForEachOriginReader(SlotIndex s, F f) const {
  const TableId up = slots_[s].table;
  for (TableId down : pipeline_->Downstreams(up)) {
    if (!OriginReader(up, down)) continue;
    if (auto d = FindSlot(down, slots_[s].partition)) f(slots_[*d]);
  }
}

void Core::NoteOrigin(const Entry& e, SlotIndex s) {
  if (e.text == nullptr || e.text->origin.empty()) return;
  origin_events_[Fnv1a64(e.text->origin)] = Fnv1a64(e.text->event_id);
  if (s == kNoSlot) return;
  const TableId table = slots_[s].table;
  if (!tables_[table].origins_read) {  // No task would ever list it.
    int64_t& dropped = dropped_origins_[s];
    dropped = std::max(dropped, e.seq);
    return;
  }
  auto [it, added] = kept_origins_.try_emplace(s);
  if (added) ++tables_[table].kept_origin_slots;
  KeptOrigins& kept = it->second;
  kept.list.emplace_back(e.seq, e.text->origin);
  // Propagate made every reader's slot; none has consumed this one.
  kept.unconsumed = OriginReaderCount(table);
  const size_t live = kept.list.size() - kept.head;
  if (IsPruneSize(live)) {
    PruneConsumedOrigins(s);
  } else if (live > static_cast<size_t>(kMaxOriginsPerPartition)) {
    PruneConsumedOrigins(s);
    const size_t left = kept.list.size() - kept.head;
    // An eighth at once, so that the scan above runs once per that many.
    const size_t keep = kMaxOriginsPerPartition - kMaxOriginsPerPartition / 8;
    if (left > static_cast<size_t>(kMaxOriginsPerPartition)) {
      DropOrigins(s, left - keep);
    }
  }
}

void Core::DropOrigins(SlotIndex s, size_t n) {
  auto it = kept_origins_.find(s);
  KeptOrigins& kept = it->second;
  kept.head += n;
  int64_t& dropped = dropped_origins_[s];
  dropped = std::max(dropped, kept.list[kept.head - 1].first);
  if (kept.head == kept.list.size()) {
    --tables_[slots_[s].table].kept_origin_slots;
    kept_origins_.erase(it);
  } else if (kept.head * 2 >= kept.list.size()) {
    kept.list.erase(kept.list.begin(), kept.list.begin() + kept.head);
    kept.head = 0;
  }
}

void Core::PruneConsumedOrigins(SlotIndex s) {
  int64_t consumed = std::numeric_limits<int64_t>::max();
  ForEachOriginReader(
      s, [&](const Slot& r) { consumed = std::min(consumed, r.consumed_seq); });
  const KeptOrigins& kept = kept_origins_.find(s)->second;
  size_t n = 0;
  while (kept.head + n < kept.list.size() &&
         kept.list[kept.head + n].first <= consumed) {
    ++n;
  }
  if (n > 0) DropOrigins(s, n);
}

template <typename F>
void Core::ForEachKeptInput(const Slot& reader, F f) {
  if (kept_origins_.empty()) return;  // No arrival brought an origin.
  for (TableId up : pipeline_->Upstreams(reader.table)) {
    // Most upstreams keep no origins: no lookup for them.
    if (tables_[up].kept_origin_slots == 0 || !OriginReader(up, reader.table)) {
      continue;
    }
    const std::optional<SlotIndex> input = FindSlot(up, reader.partition);
    if (!input) continue;
    auto it = kept_origins_.find(*input);
    if (it != kept_origins_.end()) f(*input, it->second);
  }
}

void Core::ConsumeOrigins(const Slot& reader, int64_t before) {
  ForEachKeptInput(reader, [&](SlotIndex input, KeptOrigins& kept) {
    const int64_t newest = kept.list.back().first;
    if (before < newest && newest <= reader.consumed_seq &&
        --kept.unconsumed == 0) {
      DropOrigins(input, kept.list.size() - kept.head);
    }
  });
}

void Core::AddOriginReader(const Slot& reader) {
  ForEachKeptInput(reader,
                   [](SlotIndex, KeptOrigins& kept) { ++kept.unconsumed; });
}

void Core::KeptOriginsOf(const Slot& reader, TableId up, SlotIndex input,
                         InputVersion* out) const {
  if (tables_[up].kept_origin_slots > 0) {
    if (auto it = kept_origins_.find(input); it != kept_origins_.end()) {
      const auto& list = it->second.list;
      auto first = std::upper_bound(
          list.begin() + it->second.head, list.end(), reader.consumed_seq,
          [](int64_t seq, const auto& kept) { return seq < kept.first; });
      for (; first != list.end(); ++first)
        out->origins.push_back(first->second);
    }
  }
  if (!dropped_origins_.empty()) {
    auto dropped = dropped_origins_.find(input);
    if (dropped != dropped_origins_.end() &&
        dropped->second > reader.consumed_seq) {
      out->origins_complete = false;
    }
  }
}

void Core::SortedOriginEvents(std::vector<uint64_t>* origins,
                              std::vector<uint64_t>* events) const {
  std::vector<std::pair<uint64_t, uint64_t>> pairs(origin_events_.begin(),
                                                   origin_events_.end());
  std::sort(pairs.begin(), pairs.end());  // The same state, the same bytes.
  origins->reserve(pairs.size());
  events->reserve(pairs.size());
  for (const auto& [origin, event] : pairs) {
    origins->push_back(origin);
    events->push_back(event);
  }
}

void Core::SaveSlotOrigins(SlotIndex s, SlotState* state) const {
  if (!kept_origins_.empty()) {
    if (auto it = kept_origins_.find(s); it != kept_origins_.end()) {
      const KeptOrigins& kept = it->second;
      for (size_t i = kept.head; i < kept.list.size(); ++i) {
        state->add_origin_seqs(kept.list[i].first);
        state->add_origins(kept.list[i].second);
      }
    }
  }
  if (!dropped_origins_.empty()) {
    if (auto it = dropped_origins_.find(s); it != dropped_origins_.end()) {
      state->set_origins_dropped_seq(it->second);
    }
  }
}

absl::Status Core::RestoreOrigins(const Snapshot& in) {
  if (in.origin_hashes_size() != in.origin_event_hashes_size()) {
    return absl::InvalidArgumentError(
        "snapshot does not fit the pipeline: origin and event hashes differ "
        "in number");
  }
  for (int i = 0; i < in.origin_hashes_size(); ++i) {
    origin_events_[in.origin_hashes(i)] = in.origin_event_hashes(i);
  }
  if (origin_events_.empty()) {
    // Written before origins were recorded: those in its dedup window.
    for (const auto& [at_ns, text] : seen_events_.InOrder()) {
      if (!text->origin.empty()) {
        origin_events_[Fnv1a64(text->origin)] = Fnv1a64(text->event_id);
      }
    }
  }
  std::vector<SlotIndex> kept_slots;
  for (SlotIndex s = 0; s < static_cast<SlotIndex>(in.slots_size()); ++s) {
    const SlotState& state = in.slots(static_cast<int>(s));
    if (state.origins_dropped_seq() > 0) {
      dropped_origins_[s] = state.origins_dropped_seq();
    }
    if (state.origins_size() == 0) continue;
    if (state.origin_seqs_size() != state.origins_size() ||
        !std::is_sorted(state.origin_seqs().begin(),
                        state.origin_seqs().end())) {
      return absl::InvalidArgumentError(
          absl::StrCat("snapshot does not fit the pipeline: slot ", s,
                       " has origins out of order"));
    }
    KeptOrigins& kept = kept_origins_[s];
    for (int i = 0; i < state.origins_size(); ++i) {
      kept.list.emplace_back(state.origin_seqs(i), state.origins(i));
    }
    ++tables_[slots_[s].table].kept_origin_slots;
    kept_slots.push_back(s);
  }
  // Derived: the readers that have not consumed each slot's newest origin
  // (none left when the lagging ones were removed by a deploy).
  for (SlotIndex s : kept_slots) {
    KeptOrigins& kept = kept_origins_[s];
    const int64_t newest = kept.list.back().first;
    ForEachOriginReader(
        s, [&](const Slot& r) { kept.unconsumed += r.consumed_seq < newest; });
    if (kept.unconsumed == 0) DropOrigins(s, kept.list.size());
  }
  return absl::OkStatus();
}

void Core::AppendOriginsDebug(std::vector<std::string>* lines) const {
  std::vector<std::string> out;
  for (const auto& [s, kept] : kept_origins_) {
    std::string line = absl::StrCat("origins ", info_[slots_[s].table].name,
                                    "/", partitions_.Name(slots_[s].partition),
                                    " unconsumed=", kept.unconsumed, ":");
    for (size_t i = kept.head; i < kept.list.size(); ++i) {
      absl::StrAppend(&line, " ", kept.list[i].first, "=", kept.list[i].second);
    }
    out.push_back(std::move(line));
  }
  for (const auto& [s, seq] : dropped_origins_) {
    out.push_back(absl::StrCat("origins dropped ", info_[slots_[s].table].name,
                               "/", partitions_.Name(slots_[s].partition), " @",
                               seq));
  }
  for (const auto& [origin, event] : origin_events_) {
    out.push_back(absl::StrCat("origin ", origin, "=", event));
  }
  std::sort(out.begin(), out.end());
  lines->insert(lines->end(), out.begin(), out.end());
}

}  // namespace landfall::internal
