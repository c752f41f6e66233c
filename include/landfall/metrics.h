// Metrics: what a scheduler does, as counters, gauges and histograms an
// operator can watch. A Metrics is an Observer: it counts history entries
// as they are appended, and at each Collect reads the scheduler's cheap
// gauges (Scheduler::Gauges) and what queue sources report. The core does
// no I/O for it; exporters (MetricsServer for Prometheus, StatsdExporter for
// DogStatsD) run on threads of their own, and a host that exports
// elsewhere reads Collect itself.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "landfall/clock.h"
#include "landfall/export.h"
#include "landfall/observer.h"
#include "landfall/pipeline.h"
#include "landfall/scheduler.h"
#include "landfall/state_store.h"

namespace landfall {

struct MetricsOptions {
  // Label arrivals, duplicates and freshness lag by table. Off by default:
  // a pipeline of thousands of tables would make thousands of series. Off,
  // those are totals, and freshness lag is the largest over the tables.
  bool table_labels = false;
  // Upper bounds, in seconds, of the latency histograms' buckets; +Inf is
  // implied. Metrics sorts them and drops repeats and NaN. Default: 0.01 s
  // to 6 h.
  std::vector<double> buckets = {0.01, 0.05, 0.1, 0.5, 1,    5,    10,   30,
                                 60,   120,  300, 600, 1800, 3600, 7200, 21600};
  // Reads freshness lag's "now". Not owned; must outlive the Metrics.
  // Default: the system clock.
  const Clock* clock = nullptr;
  // Histogram observations kept for TakeObservations (a push exporter's
  // buffer) between two takes; past it they are dropped (and counted). 0
  // keeps none: for a host that only reads Collect. Default 0.
  size_t observation_buffer = 0;
};

enum class MetricType { kCounter, kGauge, kHistogram };

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

struct MetricSample {
  MetricLabels labels;
  double value = 0;  // A counter's or gauge's value.
  // A histogram's: cumulative counts per bound of MetricFamily::bounds,
  // then the sum and count of every observation.
  std::vector<uint64_t> buckets;
  double sum = 0;
  uint64_t count = 0;
};

// One metric and its series, named the Prometheus way: counters end in
// `_total`, durations are in seconds and end in `_seconds`.
struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<double> bounds;  // Histograms: MetricsOptions::buckets.
  std::vector<MetricSample> samples;
};

// One observation of a histogram, for exporters that push them one by one.
struct MetricObservation {
  std::string name;  // The family's.
  MetricLabels labels;
  double value = 0;
};

// A queue's own figures, as a queue source polls them (SQS
// GetQueueAttributes). A figure the queue does not report is absent.
struct QueueStats {
  std::optional<int64_t> visible;    // Waiting to be received.
  std::optional<int64_t> in_flight;  // Received, not yet deleted.
  std::optional<int64_t> delayed;    // Not yet visible.
  // How long its oldest message has waited, as the source can tell (for
  // SQS, the rule is SqsSourceOptions::metrics').
  std::optional<double> oldest_age_seconds;
  absl::Time polled_at = absl::InfinitePast();
  // Polls that failed so far; the figures above are the last ones read.
  int64_t poll_errors = 0;
};

class LANDFALL_EXPORT Metrics : public Observer {
 public:
  // Latencies are labelled with the pool and class of `pipeline`'s tables,
  // as the entries kPipelineUpdated and kClassChanged change them.
  explicit Metrics(const Pipeline& pipeline,
                   MetricsOptions options = MetricsOptions());
  ~Metrics() override;

  // Counts the entry. Returns quickly; takes only the Metrics' own lock.
  // Entries come from one scheduler (or one history) in order.
  void OnEntry(const HistoryEntry& entry) override;
  // As OnEntry, on the scheduler's fast path: no HistoryEntry is built.
  void OnEntryView(const EntryView& entry) override;
  // Hold the Metrics' lock from the first entry of an operation to its
  // last, instead of taking it per entry: Collect, and any other thread's
  // call, waits for the operation.
  void BeginEntries() override;
  void EndEntries() override;

  // Reads Scheduler::Gauges at each Collect from now on (null: stop). Not
  // owned; must outlive its use here, or be unset first.
  void SetScheduler(Scheduler* scheduler);
  // Records what a queue source polled, labelled queue="name".
  void SetQueueStats(const std::string& queue, const QueueStats& stats);
  // A store's commit took this long; counted in
  // landfall_store_commit_seconds.
  void ObserveStoreCommit(absl::Duration took);
  // A committed transaction caught up on `entries` that other writers had
  // appended, the oldest of them recorded at `oldest_at` (ignored when
  // `entries` is 0): landfall_store_catchup_entries is `entries`,
  // landfall_store_catchup_lag_seconds the clock's now less `oldest_at`
  // (0 with none), and landfall_store_caught_up_entries_total adds them.
  void ObserveCatchUp(int64_t entries, absl::Time oldest_at);

  // Every family, in a fixed order, with its samples sorted by labels.
  // Thread-safe.
  std::vector<MetricFamily> Collect();
  // The histogram observations since the last call (up to
  // MetricsOptions::observation_buffer). Thread-safe.
  std::vector<MetricObservation> TakeObservations();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// A StateStore that passes every call to `store` and tells `metrics` what
// the scheduler's transactions on it cost, measured here, outside the
// core (which neither reads the system clock nor does I/O):
// - the time of each write transaction's Commit call, the durable write
//   (ObserveStoreCommit);
// - at each Commit, the entries the transaction read that other writers
//   had appended since the handle's last commit (the catch-up of
//   StateStore's protocol) and the age of the oldest of them
//   (ObserveCatchUp). A transaction rolled back counts nothing, and the
//   handle's first transaction (start-up's replay) only learns where the
//   store's head is.
// Open a scheduler on the result (Scheduler::Open). `metrics` is not owned
// and must outlive the store. Used one transaction at a time, as any
// StateStore; Watch is passed through.
LANDFALL_EXPORT std::shared_ptr<StateStore> InstrumentStore(
    std::shared_ptr<StateStore> store, Metrics* metrics);

// `families` in the Prometheus text exposition format (version 0.0.4).
LANDFALL_EXPORT std::string PrometheusText(
    const std::vector<MetricFamily>& families);

// Serves Metrics::Collect at http://ADDRESS/metrics in the Prometheus text
// format, on a thread of its own (prometheus-cpp's exposer). Stops when
// destroyed.
class LANDFALL_EXPORT MetricsServer {
 public:
  // Listens on `address` ("HOST:PORT"; port 0 picks a free one).
  // InvalidArgument for an address without a port; Unavailable when it
  // cannot be bound. `metrics` is not owned; it must outlive the server.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      Metrics* metrics, const std::string& address);
  virtual ~MetricsServer();
  // The port it listens on.
  virtual int port() const = 0;
};

struct StatsdOptions {
  // Where the DogStatsD agent listens: "HOST:PORT" (UDP). Required.
  std::string address;
  // Tags added to every line ("env:prod"), as `key:value` strings.
  std::vector<std::string> tags;
  // Sends this often. Default 10 s.
  absl::Duration interval = absl::Seconds(10);
  // Lines are batched into datagrams of at most this many bytes. Default
  // 1432 (fits an Ethernet MTU).
  size_t max_datagram = 1432;
};

// Sends Metrics to a DogStatsD agent over UDP, on a thread of its own:
// every interval, counters as their increase since the last send (|c),
// gauges (|g) and histogram observations (|h), named with dots
// (landfall_queue_wait_seconds is landfall.queue_wait_seconds; a counter
// loses its _total) and tagged with the labels (#pool:redshift,class:etl).
// Sending never blocks: a datagram the socket cannot take is dropped.
class LANDFALL_EXPORT StatsdExporter {
 public:
  // InvalidArgument for an address that is not HOST:PORT or tags that are
  // not key:value. `metrics` must have an observation_buffer for
  // histograms to be sent; not owned, it must outlive the exporter.
  static absl::StatusOr<std::unique_ptr<StatsdExporter>> Start(
      Metrics* metrics, StatsdOptions options);
  virtual ~StatsdExporter();
  // Sends what is due now (also done on the interval and when stopped).
  virtual void Flush() = 0;
};

// The lines of one send, as StatsdExporter formats them: `tags` are added
// to each line's labels. `previous` holds the counters' values at the last
// send and is updated.
LANDFALL_EXPORT std::vector<std::string> StatsdLines(
    const std::vector<MetricFamily>& families,
    const std::vector<MetricObservation>& observations,
    const std::vector<std::string>& tags,
    std::vector<std::pair<std::string, double>>* previous);

}  // namespace landfall
