// Metrics fed by a scheduler's history on a manual clock.
#include "landfall/metrics.h"

#include <atomic>
#include <cmath>
#include <memory>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/metrics/metrics_test_base.h"

namespace landfall::testing {
namespace {

TEST_F(MetricsTestBase, CountsAttemptsByPoolClassAndHowTheyEnded) {
  RunSmallNight();
  EXPECT_EQ(Value("landfall_attempts_started_total",
                  {{"pool", "redshift"}, {"class", "etl"}}),
            3);
  EXPECT_EQ(Value("landfall_attempts_succeeded_total",
                  {{"pool", "redshift"}, {"class", "etl"}}),
            1);
  EXPECT_EQ(
      Value("landfall_attempts_failed_total",
            {{"pool", "redshift"}, {"class", "etl"}, {"reason", "retryable"}}),
      1);
  EXPECT_EQ(
      Value("landfall_attempts_failed_total",
            {{"pool", "redshift"}, {"class", "etl"}, {"reason", "fatal"}}),
      1);
  EXPECT_EQ(Value("landfall_dead_lettered_total",
                  {{"pool", "redshift"}, {"class", "etl"}}),
            1);
  EXPECT_EQ(Value("landfall_dead_letter_tasks", {}), 1);
  EXPECT_EQ(Value("landfall_arrivals_total", {}), 2);
  EXPECT_EQ(Value("landfall_duplicates_total", {}), 1);
  EXPECT_EQ(Value("landfall_history_last_sequence", {}),
            scheduler_->LastSequence());
}

TEST_F(MetricsTestBase, TimesQueueWaitAttemptsAndArrivalToReady) {
  RunSmallNight();
  const Group etl = {{"pool", "redshift"}, {"class", "etl"}};
  // Each task waited 5 s for its claim (the retry too, from its wake-up).
  const MetricSample* wait = Sample("landfall_queue_wait_seconds", etl);
  ASSERT_NE(wait, nullptr);
  EXPECT_EQ(wait->count, 3u);
  EXPECT_DOUBLE_EQ(wait->sum, 15);
  // Attempts took 30 s, 60 s and 90 s.
  const MetricSample* duration =
      Sample("landfall_attempt_duration_seconds", etl);
  ASSERT_NE(duration, nullptr);
  EXPECT_EQ(duration->count, 3u);
  EXPECT_DOUBLE_EQ(duration->sum, 180);
  // Both arrivals landed 2 minutes before they were ingested. (Copies:
  // each Family or Sample call collects anew.)
  const std::vector<double> bounds =
      Family("landfall_arrival_to_ready_seconds")->bounds;
  const MetricSample* found = Sample("landfall_arrival_to_ready_seconds", etl);
  ASSERT_NE(found, nullptr);
  const MetricSample ready = *found;
  EXPECT_EQ(ready.count, 2u);
  EXPECT_DOUBLE_EQ(ready.sum, 240);
  // 120 s falls in the bucket of 120 (le), not below.
  const size_t at_120 =
      std::find(bounds.begin(), bounds.end(), 120.0) - bounds.begin();
  ASSERT_LT(at_120, bounds.size());
  EXPECT_EQ(ready.buckets[at_120 - 1], 0u);
  EXPECT_EQ(ready.buckets[at_120], 2u);
}

// Buckets given out of order, repeated or NaN are sorted and cleaned, as
// the exposition formats need them; the attempts still land by value.
TEST_F(MetricsTestBase, BucketsOutOfOrderAreSortedWithoutRepeats) {
  MetricsOptions options;
  options.buckets = {600, 30, std::nan(""), 30, 0.5};
  Start(options);
  RunSmallNight();
  const std::vector<double> bounds =
      Family("landfall_attempt_duration_seconds")->bounds;
  EXPECT_EQ(bounds, (std::vector<double>{0.5, 30, 600}));
  const MetricSample* duration =
      Sample("landfall_attempt_duration_seconds",
             {{"pool", "redshift"}, {"class", "etl"}});
  ASSERT_NE(duration, nullptr);
  // 30 s, 60 s and 90 s: one within 30 s, all within 600 s.
  EXPECT_EQ(duration->buckets, (std::vector<uint64_t>{0, 1, 3}));
}

// A host may feed Metrics whole entries (OnEntry), e.g. read back with
// ReadHistory: it counts them as it counts the scheduler's views.
TEST_F(MetricsTestBase, EntriesFedWholeCountAsTheViewsDo) {
  MetricsOptions options;
  options.table_labels = true;
  Start(options);
  RunSmallNight();
  clock_.Advance(absl::Minutes(1));
  Metrics fed(*pipeline_, [&] {
    options.clock = &clock_;
    return options;
  }());
  auto history = scheduler_->ReadHistory(1, 1000);
  ASSERT_TRUE(history.ok()) << history.status();
  for (const HistoryEntry& e : *history) fed.OnEntry(e);
  metrics_->SetScheduler(nullptr);
  EXPECT_EQ(PrometheusText(fed.Collect()), PrometheusText(metrics_->Collect()));
}

// Entries an older landfall wrote carry no ready time on claims and no
// claim on attempt ends: attempts are still timed and failures counted, by
// task (only the queue wait is unknown).
TEST_F(MetricsTestBase, EntriesOfAnOlderLandfallStillTimeAttempts) {
  const std::vector<HistoryEntry> history = SmallNightForFreshMetrics();
  ASSERT_FALSE(history.empty());
  for (HistoryEntry e : history) {
    e.ready_at = absl::InfinitePast();
    e.claim_seq = 0;
    metrics_->OnEntry(e);
  }
  const Group etl = {{"pool", "redshift"}, {"class", "etl"}};
  const MetricSample* duration =
      Sample("landfall_attempt_duration_seconds", etl);
  ASSERT_NE(duration, nullptr);
  EXPECT_EQ(duration->count, 3u);
  EXPECT_DOUBLE_EQ(duration->sum, 180);
  EXPECT_EQ(
      Value("landfall_attempts_failed_total",
            {{"pool", "redshift"}, {"class", "etl"}, {"reason", "fatal"}}),
      1);
}

// Entries this process never saw (a gap in the sequence) may have ended the
// attempts claimed before them: those are forgotten, not kept forever, and
// an end after the gap is not timed from a stale claim.
TEST_F(MetricsTestBase, AGapInTheSequenceForgetsTheClaimsBeforeIt) {
  const std::vector<HistoryEntry> history = SmallNightForFreshMetrics();
  ASSERT_FALSE(history.empty());
  // Every entry but the first end of an attempt after its claim.
  bool skipped = false;
  for (const HistoryEntry& e : history) {
    if (!skipped && e.claim_seq != 0) {
      skipped = true;
      continue;
    }
    metrics_->OnEntry(e);
  }
  ASSERT_TRUE(skipped);
  const MetricSample* duration =
      Sample("landfall_attempt_duration_seconds",
             {{"pool", "redshift"}, {"class", "etl"}});
  // Of the three attempts, only the retry, claimed after the gap, is timed.
  ASSERT_NE(duration, nullptr);
  EXPECT_EQ(duration->count, 1u);
}

TEST_F(MetricsTestBase, TasksGaugesCountByPoolClassAndState) {
  RunSmallNight();
  EXPECT_EQ(Value("landfall_tasks",
                  {{"pool", "redshift"}, {"class", "etl"}, {"state", "dead"}}),
            1);
  EXPECT_EQ(
      Value("landfall_tasks",
            {{"pool", "redshift"}, {"class", "etl"}, {"state", "succeeded"}}),
      1);
  EXPECT_EQ(
      Value("landfall_tasks",
            {{"pool", "bigquery"}, {"class", "adhoc"}, {"state", "ready"}}),
      2);
  EXPECT_EQ(Value("landfall_pool_slots", {{"pool", "redshift"}}), 2);
  EXPECT_EQ(Value("landfall_pool_slots_used", {{"pool", "redshift"}}), 0);
  EXPECT_EQ(Value("landfall_pool_slots_free", {{"pool", "redshift"}}), 2);
}

TEST_F(MetricsTestBase, TableLabelsOnlyWhenTurnedOn) {
  RunSmallNight();
  EXPECT_EQ(Family("landfall_freshness_lag_seconds"), nullptr);
  ASSERT_NE(Family("landfall_freshness_lag_max_seconds"), nullptr);
  for (const MetricFamily& f : metrics_->Collect()) {
    for (const MetricSample& s : f.samples) {
      for (const auto& label : s.labels) {
        EXPECT_NE(label.first, "table") << f.name;
      }
    }
  }
  MetricsOptions options;
  options.table_labels = true;
  Start(options);
  RunSmallNight();
  EXPECT_EQ(Value("landfall_arrivals_total", {{"table", "src"}}), 2);
  // src last landed at 01:00 (ingested 01:02); now is 01:05:30 + ...
  const double lag =
      Value("landfall_freshness_lag_seconds", {{"table", "src"}});
  EXPECT_DOUBLE_EQ(lag, absl::ToDoubleSeconds(clock_.Now() - Landed()));
}

TEST_F(MetricsTestBase, ClassChangesRelabelLaterAttempts) {
  ASSERT_TRUE(scheduler_->SetPriorityClass("load", "adhoc").ok());
  Arrive("e1");
  ASSERT_EQ(Claim().size(), 1u);
  EXPECT_EQ(Value("landfall_attempts_started_total",
                  {{"pool", "redshift"}, {"class", "adhoc"}}),
            1);
  EXPECT_EQ(Value("landfall_attempts_started_total",
                  {{"pool", "redshift"}, {"class", "etl"}}),
            0);
}

TEST_F(MetricsTestBase, QueueFiguresTheQueueDoesNotReportAreAbsent) {
  QueueStats stats;
  stats.visible = 7;
  stats.in_flight = 0;
  metrics_->SetQueueStats("arrivals", stats);
  EXPECT_EQ(Value("landfall_queue_messages",
                  {{"queue", "arrivals"}, {"state", "visible"}}),
            7);
  EXPECT_EQ(Value("landfall_queue_messages",
                  {{"queue", "arrivals"}, {"state", "in_flight"}}),
            0);
  EXPECT_EQ(Sample("landfall_queue_messages",
                   {{"queue", "arrivals"}, {"state", "delayed"}}),
            nullptr);
  EXPECT_TRUE(
      Family("landfall_queue_oldest_message_age_seconds")->samples.empty());
}

TEST_F(MetricsTestBase, ObservationsAreKeptUpToTheBufferThenCounted) {
  MetricsOptions options;
  options.observation_buffer = 4;
  Start(options);
  // 3 waits, 3 durations, 4 arrival-to-ready (2 tables each): 10.
  RunSmallNight();
  EXPECT_EQ(metrics_->TakeObservations().size(), 4u);
  EXPECT_EQ(Value("landfall_metrics_observations_dropped_total", {}), 6);
  EXPECT_TRUE(metrics_->TakeObservations().empty());
}

// A Metrics made from the same tables in another order: the ids disagree
// with the scheduler's, so entries are counted by their tables' names.
TEST_F(MetricsTestBase, TablesInAnotherOrderThanTheSchedulersCountByName) {
  auto reordered = Pipeline::FromText(R"(
defaults { lease: "10m" retry { max_attempts: 2 initial_backoff: "30s" } }
priority_class { name: "etl" }
priority_class { name: "adhoc" }
pool { name: "redshift" slots: 2 }
pool { name: "bigquery" slots: 4 }
table { name: "report" upstream: "src" pool: "bigquery" priority_class: "adhoc" }
table { name: "load" upstream: "src" pool: "redshift" }
table { name: "src" source: true }
)",
                                      SpecFormat::kTextProto, "spec");
  ASSERT_TRUE(reordered.ok()) << reordered.status();
  MetricsOptions options;
  options.table_labels = true;
  Start(options, reordered->get());
  RunSmallNight();
  EXPECT_EQ(Value("landfall_attempts_started_total",
                  {{"pool", "redshift"}, {"class", "etl"}}),
            3);
  EXPECT_EQ(Value("landfall_attempts_started_total",
                  {{"pool", "bigquery"}, {"class", "adhoc"}}),
            0);
  // load succeeded just now; report never ran.
  EXPECT_EQ(Value("landfall_freshness_lag_seconds", {{"table", "load"}}), 0);
  EXPECT_EQ(Sample("landfall_freshness_lag_seconds", {{"table", "report"}}),
            nullptr);
}

// Between BeginEntries and EndEntries the Metrics' lock is held: a scrape
// waits for the operation's entries to be counted.
TEST_F(MetricsTestBase, CollectWaitsForTheOperationInProgress) {
  metrics_->BeginEntries();
  std::atomic<bool> collected{false};
  std::thread scrape([&] {
    metrics_->Collect();
    collected = true;
  });
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_FALSE(collected);
  metrics_->EndEntries();
  scrape.join();
  EXPECT_TRUE(collected);
}

// An entry another thread hands the Metrics during an operation's bracket
// waits for the bracket to close, rather than be counted beside it.
TEST_F(MetricsTestBase, AnotherThreadsEntryWaitsForTheOperationInProgress) {
  HistoryEntry arrival;
  arrival.seq = 1;
  arrival.kind = EntryKind::kArrival;
  arrival.table = "src";
  arrival.partition = "p1";
  metrics_->BeginEntries();
  std::atomic<bool> counted{false};
  std::thread feeder([&] {
    metrics_->OnEntry(arrival);
    counted = true;
  });
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_FALSE(counted);
  metrics_->EndEntries();
  feeder.join();
  EXPECT_EQ(Value("landfall_arrivals_total", {}), 1);
}

}  // namespace
}  // namespace landfall::testing
