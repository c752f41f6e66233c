// Metrics: counts history entries as they come, and reads the scheduler's
// gauges when collected.
#include "landfall/metrics.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <optional>
#include <thread>
#include <tuple>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "lib/metrics/histogram.h"

namespace landfall {
namespace {

// Pool and class, as latencies and attempt counters are labelled.
using Group = std::pair<std::string, std::string>;

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

// Nanoseconds as seconds, none below 0.
double Seconds(int64_t nanos) {
  return std::max(0.0, static_cast<double>(nanos) / 1e9);
}
double Seconds(absl::Duration d) {
  return std::max(0.0, absl::ToDoubleSeconds(d));
}

MetricLabels GroupLabels(const Group& g) {
  return {{"pool", g.first}, {"class", g.second}};
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

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

MetricSample Point(MetricLabels labels, double value) {
  MetricSample s;
  s.labels = std::move(labels);
  s.value = value;
  return s;
}

}  // namespace

class Metrics::Impl {
 public:
  Impl(const Pipeline& pipeline, MetricsOptions options)
      : options_(WithAscendingBuckets(std::move(options))),
        store_commit_(options_.buckets) {
    if (options_.clock == nullptr) options_.clock = SystemClock::Default();
    SetPipeline(pipeline);
  }

  void OnEntry(const EntryView& e) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    // Relaxed suffices: only this thread ever stores its own id there.
    if (bracket_owner_.load(std::memory_order_relaxed) ==
        std::this_thread::get_id()) {
      Count(e);
      return;
    }
    absl::MutexLock lock(&mu_);
    Count(e);
  }

  // Held from BeginEntries to EndEntries (Observer's bracket) by the
  // thread in the bracket; OnEntry from any other thread waits for it.
  void BeginEntries() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    mu_.Lock();
    bracket_owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  }
  void EndEntries() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    bracket_owner_.store(std::thread::id(), std::memory_order_relaxed);
    mu_.Unlock();
  }

  void Count(const EntryView& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
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
        arrival_landed_ =
            e.until_ns == EntryView::kNoTime ? e.at_ns : e.until_ns;
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

  void SetScheduler(Scheduler* scheduler) {
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
      tables_[id].same_id =
          id < running.table_count() &&
                  running.tables()[id].name == table_names_[id]
              ? TableMetrics::SameId::kYes
              : TableMetrics::SameId::kNo;
    }
  }

  void SetQueueStats(const std::string& queue, const QueueStats& stats) {
    absl::MutexLock lock(&mu_);
    queues_[queue] = stats;
  }

  void ObserveStoreCommit(absl::Duration took) {
    absl::MutexLock lock(&mu_);
    store_commit_.Observe(absl::ToInt64Nanoseconds(took));
    Keep("landfall_store_commit_seconds", {}, Seconds(took));
  }

  void ObserveCatchUp(int64_t entries, absl::Time oldest_at) {
    const absl::Time now = options_.clock->Now();
    absl::MutexLock lock(&mu_);
    catchup_entries_ = static_cast<double>(entries);
    catchup_lag_ = entries > 0 ? Seconds(now - oldest_at) : 0;
    caught_up_total_ += static_cast<double>(entries);
    catchup_seen_ = true;
  }

  std::vector<MetricObservation> TakeObservations() {
    absl::MutexLock lock(&mu_);
    std::vector<MetricObservation> out;
    out.swap(observations_);
    return out;
  }

  std::vector<MetricFamily> Collect();

 private:
  struct Counters {
    explicit Counters(const std::vector<double>& bounds)
        : arrival_to_ready(bounds), queue_wait(bounds), duration(bounds) {}
    double started = 0;
    double succeeded = 0;
    std::map<std::string, double> failed;  // By FailureReason.
    double dead_lettered = 0;
    const Group* group = nullptr;  // Its key in groups_.
    internal::Histogram arrival_to_ready;
    internal::Histogram queue_wait;
    internal::Histogram duration;
  };

  // What is kept per table, by the table's id in our pipeline.
  struct TableMetrics {
    Counters* counters = nullptr;  // Its pool and class; null for a source.
    int64_t last_update_ns = EntryView::kNoTime;
    // Whether the scheduler's table of the same id has the same name: not
    // known until an entry names it.
    enum class SameId : uint8_t {
      kUnknown,
      kYes,
      kNo
    } same_id = SameId::kUnknown;
  };

  // Out of line: its locals would make Count's frame large for all kinds.
  ABSL_ATTRIBUTE_NOINLINE void SetPipelineOf(const EntryView& e)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    PipelineSpec spec;
    if (!spec.ParseFromString(e.ToHistoryEntry().spec)) return;
    absl::StatusOr<std::shared_ptr<const Pipeline>> next =
        Pipeline::FromSpec(spec);
    if (next.ok()) SetPipeline(**next);
  }

  // Tables in `pipeline`'s order; a table no longer in it keeps its
  // freshness, after them.
  void SetPipeline(const Pipeline& pipeline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) ABSL_NO_THREAD_SAFETY_ANALYSIS {
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

  TableMetrics& AddTable(absl::string_view name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    table_index_.emplace(name, tables_.size());
    table_names_.emplace_back(name);
    return tables_.emplace_back();
  }

  // The table of `e`: by its id, once the names at that id were found to
  // agree (the scheduler's ids change only with a kPipelineUpdated entry,
  // which makes our tables anew), else by name.
  ABSL_ATTRIBUTE_ALWAYS_INLINE TableMetrics& TableOf(const EntryView& e)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (e.table_id >= 0 && e.table_id < pipeline_tables_ &&
        tables_[e.table_id].same_id == TableMetrics::SameId::kYes) {
      return tables_[e.table_id];  // The common case, inlined.
    }
    return TableOfSettling(e);
  }
  ABSL_ATTRIBUTE_NOINLINE TableMetrics& TableOfSettling(const EntryView& e)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
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

  // The counters of `table`'s pool and class.
  ABSL_ATTRIBUTE_ALWAYS_INLINE Counters& GroupOf(const TableMetrics& table)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return table.counters != nullptr ? *table.counters : UngroupedCounters();
  }
  ABSL_ATTRIBUTE_NOINLINE Counters& UngroupedCounters()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return CountersOf(Group());
  }

  Counters& CountersOf(const Group& group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto [it, added] = groups_.try_emplace(group, options_.buckets);
    if (added) it->second.group = &it->first;
    return it->second;
  }

  std::string TableKey(const EntryView& e) const {
    return options_.table_labels ? std::string(e.table()) : std::string();
  }

  void NoteUpdate(const EntryView& e, int64_t at_ns)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    NoteUpdate(TableOf(e), at_ns);
  }
  static void NoteUpdate(TableMetrics& table, int64_t at_ns) {
    table.last_update_ns = std::max(table.last_update_ns, at_ns);
  }

  ABSL_ATTRIBUTE_ALWAYS_INLINE void Observe(
      const TableMetrics& table, const char* name,
      internal::Histogram Counters::*histogram, int64_t nanos)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Counters& counters = GroupOf(table);
    (counters.*histogram).Observe(nanos);
    if (options_.observation_buffer != 0) {
      KeepObservation(name, counters, Seconds(nanos));
    }
  }
  ABSL_ATTRIBUTE_NOINLINE void KeepObservation(const char* name,
                                               const Counters& counters,
                                               double seconds)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Keep(name, GroupLabels(*counters.group), seconds);
  }

  void Keep(const char* name, MetricLabels labels, double value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
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

  // The attempt `e` ends: its duration since its claim (the entry carries
  // the claim's time, or names the claim's seq; an older landfall's claim
  // is found by task). False when no claim seen is running.
  bool EndAttempt(const EntryView& e, const TableMetrics& table)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
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

  static std::string TaskKey(const EntryView& e) {
    return absl::StrCat(e.table(), std::string(1, '\0'), e.partition);
  }

  void AddGauges(std::vector<MetricFamily>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddCounters(std::vector<MetricFamily>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddHistograms(std::vector<MetricFamily>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddFreshnessAndQueues(std::vector<MetricFamily>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  // The thread between BeginEntries and EndEntries, holding mu_; none:
  // std::thread::id().
  std::atomic<std::thread::id> bracket_owner_{};
  MetricsOptions options_;
  Scheduler* scheduler_ ABSL_GUARDED_BY(mu_) = nullptr;
  // By pool and class; a std::map, for its nodes stay where they are.
  std::map<Group, Counters> groups_ ABSL_GUARDED_BY(mu_);
  std::vector<TableMetrics> tables_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> table_names_ ABSL_GUARDED_BY(mu_);  // By index.
  absl::flat_hash_map<std::string, size_t> table_index_ ABSL_GUARDED_BY(mu_);
  // The tables of our pipeline come first in tables_: this many.
  int32_t pipeline_tables_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t pipeline_generation_ ABSL_GUARDED_BY(mu_) = 0;  // SetPipeline calls.
  std::map<std::string, double> arrivals_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, double> duplicates_ ABSL_GUARDED_BY(mu_);
  // Attempts running, by the seq of their claim: when they were claimed.
  absl::flat_hash_map<int64_t, int64_t> claimed_at_ ABSL_GUARDED_BY(mu_);
  // Claims an older landfall wrote (no ready time), by task: when.
  absl::flat_hash_map<std::string, int64_t> older_claims_ ABSL_GUARDED_BY(mu_);
  std::optional<int64_t> arrival_landed_ ABSL_GUARDED_BY(mu_);  // Unix ns.
  internal::Histogram store_commit_ ABSL_GUARDED_BY(mu_);
  // The last catch-up InstrumentStore saw (none yet: no series).
  bool catchup_seen_ ABSL_GUARDED_BY(mu_) = false;
  double catchup_entries_ ABSL_GUARDED_BY(mu_) = 0;
  double catchup_lag_ ABSL_GUARDED_BY(mu_) = 0;
  double caught_up_total_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, QueueStats> queues_ ABSL_GUARDED_BY(mu_);
  std::vector<MetricObservation> observations_ ABSL_GUARDED_BY(mu_);
  double observations_dropped_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_seq_ ABSL_GUARDED_BY(mu_) = 0;
};

std::vector<MetricFamily> Metrics::Impl::Collect() {
  // The scheduler's lock is taken before ours, never inside: OnEntry runs
  // under the scheduler's lock and takes ours.
  std::optional<TaskGauges> gauges;
  Scheduler* scheduler;
  {
    absl::MutexLock lock(&mu_);
    scheduler = scheduler_;
  }
  if (scheduler != nullptr) gauges = scheduler->Gauges();
  absl::MutexLock lock(&mu_);
  std::vector<MetricFamily> out;
  if (gauges) {
    MetricFamily tasks = Family("landfall_tasks",
                                "Tasks by the state the history last recorded.",
                                MetricType::kGauge);
    MetricFamily slots =
        Family("landfall_pool_slots", "Pool size.", MetricType::kGauge);
    MetricFamily used =
        Family("landfall_pool_slots_used",
               "Pool slots held by running attempts.", MetricType::kGauge);
    MetricFamily free = Family("landfall_pool_slots_free",
                               "Pool slots free (size less used, not below 0).",
                               MetricType::kGauge);
    MetricFamily dead = Family("landfall_dead_letter_tasks",
                               "Tasks in the dead letter.", MetricType::kGauge);
    int64_t dead_total = 0;
    for (const TaskGauges::Group& g : gauges->groups) {
      for (TaskState state : AllTaskStates()) {
        if (state == TaskState::kExpired) continue;  // Never recorded.
        const int64_t n = g.tasks[static_cast<size_t>(state)];
        tasks.samples.push_back(
            Point({{"pool", g.pool},
                   {"class", g.priority_class},
                   {"state", absl::AsciiStrToLower(TaskStateName(state))}},
                  static_cast<double>(n)));
        if (state == TaskState::kDead) dead_total += n;
      }
    }
    for (const TaskGauges::PoolSlots& p : gauges->pools) {
      const MetricLabels labels = {{"pool", p.pool}};
      slots.samples.push_back(Point(labels, static_cast<double>(p.slots)));
      used.samples.push_back(Point(labels, static_cast<double>(p.used)));
      free.samples.push_back(
          Point(labels, static_cast<double>(std::max(0, p.slots - p.used))));
    }
    dead.samples.push_back(Point({}, static_cast<double>(dead_total)));
    for (MetricFamily* f : {&tasks, &slots, &used, &free, &dead}) {
      out.push_back(std::move(*f));
    }
  }
  AddCounters(&out);
  AddHistograms(&out);
  AddFreshnessAndQueues(&out);
  out.push_back(Family("landfall_history_last_sequence",
                       "Sequence number of the last history entry seen.",
                       MetricType::kGauge));
  out.back().samples.push_back(Point({}, static_cast<double>(last_seq_)));
  out.push_back(
      Family("landfall_metrics_observations_dropped_total",
             "Histogram observations a push exporter's buffer dropped.",
             MetricType::kCounter));
  out.back().samples.push_back(Point({}, observations_dropped_));
  for (MetricFamily& f : out) {
    std::sort(f.samples.begin(), f.samples.end(),
              [](const MetricSample& a, const MetricSample& b) {
                return a.labels < b.labels;
              });
  }
  return out;
}

void Metrics::Impl::AddCounters(std::vector<MetricFamily>* out) {
  MetricFamily started = Family("landfall_attempts_started_total",
                                "Attempts claimed.", MetricType::kCounter);
  MetricFamily succeeded =
      Family("landfall_attempts_succeeded_total", "Attempts that succeeded.",
             MetricType::kCounter);
  MetricFamily failed = Family(
      "landfall_attempts_failed_total",
      "Attempts that failed, by reason: retryable, fatal, expired (lease).",
      MetricType::kCounter);
  MetricFamily dead =
      Family("landfall_dead_lettered_total", "Tasks sent to the dead letter.",
             MetricType::kCounter);
  for (const auto& [group, c] : groups_) {
    const MetricLabels labels = GroupLabels(group);
    started.samples.push_back(Point(labels, c.started));
    succeeded.samples.push_back(Point(labels, c.succeeded));
    dead.samples.push_back(Point(labels, c.dead_lettered));
    for (const auto& [reason, n] : c.failed) {
      MetricLabels with_reason = labels;
      with_reason.emplace_back("reason", reason);
      failed.samples.push_back(Point(with_reason, n));
    }
  }
  MetricFamily arrivals = Family("landfall_arrivals_total",
                                 "Arrivals recorded.", MetricType::kCounter);
  MetricFamily duplicates = Family("landfall_duplicates_total",
                                   "Duplicate arrivals (event id seen before).",
                                   MetricType::kCounter);
  for (auto [family, counts] : {std::pair{&arrivals, &arrivals_},
                                std::pair{&duplicates, &duplicates_}}) {
    for (const auto& [table, n] : *counts) {
      family->samples.push_back(Point(options_.table_labels
                                          ? MetricLabels{{"table", table}}
                                          : MetricLabels{},
                                      n));
    }
  }
  for (MetricFamily* f :
       {&started, &succeeded, &failed, &dead, &arrivals, &duplicates}) {
    out->push_back(std::move(*f));
  }
}

void Metrics::Impl::AddHistograms(std::vector<MetricFamily>* out) {
  struct Spec {
    const char* name;
    const char* help;
    internal::Histogram Counters::*histogram;
  };
  for (const Spec& spec : {
           Spec{"landfall_arrival_to_ready_seconds",
                "From the time an arrival landed to the task it made ready.",
                &Counters::arrival_to_ready},
           Spec{"landfall_queue_wait_seconds",
                "From ready to claimed: the wait for a pool slot or the gate.",
                &Counters::queue_wait},
           Spec{"landfall_attempt_duration_seconds",
                "From claimed to the attempt's end (success or failure).",
                &Counters::duration},
       }) {
    MetricFamily f = Family(spec.name, spec.help, MetricType::kHistogram);
    f.bounds = options_.buckets;
    for (const auto& [group, c] : groups_) {
      f.samples.push_back((c.*spec.histogram).Sample(GroupLabels(group)));
    }
    out->push_back(std::move(f));
  }
  out->push_back(Family("landfall_store_commit_seconds",
                        "How long a store commit took.",
                        MetricType::kHistogram));
  out->back().bounds = options_.buckets;
  out->back().samples.push_back(store_commit_.Sample({}));
  if (!catchup_seen_) return;
  for (auto [name, help, type, value] : {
           std::tuple{"landfall_store_catchup_entries",
                      "Entries of other writers the last transaction caught "
                      "up on.",
                      MetricType::kGauge, catchup_entries_},
           std::tuple{"landfall_store_catchup_lag_seconds",
                      "Age of the oldest entry the last catch-up applied (0: "
                      "none).",
                      MetricType::kGauge, catchup_lag_},
           std::tuple{"landfall_store_caught_up_entries_total",
                      "Entries of other writers caught up on.",
                      MetricType::kCounter, caught_up_total_},
       }) {
    out->push_back(Family(name, help, type));
    out->back().samples.push_back(Point({}, value));
  }
}

void Metrics::Impl::AddFreshnessAndQueues(std::vector<MetricFamily>* out) {
  const int64_t now = absl::ToUnixNanos(options_.clock->Now());
  MetricFamily lag =
      Family(options_.table_labels ? "landfall_freshness_lag_seconds"
                                   : "landfall_freshness_lag_max_seconds",
             options_.table_labels
                 ? "Time since the table's last arrival or build."
                 : "Largest time since a table's last arrival or build.",
             MetricType::kGauge);
  double max_lag = 0;
  bool any = false;
  for (size_t i = 0; i < tables_.size(); ++i) {
    if (tables_[i].last_update_ns == EntryView::kNoTime) continue;
    any = true;
    const double seconds = Seconds(now - tables_[i].last_update_ns);
    if (options_.table_labels)
      lag.samples.push_back(Point({{"table", table_names_[i]}}, seconds));
    max_lag = std::max(max_lag, seconds);
  }
  if (!options_.table_labels && any) {
    lag.samples.push_back(Point({}, max_lag));
  }
  out->push_back(std::move(lag));

  MetricFamily messages =
      Family("landfall_queue_messages",
             "Messages in a source's queue, by state: visible, "
             "in_flight, delayed.",
             MetricType::kGauge);
  MetricFamily age = Family("landfall_queue_oldest_message_age_seconds",
                            "Age of the oldest message in a source's queue.",
                            MetricType::kGauge);
  MetricFamily errors =
      Family("landfall_queue_stats_errors_total",
             "Polls of a queue's figures that failed.", MetricType::kCounter);
  for (const auto& [queue, q] : queues_) {
    for (auto [state, n] :
         {std::pair{"visible", q.visible}, std::pair{"in_flight", q.in_flight},
          std::pair{"delayed", q.delayed}}) {
      if (!n) continue;
      messages.samples.push_back(
          Point({{"queue", queue}, {"state", state}}, static_cast<double>(*n)));
    }
    if (q.oldest_age_seconds) {
      age.samples.push_back(Point({{"queue", queue}}, *q.oldest_age_seconds));
    }
    errors.samples.push_back(
        Point({{"queue", queue}}, static_cast<double>(q.poll_errors)));
  }
  out->push_back(std::move(messages));
  out->push_back(std::move(age));
  out->push_back(std::move(errors));
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
