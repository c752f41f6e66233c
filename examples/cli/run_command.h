// `landfall run` and what `landfall demo` shares with it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "examples/cli/alert_options.h"
#include "examples/cli/metrics_options.h"
#include "landfall/pipeline.h"
#include "landfall/runner.h"
#include "landfall/scheduler.h"

namespace landfall::cli {

struct RunArgs {
  std::string spec, state, landing, logs;
  // --sqs and its options: an SQS queue as a source (with or without
  // --landing).
  std::string sqs, sqs_endpoint, sqs_region, sqs_key_rule;
  std::string sqs_stats_interval = "30s";  // With metrics on.
  std::string exec;
  std::vector<std::string> exec_table, exec_sink;
  bool shell = false;
  std::string timeout = "1h";
  std::string grace = "30s";
  std::string exit_when_idle;
  std::string dedup_retention;
  int workers = 64;
  AlertArgs alerts;  // --alert-*.
  // --metrics-listen, --statsd, --statsd-tags, --metrics-table-labels.
  MetricsArgs metrics;
  // --status-listen: serve the status page at HOST:PORT while running;
  // empty for none.
  std::string status_listen;
  // With --exit-when-idle: also wait for this to say so (more is coming).
  std::function<bool()> may_exit;
};

// --landing, --sqs, --sqs-endpoint, --sqs-region, --sqs-key-rule,
// --sqs-stats-interval, --exec,
// --exec-table, --exec-sink, --shell, --timeout, --logs,
// --workers, --grace, --exit-when-idle, --dedup-retention, --alert-*,
// --status-listen.
void AddRunOptions(CLI::App* cmd, RunArgs* args);

// Runner options holding the executors of `args` (--exec, --exec-table,
// --exec-sink, run as --shell, --timeout and --logs say), checked against
// `pipeline` by CheckExecutors with messages that name the options. Every
// error is bad usage: `run` checks this before it opens the state.
absl::StatusOr<RunnerOptions> ExecutorOptions(const RunArgs& args,
                                              const Pipeline& pipeline);

// Runs `scheduler` on `pipeline` (the one it runs) with the executors of
// `options` (ExecutorOptions) until SIGINT or SIGTERM, or until idle for
// --exit-when-idle; returns the exit code. `metrics` (optional) is started
// on `scheduler` before the runner, and outlives it.
int Run(const RunArgs& args, RunnerOptions options,
        std::shared_ptr<const Pipeline> pipeline,
        std::shared_ptr<Scheduler> scheduler, RunMetrics* metrics = nullptr);

}  // namespace landfall::cli
