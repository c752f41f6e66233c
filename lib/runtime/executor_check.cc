// Whether a runner's executors fit its pipeline: every table that runs has
// one, and every name they are given under is a table that runs or its sink.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "landfall/runner.h"
#include "lib/core/plural.h"
#include "lib/pipeline/internal/suggest.h"
#include "lib/runtime/executor_for.h"

namespace landfall {
namespace internal {

Executor* ExecutorFor(const RunnerOptions& options, std::string_view table,
                      std::string_view sink) {
  if (auto it = options.executor_by_table.find(std::string(table));
      it != options.executor_by_table.end()) {
    return it->second.get();
  }
  if (auto it = options.executor_by_sink.find(std::string(sink));
      it != options.executor_by_sink.end()) {
    return it->second.get();
  }
  return options.executor.get();
}

}  // namespace internal

namespace {

// How many tables without an executor a message names before it counts
// the rest.
constexpr size_t kMaxNamed = 5;

}  // namespace

bool HasExecutor(const RunnerOptions& options, const Table& table) {
  return !table.source &&
         internal::ExecutorFor(options, table.name, table.sink) != nullptr;
}

absl::Status CheckExecutors(const Pipeline& pipeline,
                            const RunnerOptions& options,
                            const ExecutorOptionNames& names) {
  // Tables that run, and their sinks, in spec order.
  std::vector<std::string> runs;
  std::vector<std::string> sinks;
  for (const Table& t : pipeline.tables()) {
    if (t.source) continue;
    runs.push_back(t.name);
    if (!t.sink.empty() &&
        std::find(sinks.begin(), sinks.end(), t.sink) == sinks.end()) {
      sinks.push_back(t.sink);
    }
  }
  std::vector<std::string> problems;
  for (const auto& [name, executor] : options.executor_by_table) {
    const std::optional<TableId> id = pipeline.FindTable(name);
    if (!id) {
      problems.push_back(absl::StrCat(names.executor_by_table,
                                      ": unknown table \"", name, "\"",
                                      internal::DidYouMean(name, runs)));
    } else if (pipeline.table(*id).source) {
      problems.push_back(absl::StrCat(names.executor_by_table, ": table \"",
                                      name,
                                      "\" is a source table: it runs nothing"));
    } else if (executor == nullptr) {
      problems.push_back(absl::StrCat(names.executor_by_table, ": table \"",
                                      name, "\" has a null executor"));
    }
  }
  for (const auto& [name, executor] : options.executor_by_sink) {
    if (std::find(sinks.begin(), sinks.end(), name) == sinks.end()) {
      problems.push_back(
          absl::StrCat(names.executor_by_sink, ": unknown sink \"", name, "\"",
                       sinks.empty() ? " (no table that runs names a sink)"
                                     : internal::DidYouMean(name, sinks)));
    } else if (executor == nullptr) {
      problems.push_back(absl::StrCat(names.executor_by_sink, ": sink \"", name,
                                      "\" has a null executor"));
    }
  }
  std::vector<std::string> without;
  size_t count = 0;
  for (const Table& t : pipeline.tables()) {
    if (t.source || HasExecutor(options, t)) continue;
    if (++count <= kMaxNamed) {
      without.push_back(absl::StrCat("\"", t.name, "\""));
    }
  }
  if (count > 0) {
    std::string listed = absl::StrJoin(without, ", ");
    if (count > kMaxNamed) {
      absl::StrAppend(&listed, " and ", count - kMaxNamed, " more");
    }
    problems.push_back(absl::StrCat(
        "no executor for ", internal::Counted(count, "table"), " (of ",
        runs.size(), " that run): ", listed, " (set ", names.executor,
        " for every table, or ", names.executor_by_table, " or ",
        names.executor_by_sink, " for these)"));
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
}

}  // namespace landfall
