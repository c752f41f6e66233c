// The C API's JSON forms of scheduler records: one object per history entry,
// task status or ingest result, with the field names `landfall ... --json`
// prints.
#pragma once

#include <string>
#include <vector>

#include "landfall/history.h"
#include "landfall/scheduler.h"

namespace landfall::capi {

std::string EntryJson(const HistoryEntry& entry);
std::string StatusJson(const TaskStatus& status);
std::string IngestResultJson(const std::string& event_id,
                             const IngestResult& result);
// {"dry_run","changed","summary","changes":[...],"made_ready":[{"table",
// "partition"}]}.
std::string DeployPlanJson(const DeployPlan& plan, bool dry_run);
// A JSON array of {"table","partition","version","origins":[...],
// "origins_complete"}.
std::string InputsJson(absl::Span<const InputVersion> inputs);

}  // namespace landfall::capi
