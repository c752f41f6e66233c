#include "landfall/sink_executors.h"

#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "landfall/bigquery_executor.h"
#include "landfall/postgres_executor.h"

namespace landfall {

namespace {

bool SomeTableRunsIn(const Pipeline& pipeline, const std::string& sink) {
  for (const Table& table : pipeline.tables()) {
    if (!table.source && table.sink == sink) return true;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<Executor>> NewPostgresSinkExecutor(
    const Pipeline& pipeline, const std::string& sink,
    const std::map<std::string, std::string>& conninfo_by_sink) {
  absl::StatusOr<PostgresExecutorOptions> options =
      PostgresSinkOptions(pipeline, sink);
  if (!options.ok()) return options.status();
  if (auto it = conninfo_by_sink.find(sink); it != conninfo_by_sink.end()) {
    options->conninfo = it->second;
  }
  return NewPostgresExecutor(pipeline, *std::move(options));
}

absl::StatusOr<std::unique_ptr<Executor>> NewBigQuerySinkExecutor(
    const Pipeline& pipeline, const std::string& sink) {
  absl::StatusOr<BigQueryExecutorOptions> options =
      BigQuerySinkOptions(pipeline, sink);
  if (!options.ok()) return options.status();
  return NewBigQueryExecutor(pipeline, *std::move(options));
}

}  // namespace

absl::Status AddSinkExecutors(
    const Pipeline& pipeline, RunnerOptions* options,
    const std::map<std::string, std::string>& conninfo_by_sink) {
  for (const auto& [name, conninfo] : conninfo_by_sink) {
    const Sink* sink = pipeline.FindSink(name);
    if (sink == nullptr || sink->kind != Sink::Kind::kPostgres) {
      return absl::InvalidArgumentError(
          absl::StrCat("a conninfo for \"", name,
                       "\", which is no postgres sink of the spec"));
    }
  }
  std::map<std::string, std::shared_ptr<Executor>> added;
  for (const Sink& sink : pipeline.sinks()) {
    if (sink.kind == Sink::Kind::kHost ||
        options->executor_by_sink.count(sink.name) > 0 ||
        !SomeTableRunsIn(pipeline, sink.name)) {
      continue;
    }
    absl::StatusOr<std::unique_ptr<Executor>> executor =
        sink.kind == Sink::Kind::kPostgres
            ? NewPostgresSinkExecutor(pipeline, sink.name, conninfo_by_sink)
            : NewBigQuerySinkExecutor(pipeline, sink.name);
    if (!executor.ok()) return executor.status();
    added.emplace(sink.name, *std::move(executor));
  }
  options->executor_by_sink.merge(added);
  return absl::OkStatus();
}

}  // namespace landfall
