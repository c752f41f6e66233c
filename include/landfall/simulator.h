// Simulate: a deterministic discrete-event run of a pipeline against a list
// of arrivals, with simulated executors on a manual clock. It backs
// `landfall simulate` and lets tests check the scheduler's behaviour from the
// outside.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "landfall/export.h"
#include "landfall/pipeline.h"
#include "landfall/records.pb.h"
#include "landfall/state_store.h"

namespace landfall {

struct SimulationOptions {
  // At most this many attempts run at once in total; 0: no limit (pools
  // still limit). Default 0.
  int workers = 0;
  // Stop before the first instant after this time. Default: run to the end.
  std::optional<absl::Time> until;
  // Keep the run's state and history in this store (see Scheduler::Open),
  // which must hold no history yet; default: in memory only.
  std::shared_ptr<StateStore> store;
  // SchedulerOptions::dedup_retention of the simulated scheduler. Default 7
  // days.
  absl::Duration dedup_retention = absl::Hours(24 * 7);
};

// Reads JSON lines (protobuf JSON mapping), skipping blank lines. Errors name
// the file and line.
LANDFALL_EXPORT absl::StatusOr<std::vector<Arrival>> ReadArrivals(
    const std::string& path);
LANDFALL_EXPORT absl::StatusOr<std::vector<SimulatedAttempt>> ReadScript(
    const std::string& path);

struct SimulationInput {
  std::vector<Arrival> arrivals;
  std::vector<SimulatedAttempt> script;
};

// Reads the arrivals of `events_path` and the script of `script_path` (none
// when empty) and checks every line as Simulate would take it (an arrival as
// Scheduler::Ingest would, and with an `at`), so that a bad line is refused
// before a simulation prints or stores anything. Errors name the file and
// line: "FILE:LINE: message".
LANDFALL_EXPORT absl::StatusOr<SimulationInput> ReadSimulationInput(
    std::shared_ptr<const Pipeline> pipeline, const std::string& events_path,
    const std::string& script_path);

// The script of `path` checked against `pipeline`, as ReadSimulationInput
// reads and checks it.
LANDFALL_EXPORT absl::StatusOr<std::vector<SimulatedAttempt>>
ReadSimulationScript(const Pipeline& pipeline, const std::string& path);

// The arrivals of an events file, read and checked as ReadSimulationInput
// reads and checks them but not held: reading keeps each arrival's time and
// place in the file (24 bytes), and a simulation reads the arrival again
// when its time comes. For files too large to hold as messages (a million
// arrivals take some 250 MB so).
class LANDFALL_EXPORT EventsFile {
 public:
  // Errors as ReadSimulationInput's for its events file.
  static absl::StatusOr<std::unique_ptr<EventsFile>> Read(
      std::shared_ptr<const Pipeline> pipeline, const std::string& path);
  ~EventsFile();
  EventsFile(const EventsFile&) = delete;
  EventsFile& operator=(const EventsFile&) = delete;

  const std::string& path() const;
  // The number of arrivals.
  size_t size() const;

  struct Rep;  // Internal.
  const Rep& rep() const { return *rep_; }

 private:
  explicit EventsFile(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

// Runs the simulation and writes one JSON object per line to `out`:
//   {"table","partition","attempt","claimed_at","finished_at","outcome"}
//     for each attempt when it finishes (times RFC 3339 UTC),
//   {"duplicate":"EVENT_ID"} for each duplicate arrival,
//   {"summary":{"attempts","succeeded","dead","blocked","makespan"}} last.
// At one instant it applies attempts finishing (in claim order), then
// arrivals (in list order, which breaks ties of `at`), then retry wake-ups
// and lease expiries, then claims until nothing more may start. Simulated
// workers heartbeat, so a lease expires only for an attempt whose script line
// says LEASE_EXPIRED. InvalidArgument for an arrival or script line the
// pipeline refuses.
LANDFALL_EXPORT absl::Status Simulate(
    std::shared_ptr<const Pipeline> pipeline,
    const std::vector<Arrival>& arrivals,
    const std::vector<SimulatedAttempt>& script,
    const SimulationOptions& options, std::ostream& out);

// As Simulate with the arrivals of `events`, read from its file as their
// time comes. DataLoss if the file no longer holds them (it changed since
// it was read); what was printed before stands.
LANDFALL_EXPORT absl::Status Simulate(
    std::shared_ptr<const Pipeline> pipeline, const EventsFile& events,
    const std::vector<SimulatedAttempt>& script,
    const SimulationOptions& options, std::ostream& out);

}  // namespace landfall
