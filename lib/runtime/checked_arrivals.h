// Reading an events file line by line with every arrival checked as the
// core would take it, without holding the file: the first pass of
// `simulate`'s EventsFile and of IngestEventsFile.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "landfall/pipeline.h"
#include "landfall/records.pb.h"

namespace landfall::internal {

// Calls f(offset, line, arrival) for each arrival of the JSON-lines file
// `path` in file order (blank lines skipped), after parsing it. Each
// arrival is checked as Scheduler::Ingest on `pipeline` would take it,
// then by `extra_check` when given. Errors: "PATH:LINE: message"; every
// line parses before a refused one is the error, so that a line that does
// not parse wins over an earlier refused one.
absl::Status ForEachCheckedArrival(
    std::shared_ptr<const Pipeline> pipeline, const std::string& path,
    const std::function<absl::Status(const Arrival&)>& extra_check,
    const std::function<void(int64_t offset, absl::string_view line,
                             const Arrival& arrival)>& f);

}  // namespace landfall::internal
