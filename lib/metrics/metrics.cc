// Metrics: counts history entries as they come; metrics_collect.cc reads
// the counts, and the scheduler's gauges, when collected.
#include "landfall/metrics.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/metrics/metrics_impl.h"

namespace landfall {
namespace {

// How a failed attempt failed, as landfall_attempts_failed_total's reason.
const char* FailureReason(Outcome outcome) {
  switch (outcome) {
    case Outcome::FATAL:
      return "fatal";
    case Outcome::LEASE_EXPIRED:
      return "expired";
    default:
      return "retryable";
  }
}

// `options` with its buckets ascending, without repeats or NaN, as
// histograms and the exposition formats require.
MetricsOptions WithAscendingBuckets(MetricsOptions options) {
  std::vector<double>& b = options.buckets;
  b.erase(std::remove_if(b.begin(), b.end(),
                         [](double bound) { return std::isnan(bound); }),
          b.end());
  std::sort(b.begin(), b.end());
  b.erase(std::unique(b.begin(), b.end()), b.end());
  return options;
}

}  // namespace

Metrics::Impl::Impl(const Pipeline& pipeline, MetricsOptions options)
    : options_(WithAscendingBuckets(std::move(options))),
      store_commit_(options_.buckets) {
  if (options_.clock == nullptr) options_.clock = SystemClock::Default();
  SetPipeline(pipeline);
}

void Metrics::Impl::OnEntry(const EntryView& e) {
  // Relaxed suffices: only this thread ever stores its own id there.
  if (bracket_owner_.load(std::memory_order_relaxed) ==
      std::this_thread::get_id()) {
    Count(e);
    return;
  }
  absl::MutexLock lock(&mu_);
  Count(e);
}

void Metrics::Impl::BeginEntries() {
  mu_.Lock();
  bracket_owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
}
void Metrics::Impl::EndEntries() {
  bracket_owner_.store(std::thread::id(), std::memory_order_relaxed);
  mu_.Unlock();
}

void Metrics::Impl::Count(const EntryView& e) {
  // Entries this process did not see (a scheduler that reloaded its state
  // from the store tells none of what it replayed) may have ended the
  // attempts claimed before them: forget those rather than keep them.
  if (last_seq_ != 0 && e.seq > last_seq_ + 1) claimed_at_.clear();
  last_seq_ = e.seq;
  // Arrival to ready: a kReady that an arrival's Trigger emitted follows
  // it (or its fellow kReady entries) directly.
  if (e.kind != EntryKind::kReady) arrival_landed_.reset();
  switch (e.kind) {
    case EntryKind::kArrival:
      arrivals_[TableKey(e)] += 1;
      arrival_landed_ = e.until_ns == EntryView::kNoTime ? e.at_ns : e.until_ns;
      NoteUpdate(e, *arrival_landed_);
      break;
    case EntryKind::kDuplicate:
      duplicates_[TableKey(e)] += 1;
      break;
    case EntryKind::kReady:
      if (arrival_landed_) {
        Observe(TableOf(e), "landfall_arrival_to_ready_seconds",
                &Counters::arrival_to_ready, e.at_ns - *arrival_landed_);
      }
      break;
    case EntryKind::kClaimed: {
      TableMetrics& table = TableOf(e);
      GroupOf(table).started += 1;
      // The entry carries the ready time: no map of ready tasks.
      if (e.ready_ns != EntryView::kNoTime) {
        Observe(table, "landfall_queue_wait_seconds", &Counters::queue_wait,
                e.at_ns - e.ready_ns);
        if (!e.claim_time_follows) claimed_at_[e.seq] = e.at_ns;
      } else {
        // Written by a landfall before claims carried their ready time:
        // its end names no claim either, so it is found by its task.
        older_claims_[TaskKey(e)] = e.at_ns;
      }
      break;
    }
    case EntryKind::kSucceeded: {
      TableMetrics& table = TableOf(e);
      GroupOf(table).succeeded += 1;
      EndAttempt(e, table);
      NoteUpdate(table, e.at_ns);
      break;
    }
    case EntryKind::kMarkedSucceeded:
      NoteUpdate(e, e.at_ns);
      break;
    case EntryKind::kRetryScheduled: {
      TableMetrics& table = TableOf(e);
      GroupOf(table).failed[FailureReason(e.outcome)] += 1;
      EndAttempt(e, table);
      break;
    }
    case EntryKind::kDead: {
      TableMetrics& table = TableOf(e);
      Counters& c = GroupOf(table);
      c.dead_lettered += 1;
      // A dead entry ends an attempt, unless a deploy or redrive rule
      // sent a waiting task there with none running.
      if (EndAttempt(e, table)) c.failed[FailureReason(e.outcome)] += 1;
      break;
    }
    case EntryKind::kClassChanged: {
      TableMetrics& table = TableOf(e);
      const Group* before = GroupOf(table).group;
      table.counters = &CountersOf({before == nullptr ? "" : before->first,
                                    std::string(e.priority_class)});
      break;
    }
    case EntryKind::kPipelineUpdated:
      SetPipelineOf(e);
      break;
    default:
      break;
  }
}

void Metrics::Impl::SetScheduler(Scheduler* scheduler) {
  int64_t generation;
  {
    absl::MutexLock lock(&mu_);
    scheduler_ = scheduler;
    generation = pipeline_generation_;
  }
  if (scheduler == nullptr) return;
  // Settles at once whether each table id names the same table here and
  // in the scheduler, sparing a lookup of its name at its first entry.
  // The scheduler's lock is taken before ours, never inside (see Collect);
  // a pipeline set meanwhile makes the comparison moot.
  const Pipeline& running = scheduler->pipeline();
  absl::MutexLock lock(&mu_);
  if (generation != pipeline_generation_) return;
  for (int32_t id = 0; id < pipeline_tables_; ++id) {
    if (tables_[id].same_id != TableMetrics::SameId::kUnknown) continue;
    tables_[id].same_id = id < running.table_count() &&
                                  running.tables()[id].name == table_names_[id]
                              ? TableMetrics::SameId::kYes
                              : TableMetrics::SameId::kNo;
  }
}

void Metrics::Impl::SetQueueStats(const std::string& queue,
                                  const QueueStats& stats) {
  absl::MutexLock lock(&mu_);
  queues_[queue] = stats;
}

void Metrics::Impl::ObserveStoreCommit(absl::Duration took) {
  absl::MutexLock lock(&mu_);
  store_commit_.Observe(absl::ToInt64Nanoseconds(took));
  Keep("landfall_store_commit_seconds", {}, Seconds(took));
}

void Metrics::Impl::ObserveCatchUp(int64_t entries, absl::Time oldest_at) {
  const absl::Time now = options_.clock->Now();
  absl::MutexLock lock(&mu_);
  catchup_entries_ = static_cast<double>(entries);
  catchup_lag_ = entries > 0 ? Seconds(now - oldest_at) : 0;
  caught_up_total_ += static_cast<double>(entries);
  catchup_seen_ = true;
}

std::vector<MetricObservation> Metrics::Impl::TakeObservations() {
  absl::MutexLock lock(&mu_);
  std::vector<MetricObservation> out;
  out.swap(observations_);
  return out;
}

void Metrics::Impl::SetPipelineOf(const EntryView& e) {
  PipelineSpec spec;
  if (!spec.ParseFromString(e.ToHistoryEntry().spec)) return;
  absl::StatusOr<std::shared_ptr<const Pipeline>> next =
      Pipeline::FromSpec(spec);
  if (next.ok()) SetPipeline(**next);
}

void Metrics::Impl::SetPipeline(const Pipeline& pipeline) {
  std::vector<TableMetrics> before;
  std::vector<std::string> names_before;
  before.swap(tables_);
  names_before.swap(table_names_);
  table_index_.clear();
  for (const Table& t : pipeline.tables()) {
    TableMetrics& table = AddTable(t.name);
    if (t.source) continue;
    table.counters =
        &CountersOf({pipeline.pools()[t.pool].name,
                     pipeline.priority_classes()[t.priority_class].name});
  }
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i].last_update_ns == EntryView::kNoTime) continue;
    auto it = table_index_.find(names_before[i]);
    TableMetrics& table = it == table_index_.end() ? AddTable(names_before[i])
                                                   : tables_[it->second];
    table.last_update_ns = before[i].last_update_ns;
  }
  pipeline_tables_ = pipeline.table_count();
  ++pipeline_generation_;
}

Metrics::Impl::TableMetrics& Metrics::Impl::AddTable(absl::string_view name) {
  table_index_.emplace(name, tables_.size());
  table_names_.emplace_back(name);
  return tables_.emplace_back();
}

Metrics::Impl::TableMetrics& Metrics::Impl::TableOf(const EntryView& e) {
  if (e.table_id >= 0 && e.table_id < pipeline_tables_ &&
      tables_[e.table_id].same_id == TableMetrics::SameId::kYes) {
    return tables_[e.table_id];  // The common case, inlined.
  }
  return TableOfSettling(e);
}
Metrics::Impl::TableMetrics& Metrics::Impl::TableOfSettling(
    const EntryView& e) {
  if (e.table_id >= 0 && e.table_id < pipeline_tables_) {
    TableMetrics& table = tables_[e.table_id];
    if (table.same_id == TableMetrics::SameId::kUnknown) {
      table.same_id = table_names_[e.table_id] == e.table()
                          ? TableMetrics::SameId::kYes
                          : TableMetrics::SameId::kNo;
    }
    if (table.same_id == TableMetrics::SameId::kYes) return table;
  }
  const absl::string_view name = e.table();
  auto it = table_index_.find(name);
  return it != table_index_.end() ? tables_[it->second] : AddTable(name);
}

Metrics::Impl::Counters& Metrics::Impl::GroupOf(const TableMetrics& table) {
  return table.counters != nullptr ? *table.counters : UngroupedCounters();
}
Metrics::Impl::Counters& Metrics::Impl::UngroupedCounters() {
  return CountersOf(Group());
}

Metrics::Impl::Counters& Metrics::Impl::CountersOf(const Group& group) {
  auto [it, added] = groups_.try_emplace(group, options_.buckets);
  if (added) it->second.group = &it->first;
  return it->second;
}

std::string Metrics::Impl::TableKey(const EntryView& e) const {
  return options_.table_labels ? std::string(e.table()) : std::string();
}

void Metrics::Impl::NoteUpdate(const EntryView& e, int64_t at_ns) {
  NoteUpdate(TableOf(e), at_ns);
}
void Metrics::Impl::NoteUpdate(TableMetrics& table, int64_t at_ns) {
  table.last_update_ns = std::max(table.last_update_ns, at_ns);
}

void Metrics::Impl::Observe(const TableMetrics& table, const char* name,
                            internal::Histogram Counters::*histogram,
                            int64_t nanos) {
  Counters& counters = GroupOf(table);
  (counters.*histogram).Observe(nanos);
  if (options_.observation_buffer != 0) {
    KeepObservation(name, counters, Seconds(nanos));
  }
}
void Metrics::Impl::KeepObservation(const char* name, const Counters& counters,
                                    double seconds) {
  Keep(name, GroupLabels(*counters.group), seconds);
}

void Metrics::Impl::Keep(const char* name, MetricLabels labels, double value) {
  if (observations_.size() < options_.observation_buffer) {
    MetricObservation o;
    o.name = name;
    o.labels = std::move(labels);
    o.value = value;
    observations_.push_back(std::move(o));
  } else if (options_.observation_buffer > 0) {
    ++observations_dropped_;
  }
}

bool Metrics::Impl::EndAttempt(const EntryView& e, const TableMetrics& table) {
  std::optional<int64_t> claimed;
  if (e.claim_seq != 0 && e.claimed_ns != EntryView::kNoTime) {
    claimed = e.claimed_ns;
    if (!claimed_at_.empty()) claimed_at_.erase(e.claim_seq);
  } else if (auto it = claimed_at_.find(e.claim_seq);
             e.claim_seq != 0 && it != claimed_at_.end()) {
    claimed = it->second;
    claimed_at_.erase(it);
  } else if (!older_claims_.empty()) {
    auto older = older_claims_.find(TaskKey(e));
    if (older != older_claims_.end()) {
      claimed = older->second;
      older_claims_.erase(older);
    }
  }
  if (!claimed) return false;
  Observe(table, "landfall_attempt_duration_seconds", &Counters::duration,
          e.at_ns - *claimed);
  return true;
}

std::string Metrics::Impl::TaskKey(const EntryView& e) {
  return absl::StrCat(e.table(), std::string(1, '\0'), e.partition);
}

Metrics::Metrics(const Pipeline& pipeline, MetricsOptions options)
    : impl_(std::make_unique<Impl>(pipeline, std::move(options))) {}
Metrics::~Metrics() = default;
void Metrics::OnEntry(const HistoryEntry& entry) {
  impl_->OnEntry(EntryView(entry));
}
void Metrics::OnEntryView(const EntryView& entry) { impl_->OnEntry(entry); }
void Metrics::BeginEntries() { impl_->BeginEntries(); }
void Metrics::EndEntries() { impl_->EndEntries(); }
void Metrics::SetScheduler(Scheduler* scheduler) {
  impl_->SetScheduler(scheduler);
}
void Metrics::SetQueueStats(const std::string& queue, const QueueStats& stats) {
  impl_->SetQueueStats(queue, stats);
}
void Metrics::ObserveStoreCommit(absl::Duration took) {
  impl_->ObserveStoreCommit(took);
}
void Metrics::ObserveCatchUp(int64_t entries, absl::Time oldest_at) {
  impl_->ObserveCatchUp(entries, oldest_at);
}
std::vector<MetricFamily> Metrics::Collect() { return impl_->Collect(); }
std::vector<MetricObservation> Metrics::TakeObservations() {
  return impl_->TakeObservations();
}

}  // namespace landfall
