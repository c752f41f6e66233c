#include "examples/cli/metrics_options.h"

#include <iostream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace landfall::cli {
namespace {

std::vector<std::string> SplitTags(const std::string& text) {
  return absl::StrSplit(text, ',', absl::SkipWhitespace());
}

}  // namespace

void AddMetricsOptions(CLI::App* cmd, MetricsArgs* args) {
  cmd->add_option("--metrics-listen", args->listen,
                  "Serve Prometheus metrics at http://HOST:PORT/metrics "
                  "(for example 127.0.0.1:9464; port 0 picks one and "
                  "prints it)");
  cmd->add_option("--statsd", args->statsd,
                  "Send DogStatsD metrics over UDP to HOST:PORT every 10 s "
                  "(for example 127.0.0.1:8125)");
  cmd->add_option("--statsd-tags", args->statsd_tags,
                  "Tags for every DogStatsD line: key:value,...");
  cmd->add_flag("--metrics-table-labels", args->table_labels,
                "Label arrivals, duplicates and freshness lag by table (a "
                "series per table: mind large pipelines)");
}

RunMetrics::RunMetrics(const MetricsArgs& args, const Pipeline& pipeline,
                       MetricsOptions options)
    : args_(args), metrics_(pipeline, std::move(options)) {}

RunMetrics::~RunMetrics() { Stop(); }

void RunMetrics::Stop() {
  statsd_.reset();
  server_.reset();
  metrics_.SetScheduler(nullptr);
}

absl::StatusOr<std::unique_ptr<RunMetrics>> RunMetrics::Create(
    const MetricsArgs& args, const Pipeline& pipeline) {
  if (!args.enabled()) {
    if (!args.statsd_tags.empty()) {
      return absl::InvalidArgumentError("--statsd-tags needs --statsd");
    }
    return nullptr;
  }
  for (const std::string& tag : SplitTags(args.statsd_tags)) {
    if (tag.find(':') == std::string::npos || tag.front() == ':' ||
        tag.find_first_of("|#") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--statsd-tags: \"", tag, "\" is not key:value"));
    }
  }
  MetricsOptions options;
  options.table_labels = args.table_labels;
  if (!args.statsd.empty()) options.observation_buffer = 100000;
  return std::unique_ptr<RunMetrics>(new RunMetrics(args, pipeline, options));
}

absl::Status RunMetrics::Start(Scheduler* scheduler) {
  metrics_.SetScheduler(scheduler);
  if (!args_.listen.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsServer>> server =
        MetricsServer::Start(&metrics_, args_.listen);
    if (!server.ok()) return server.status();
    server_ = *std::move(server);
    const std::string host = args_.listen.substr(0, args_.listen.rfind(':'));
    std::cerr << "metrics: http://" << host << ":" << server_->port()
              << "/metrics" << std::endl;
  }
  if (!args_.statsd.empty()) {
    StatsdOptions options;
    options.address = args_.statsd;
    options.tags = SplitTags(args_.statsd_tags);
    absl::StatusOr<std::unique_ptr<StatsdExporter>> statsd =
        StatsdExporter::Start(&metrics_, std::move(options));
    if (!statsd.ok()) return statsd.status();
    statsd_ = *std::move(statsd);
  }
  return absl::OkStatus();
}

}  // namespace landfall::cli
