// Writes the store fuzzer's seed corpus: the rows, snapshot and spec a real
// store holds after a short day of the fuzz pipeline (arrivals, claims,
// every outcome, pauses, a redrive and a deploy), framed as store_input.h
// says. Usage: landfall_store_seeds DIR
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "fuzz/fuzz_input.h"
#include "fuzz/fuzz_pipeline.h"
#include "fuzz/store_input.h"
#include "landfall/scheduler.h"
#include "landfall/state_store.h"
#include "lib/store/journal_row.h"

namespace {

using landfall::Outcome;
using landfall::Scheduler;

void Check(const absl::Status& status) {
  if (status.ok()) return;
  std::cerr << status << "\n";
  std::exit(1);
}

void Arrive(Scheduler& s, const std::string& id, const std::string& table,
            const std::string& partition) {
  landfall::Arrival arrival;
  arrival.set_event_id(id);
  arrival.set_table(table);
  arrival.set_partition(partition);
  arrival.set_origin("s3://lake/" + table + "/" + partition);
  (*arrival.mutable_attributes())["rows"] = "42";
  Check(s.Ingest(arrival).status());
}

// Claims what is ready and ends each attempt with the next of `outcomes`.
void ClaimAndComplete(Scheduler& s, const std::vector<Outcome>& outcomes) {
  auto claimed = s.Claim("worker-1", static_cast<int>(outcomes.size()));
  Check(claimed.status());
  for (size_t i = 0; i < claimed->size(); ++i) {
    const landfall::ClaimedTask& task = (*claimed)[i];
    (void)s.Heartbeat(task.task, task.attempt);
    Check(s.Complete(task.task, task.attempt, outcomes[i], "exit 1"));
  }
}

void Day(Scheduler& s) {
  Arrive(s, "e1", "src", "2018-11-03");
  Arrive(s, "e1", "src", "2018-11-03");  // A duplicate.
  Arrive(s, "e2", "dim", "");
  Arrive(s, "e3", "src", "2018-11-04");
  ClaimAndComplete(s, {Outcome::SUCCEEDED, Outcome::RETRYABLE});
  Check(s.PauseTable("any"));
  Check(s.PauseClass("adhoc"));
  ClaimAndComplete(s, {Outcome::FATAL, Outcome::SUCCEEDED});
  Check(s.ResumeTable("any"));
  Check(s.ResumeClass("adhoc"));
  for (const landfall::TaskStatus& dead : s.DeadLetter()) {
    Check(s.Redrive(dead.task));
  }
  ClaimAndComplete(
      s, {Outcome::SUCCEEDED, Outcome::SUCCEEDED, Outcome::LEASE_EXPIRED});
}

// The store's contents as a store fuzzer input.
std::string Frame(landfall::StateStore& store, uint8_t flags) {
  Check(store.Begin(landfall::StateStore::Access::kRead));
  landfall::fuzz::FuzzWriter out;
  out.Int(flags);
  if (flags & landfall::fuzz::kStoredSpecFollows) out.Bytes(**store.ReadSpec());
  if (flags & landfall::fuzz::kSnapshotFollows) {
    auto snapshot = store.ReadLatestSnapshot();
    Check(snapshot.status());
    out.Int((*snapshot)->seq);
    out.Bytes((*snapshot)->bytes);
  }
  std::vector<landfall::JournalEntry> entries;
  Check(store.ReadEntries(0, 1000, &entries));
  std::string body;
  for (const landfall::JournalEntry& entry : entries) {
    landfall::internal::SerializeJournalBody(entry, &body);
    out.Bytes(body);
    out.Int(entry.at_ns());
    out.Bytes(entry.table());
    out.Bytes(entry.partition());
  }
  store.Rollback();
  return out.data();
}

void Write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: landfall_store_seeds DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  const auto pipeline = landfall::fuzz::FuzzPipeline();
  namespace lf = landfall::fuzz;

  // A history replayed from its first entry.
  auto plain = landfall::NewMemoryStore();
  {
    auto s = Scheduler::Open(pipeline, plain);
    Check(s.status());
    Day(**s);
  }
  Write(dir + "/history", Frame(*plain, 0));
  Write(dir + "/history_open_with_pipeline",
        Frame(*plain, lf::kOpenWithPipeline));

  // Snapshots every few entries, and a deploy that adds a table.
  auto snapshots = landfall::NewMemoryStore();
  {
    landfall::SchedulerOptions options;
    options.snapshot_every_entries = 5;
    auto s = Scheduler::Open(pipeline, snapshots, options);
    Check(s.status());
    Day(**s);
    auto changed = landfall::Pipeline::FromText(
        std::string(lf::kFuzzSpec) +
            "table { name: \"extra\" upstream: \"src\" }",
        landfall::SpecFormat::kTextProto, "changed.textproto");
    Check(changed.status());
    Check((*s)->Deploy(*changed, landfall::DeployOptions()).status());
    Arrive(**s, "e4", "src", "2018-11-05");
    ClaimAndComplete(**s, {Outcome::SUCCEEDED, Outcome::RETRYABLE});
  }
  const uint8_t stored = lf::kStoredSpecFollows | lf::kSnapshotFollows;
  Write(dir + "/snapshot_and_deploy", Frame(*snapshots, stored));
  Write(dir + "/snapshot_and_deploy_open_with_pipeline",
        Frame(*snapshots, stored | lf::kOpenWithPipeline));
  return 0;
}
