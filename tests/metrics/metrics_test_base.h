// A scheduler on a manual clock observed by a Metrics, with a small night
// of work whose figures the tests know.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "landfall/metrics.h"
#include "landfall/scheduler.h"

namespace landfall::testing {

class MetricsTestBase : public ::testing::Test {
 protected:
  using Group = MetricLabels;

  void SetUp() override {
    auto pipeline = Pipeline::FromText(R"(
defaults { lease: "10m" retry { max_attempts: 2 initial_backoff: "30s" } }
priority_class { name: "etl" }
priority_class { name: "adhoc" }
pool { name: "redshift" slots: 2 }
pool { name: "bigquery" slots: 4 }
table { name: "src" source: true }
table { name: "load" upstream: "src" pool: "redshift" }
table { name: "report" upstream: "src" pool: "bigquery" priority_class: "adhoc" }
)",
                                       SpecFormat::kTextProto, "spec");
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    pipeline_ = *pipeline;
    Start(MetricsOptions());
  }

  // A new Metrics observing a new scheduler, at T0. The Metrics is made
  // from `metrics_pipeline` when given, else from the scheduler's.
  void Start(MetricsOptions options,
             const Pipeline* metrics_pipeline = nullptr) {
    clock_.Set(absl::FromUnixSeconds(1541293200));  // 2018-11-04T01:00Z.
    options.clock = &clock_;
    if (metrics_) metrics_->SetScheduler(nullptr);
    scheduler_.reset();
    metrics_ = std::make_unique<Metrics>(
        metrics_pipeline != nullptr ? *metrics_pipeline : *pipeline_, options);
    SchedulerOptions scheduler_options;
    scheduler_options.clock = &clock_;
    scheduler_options.observer = metrics_.get();
    auto scheduler = Scheduler::Create(pipeline_, scheduler_options);
    ASSERT_TRUE(scheduler.ok()) << scheduler.status();
    scheduler_ = std::move(*scheduler);
    metrics_->SetScheduler(scheduler_.get());
  }

  void TearDown() override {
    if (metrics_) metrics_->SetScheduler(nullptr);
  }

  absl::Time Landed() const { return absl::FromUnixSeconds(1541293200); }

  // An arrival on src/<event id> that landed at T0, ingested now.
  void Arrive(const std::string& event_id) {
    Arrival a;
    a.set_event_id(event_id);
    a.set_table("src");
    a.set_partition(event_id == "e2" ? "p2" : "p1");
    *a.mutable_at() = ToTimestamp(Landed());
    ASSERT_TRUE(scheduler_->Ingest(a).ok());
  }

  std::vector<ClaimedTask> Claim(std::vector<std::string> pools = {
                                     "redshift"}) {
    ClaimFilter filter;
    filter.pools = std::move(pools);
    auto claimed = scheduler_->Claim("w", 10, filter);
    EXPECT_TRUE(claimed.ok()) << claimed.status();
    return claimed.ok() ? *claimed : std::vector<ClaimedTask>{};
  }

  void Complete(const ClaimedTask& t, Outcome outcome) {
    ASSERT_TRUE(scheduler_->Complete(t.task, t.attempt, outcome, "x").ok());
  }

  // Two arrivals ingested 2 minutes after they landed, then a duplicate;
  // on redshift: load/p1 waits 5 s, runs 30 s and fails (retryable),
  // waits 5 s after its retry is due, runs 60 s and succeeds; load/p2
  // waits 5 s, runs 90 s and fails for good. report's two tasks stay
  // ready on bigquery.
  void RunSmallNight() {
    clock_.Set(Landed() + absl::Minutes(2));
    Arrive("e1");
    Arrive("e2");
    Arrive("e2");
    clock_.Advance(absl::Seconds(5));
    std::vector<ClaimedTask> first = Claim();
    ASSERT_EQ(first.size(), 2u);
    clock_.Advance(absl::Seconds(30));
    Complete(first[0], Outcome::RETRYABLE);
    clock_.Advance(absl::Seconds(30));  // The retry is due now.
    ASSERT_TRUE(scheduler_->Poll().ok());
    clock_.Advance(absl::Seconds(5));
    std::vector<ClaimedTask> retry = Claim();
    ASSERT_EQ(retry.size(), 1u);
    clock_.Advance(absl::Seconds(25));
    Complete(first[1], Outcome::FATAL);
    clock_.Advance(absl::Seconds(35));
    Complete(retry[0], Outcome::SUCCEEDED);
  }

  // Runs the small night, then puts fresh Metrics, fed nothing, in
  // metrics_: the night's history, for a test to feed it by hand.
  std::vector<HistoryEntry> SmallNightForFreshMetrics() {
    RunSmallNight();
    absl::StatusOr<std::vector<HistoryEntry>> history =
        scheduler_->ReadHistory(1, 1000);
    EXPECT_TRUE(history.ok()) << history.status();
    metrics_->SetScheduler(nullptr);
    MetricsOptions options;
    options.clock = &clock_;
    metrics_ = std::make_unique<Metrics>(*pipeline_, options);
    return history.ok() ? *std::move(history) : std::vector<HistoryEntry>();
  }

  const MetricFamily* Family(const std::string& name) {
    families_ = metrics_->Collect();
    for (const MetricFamily& f : families_) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }

  // The sample of `name` whose labels are `labels` (in any order).
  const MetricSample* Sample(const std::string& name, Group labels) {
    const MetricFamily* f = Family(name);
    if (f == nullptr) return nullptr;
    std::sort(labels.begin(), labels.end());
    for (const MetricSample& s : f->samples) {
      Group have = s.labels;
      std::sort(have.begin(), have.end());
      if (have == labels) return &s;
    }
    return nullptr;
  }

  double Value(const std::string& name, Group labels) {
    const MetricSample* s = Sample(name, labels);
    EXPECT_NE(s, nullptr) << name;
    return s == nullptr ? -1 : s->value;
  }

  static google::protobuf::Timestamp ToTimestamp(absl::Time t) {
    google::protobuf::Timestamp ts;
    ts.set_seconds(absl::ToUnixSeconds(t));
    return ts;
  }

  ManualClock clock_;
  std::shared_ptr<const Pipeline> pipeline_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Scheduler> scheduler_;
  std::vector<MetricFamily> families_;
};

}  // namespace landfall::testing
