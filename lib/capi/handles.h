// The C API's handles, which live in the global namespace as landfall.h
// declares them, and what a scheduler handle shares with its runners.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "landfall/landfall.h"
#include "landfall/metrics.h"
#include "landfall/runner.h"
#include "landfall/scheduler.h"
#include "lib/capi/subscriptions.h"

struct landfall_task_t {
  std::string table;
  std::string partition;
  int64_t attempt = 0;
  std::string pool;
  std::string priority_class;
  std::string sink;
  std::string lease_deadline;
  std::string inputs_json;
  std::vector<std::string> origins;  // Every input's, input by input.
  bool origins_complete = true;
  // Set for an attempt a runner hands to its executor.
  const std::atomic<bool>* cancelled = nullptr;
};

struct landfall_claims_t {
  std::vector<landfall_task_t> tasks;
};

namespace landfall::capi {

// What a scheduler handle and the runners made on it share.
struct Held {
  Subscriptions subscriptions;  // Declared first: outlives the scheduler.
  std::unique_ptr<Scheduler> scheduler;
  std::string pipeline_name;
  std::string pipeline_warnings;
};

// Fills the C view of a claimed task.
void Fill(const ClaimedTask& claimed, landfall_task_t* task);

}  // namespace landfall::capi

struct landfall_scheduler_t {
  std::shared_ptr<landfall::capi::Held> held;
  landfall::Scheduler& scheduler() { return *held->scheduler; }
};

struct landfall_runner_options_t {
  landfall::RunnerOptions options;
  bool spec_sinks = false;
  std::map<std::string, std::string> conninfo_by_sink;
  std::vector<std::string> alert_webhooks;
  // Read at landfall_runner_create.
  std::vector<std::string> alert_webhook_envs;
  std::vector<std::string> alert_webhook_files;
  std::string metrics_listen;
  landfall::StatsdOptions statsd;
};

struct landfall_runner_t {
  // Declared first, so destroyed last: the runner and the exporters go
  // before the metrics they read.
  std::shared_ptr<landfall::capi::Held> held;
  std::unique_ptr<landfall::Metrics> metrics;
  std::unique_ptr<landfall::MetricsServer> metrics_server;
  std::unique_ptr<landfall::StatsdExporter> statsd;
  std::unique_ptr<landfall::Runner> runner;
  std::atomic<bool> started{false};
  ~landfall_runner_t();
};

struct landfall_run_summary_t {
  landfall::RunSummary summary;
};
