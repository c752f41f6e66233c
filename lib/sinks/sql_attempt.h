// What the warehouse executors share: the values bound to a table's
// placeholders, finding their sink, and the outcome of a failed attempt.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "landfall/pipeline.h"
#include "landfall/runner.h"
#include "landfall/scheduler.h"

namespace landfall::internal {

// The text `parameter` is bound to for attempt `task`.
inline std::string ParameterValue(const SqlParameter& parameter,
                                  const ClaimedTask& task) {
  switch (parameter.kind) {
    case SqlParameter::Kind::kPartition:
      return task.task.partition;
    case SqlParameter::Kind::kTable:
      return task.task.table;
    case SqlParameter::Kind::kAttempt:
      return absl::StrCat(task.attempt);
    case SqlParameter::Kind::kInput:
      break;
  }
  std::string versions;
  for (const InputVersion& input : task.inputs) {
    if (input.table != parameter.input) continue;
    absl::StrAppend(&versions, versions.empty() ? "" : ",", input.version);
  }
  return versions;
}

// The sink of `pipeline` named `name`, when it is of `kind` (`kind_name`
// in the message); InvalidArgument otherwise.
inline absl::StatusOr<const Sink*> DeclaredSink(const Pipeline& pipeline,
                                                const std::string& name,
                                                Sink::Kind kind,
                                                absl::string_view kind_name) {
  const Sink* sink = pipeline.FindSink(name);
  if (sink == nullptr || sink->kind != kind) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no ", kind_name, " sink named \"", name, "\" in the spec"));
  }
  return sink;
}

// RETRYABLE for Unavailable (may pass) and Cancelled (the runner gave up on
// the attempt), FATAL for the rest; the status's message.
inline AttemptResult FailedAttempt(const absl::Status& status) {
  return AttemptResult{absl::IsUnavailable(status) || absl::IsCancelled(status)
                           ? Outcome::RETRYABLE
                           : Outcome::FATAL,
                       std::string(status.message())};
}

}  // namespace landfall::internal
