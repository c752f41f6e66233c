#include "landfall/sink_executors.h"

#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "landfall/postgres_executor.h"

namespace landfall {

namespace {

bool SomeTableRunsIn(const Pipeline& pipeline, const std::string& sink) {
  for (const Table& table : pipeline.tables()) {
    if (!table.source && table.sink == sink) return true;
  }
  return false;
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
    if (sink.kind != Sink::Kind::kPostgres ||
        options->executor_by_sink.count(sink.name) > 0 ||
        !SomeTableRunsIn(pipeline, sink.name)) {
      continue;
    }
    absl::StatusOr<PostgresExecutorOptions> sink_options =
        PostgresSinkOptions(pipeline, sink.name);
    if (!sink_options.ok()) return sink_options.status();
    if (auto it = conninfo_by_sink.find(sink.name);
        it != conninfo_by_sink.end()) {
      sink_options->conninfo = it->second;
    }
    absl::StatusOr<std::unique_ptr<Executor>> executor =
        NewPostgresExecutor(pipeline, *std::move(sink_options));
    if (!executor.ok()) return executor.status();
    added.emplace(sink.name, *std::move(executor));
  }
  options->executor_by_sink.merge(added);
  return absl::OkStatus();
}

}  // namespace landfall
