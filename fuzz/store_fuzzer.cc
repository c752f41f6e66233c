// Fuzzes decoding what a store holds: the journal rows (ParseJournalRow, as
// the SQLite and PostgreSQL stores decode them), the snapshot and the spec,
// then opening a scheduler on a store holding them. A corrupt store must
// give an error (DataLoss for what cannot be decoded), never a crash. The
// input format is in store_input.h.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "fuzz/fuzz_pipeline.h"
#include "fuzz/store_input.h"
#include "landfall/scheduler.h"
#include "landfall/state_store.h"
#include "lib/store/journal_row.h"

namespace {

constexpr int kMaxRows = 256;

// Whatever the scheduler opened on the store, queries and one write.
void Exercise(landfall::Scheduler& scheduler) {
  (void)scheduler.DebugState();
  (void)scheduler.List();
  (void)scheduler.ReadHistory(0, 1000);
  (void)scheduler.Poll();
  absl::StatusOr<std::vector<landfall::ClaimedTask>> claimed =
      scheduler.Claim("fuzz", 4);
  if (!claimed.ok()) return;
  for (const landfall::ClaimedTask& task : *claimed) {
    (void)scheduler.Complete(task.task, task.attempt,
                             landfall::Outcome::RETRYABLE, "fuzz");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  landfall::fuzz::FuzzReader in(data, size);
  const uint8_t flags = in.Int<uint8_t>();
  const std::shared_ptr<const landfall::Pipeline> pipeline =
      landfall::fuzz::FuzzPipeline();

  std::shared_ptr<landfall::StateStore> store = landfall::NewMemoryStore();
  if (!store->Begin(landfall::StateStore::Access::kWrite).ok()) return 0;
  const std::string spec = (flags & landfall::fuzz::kStoredSpecFollows)
                               ? in.Bytes()
                               : pipeline->spec().SerializeAsString();
  (void)store->WriteSpec(spec);
  if (flags & landfall::fuzz::kSnapshotFollows) {
    landfall::StoredSnapshot snapshot;
    snapshot.seq = in.Int<int64_t>();
    snapshot.bytes = in.Bytes();
    (void)store->WriteSnapshot(snapshot);
  }
  std::vector<landfall::JournalEntry> entries;
  while (!in.empty() && entries.size() < kMaxRows) {
    const std::string body = in.Bytes();
    const int64_t at_ns = in.Int<int64_t>();
    const std::string table = in.Bytes();
    const std::string partition = in.Bytes();
    landfall::JournalEntry entry;
    const int64_t seq = static_cast<int64_t>(entries.size()) + 1;
    // A row that cannot be decoded makes the SQL stores fail with
    // DataLoss; the rest of the input still fuzzes the ones that can.
    if (!landfall::internal::ParseJournalRow(body, seq, at_ns, table, partition,
                                             &entry)) {
      continue;
    }
    entries.push_back(std::move(entry));
  }
  (void)store->AppendEntries(entries);
  if (!store->Commit().ok()) return 0;

  absl::StatusOr<std::unique_ptr<landfall::Scheduler>> scheduler =
      (flags & landfall::fuzz::kOpenWithPipeline)
          ? landfall::Scheduler::Open(pipeline, store)
          : landfall::Scheduler::Open(store);
  if (scheduler.ok()) Exercise(**scheduler);
  return 0;
}
