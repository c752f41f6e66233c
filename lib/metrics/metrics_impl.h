// Metrics::Impl, for its two halves: metrics.cc counts history entries as
// they come, metrics_collect.cc turns the counts into metric families.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "landfall/metrics.h"
#include "lib/metrics/histogram.h"

namespace landfall {

// The functions declared inline are defined in metrics.cc, inline as they
// were in the class: hidden, so not interposable, and inlined into OnEntry.
class Metrics::Impl {
 public:
  inline Impl(const Pipeline& pipeline, MetricsOptions options);

  inline void OnEntry(const EntryView& e) ABSL_NO_THREAD_SAFETY_ANALYSIS;

  // Held from BeginEntries to EndEntries (Observer's bracket) by the
  // thread in the bracket; OnEntry from any other thread waits for it.
  inline void BeginEntries() ABSL_NO_THREAD_SAFETY_ANALYSIS;
  inline void EndEntries() ABSL_NO_THREAD_SAFETY_ANALYSIS;

  inline void Count(const EntryView& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  inline void SetScheduler(Scheduler* scheduler);
  inline void SetQueueStats(const std::string& queue, const QueueStats& stats);
  inline void ObserveStoreCommit(absl::Duration took);
  inline void ObserveCatchUp(int64_t entries, absl::Time oldest_at);
  inline std::vector<MetricObservation> TakeObservations();

  std::vector<MetricFamily> Collect();

 private:
  // Pool and class, as latencies and attempt counters are labelled.
  using Group = std::pair<std::string, std::string>;

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

  // Nanoseconds as seconds, none below 0.
  static double Seconds(int64_t nanos) {
    return std::max(0.0, static_cast<double>(nanos) / 1e9);
  }
  static double Seconds(absl::Duration d) {
    return std::max(0.0, absl::ToDoubleSeconds(d));
  }

  static MetricLabels GroupLabels(const Group& g) {
    return {{"pool", g.first}, {"class", g.second}};
  }

  // Out of line: its locals would make Count's frame large for all kinds.
  ABSL_ATTRIBUTE_NOINLINE inline void SetPipelineOf(const EntryView& e)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Tables in `pipeline`'s order; a table no longer in it keeps its
  // freshness, after them.
  inline void SetPipeline(const Pipeline& pipeline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) ABSL_NO_THREAD_SAFETY_ANALYSIS;

  inline TableMetrics& AddTable(absl::string_view name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The table of `e`: by its id, once the names at that id were found to
  // agree (the scheduler's ids change only with a kPipelineUpdated entry,
  // which makes our tables anew), else by name.
  ABSL_ATTRIBUTE_ALWAYS_INLINE inline TableMetrics& TableOf(const EntryView& e)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ABSL_ATTRIBUTE_NOINLINE inline TableMetrics& TableOfSettling(
      const EntryView& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The counters of `table`'s pool and class.
  ABSL_ATTRIBUTE_ALWAYS_INLINE inline Counters& GroupOf(
      const TableMetrics& table) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ABSL_ATTRIBUTE_NOINLINE inline Counters& UngroupedCounters()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  inline Counters& CountersOf(const Group& group)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  inline std::string TableKey(const EntryView& e) const;

  inline void NoteUpdate(const EntryView& e, int64_t at_ns)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static inline void NoteUpdate(TableMetrics& table, int64_t at_ns);

  ABSL_ATTRIBUTE_ALWAYS_INLINE inline void Observe(
      const TableMetrics& table, const char* name,
      internal::Histogram Counters::*histogram, int64_t nanos)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  ABSL_ATTRIBUTE_NOINLINE inline void KeepObservation(const char* name,
                                                      const Counters& counters,
                                                      double seconds)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  inline void Keep(const char* name, MetricLabels labels, double value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The attempt `e` ends: its duration since its claim (the entry carries
  // the claim's time, or names the claim's seq; an older landfall's claim
  // is found by task). False when no claim seen is running.
  inline bool EndAttempt(const EntryView& e, const TableMetrics& table)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  static inline std::string TaskKey(const EntryView& e);

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

}  // namespace landfall
