// `landfall run`'s metrics options: --metrics-listen, --statsd,
// --statsd-tags, --metrics-table-labels.
#pragma once

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "landfall/metrics.h"

namespace landfall::cli {

struct MetricsArgs {
  std::string listen;       // HOST:PORT for Prometheus' /metrics.
  std::string statsd;       // HOST:PORT of a DogStatsD agent.
  std::string statsd_tags;  // key:value,...
  bool table_labels = false;
  bool enabled() const { return !listen.empty() || !statsd.empty(); }
};

void AddMetricsOptions(CLI::App* cmd, MetricsArgs* args);

// The metrics of one run: made once the spec is loaded (its observer goes
// to the scheduler), exporting once Start is called with the scheduler.
class RunMetrics {
 public:
  // Null when `args` turn no exporter on. InvalidArgument for bad tags.
  static absl::StatusOr<std::unique_ptr<RunMetrics>> Create(
      const MetricsArgs& args, const Pipeline& pipeline);
  ~RunMetrics();
  Metrics* metrics() { return &metrics_; }
  // Reads `scheduler`'s gauges from now on and starts the exporters,
  // printing on stderr where /metrics is served (the port, when 0 was
  // asked). Unavailable when the address cannot be bound.
  absl::Status Start(Scheduler* scheduler);
  // Stops the exporters (DogStatsD sends what is due first) and stops
  // reading the scheduler: before the scheduler goes. Idempotent.
  void Stop();

 private:
  RunMetrics(const MetricsArgs& args, const Pipeline& pipeline,
             MetricsOptions options);
  MetricsArgs args_;
  Metrics metrics_;
  std::unique_ptr<MetricsServer> server_;
  std::unique_ptr<StatsdExporter> statsd_;
};

}  // namespace landfall::cli
