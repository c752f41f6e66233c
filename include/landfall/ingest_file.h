// IngestEventsFile: records a file of arrivals on a scheduler without
// holding the file, in bounded batches.
#pragma once

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "landfall/export.h"
#include "landfall/records.pb.h"
#include "landfall/scheduler.h"

namespace landfall {

struct IngestFileOptions {
  // Arrivals recorded in one transaction (one IngestBatch). Default 10,000.
  // REQUIRES: at least 1.
  int batch_size = 10000;
};

// Records the arrivals of the JSON-lines file `path` (protobuf JSON
// mapping, blank lines skipped; the events files `ReadArrivals` reads) on
// `scheduler`, in file order, and calls `recorded` for each once its batch
// is committed. Memory stays bounded by the batch, however long the file.
//
// It reads the file twice. The first pass checks every line as
// Scheduler::Ingest would take it on the scheduler's pipeline; a line that
// does not parse or is refused is InvalidArgument "PATH:LINE: message",
// and nothing is recorded (as for an unreadable file: NotFound,
// PermissionDenied, FailedPrecondition, ResourceExhausted, as
// ReadArrivals). The second pass records the arrivals in batches of
// `options.batch_size`, each one transaction. An error there (a store gone
// away: Unavailable) keeps its code and says where it stopped: "PATH:
// stopped at line L: message; the N arrivals before it are recorded". The
// batches committed before it stay recorded, and nothing of that batch or
// the later ones is. Ingesting the same file again is then safe: an arrival
// recorded already is a duplicate (same event id, within the scheduler's
// dedup_retention of its first delivery), and the rest are recorded. A file
// changed between the passes is DataLoss, with the same note.
//
// `recorded` is called on the calling thread. Other threads may use the
// scheduler meanwhile, as always; their operations fall between batches.
LANDFALL_EXPORT absl::Status IngestEventsFile(
    Scheduler& scheduler, const std::string& path,
    const IngestFileOptions& options,
    absl::FunctionRef<void(const Arrival&, const IngestResult&)> recorded);

}  // namespace landfall
