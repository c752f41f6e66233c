// Metrics::Collect: the scheduler's gauges and what metrics.cc counted, as
// metric families in a fixed order.
#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "landfall/metrics.h"
#include "lib/metrics/metrics_impl.h"

namespace landfall {
namespace {

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

}  // namespace landfall
