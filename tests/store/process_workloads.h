// What the children of the process tests run: the pipelines, the
// workloads, the facts they report for each acknowledged operation, and a
// child's life (open the store, say ready, wait for go, work).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "landfall/history.h"
#include "landfall/pipeline.h"
#include "landfall/scheduler.h"
#include "landfall/state_store.h"

// Children of a sanitized build start and run several times slower.
#if defined(__SANITIZE_ADDRESS__)
#define LANDFALL_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LANDFALL_TEST_SANITIZED 1
#endif
#endif

namespace landfall::testing {

#ifdef LANDFALL_TEST_SANITIZED
inline constexpr int kSlowdown = 2;
#else
inline constexpr int kSlowdown = 1;
#endif

// What a child reports once its scheduler is open.
inline constexpr char kReady[] = "ready";
inline constexpr int kConcurrencyPartitions = 12;

std::string Partition(int i);

// What children report and what history entries record, in one form, so
// that the reports can be found in the history.
std::string TaskName(absl::string_view table, absl::string_view partition);
// The fact an entry records, if a child can report it.
std::optional<std::string> FactOf(const HistoryEntry& e);

// The pipeline of a workload: "crash", "faults" (the crash workload, taking
// Unavailable calls in its stride) or "concurrency".
absl::StatusOr<std::shared_ptr<const Pipeline>> PipelineOf(
    absl::string_view mode);

// The store at `address`: a PostgreSQL URI (postgresql://...) or a SQLite
// file's path, with synchronous FULL or NORMAL drawn from `rng` (FULL when
// null).
absl::StatusOr<std::shared_ptr<StateStore>> OpenStoreAt(
    const std::string& address, std::mt19937_64* rng);

// A child's main.
int RunChild(int argc, char** argv);

}  // namespace landfall::testing
