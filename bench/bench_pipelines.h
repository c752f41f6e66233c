// Pipelines, arrivals, workers and scratch files the benchmarks share.
#pragma once

#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "landfall/pipeline.h"
#include "landfall/records.pb.h"
#include "landfall/scheduler.h"
#include "lib/testing/synthetic_pipeline.h"

namespace landfall::bench {

inline constexpr char kPartition[] = "2018-11-03";

// Layered DAGs of width 1,000, each table reading 4 random tables of the
// layer before, in one unlimited pool; built once per size.
inline std::shared_ptr<const Pipeline> Layered(int tables) {
  static auto* cache = new std::map<int, std::shared_ptr<const Pipeline>>;
  auto& pipeline = (*cache)[tables];
  if (pipeline == nullptr) {
    testing::LayeredPipelineOptions options;
    options.tables = tables;
    options.width = 1000;
    options.pools = 0;  // One unlimited pool: measure the scheduler, not waits.
    pipeline = *Pipeline::FromSpec(testing::MakeLayeredPipelineSpec(options));
  }
  return pipeline;
}

// One arrival of `partition` per source table, with event ids
// <event_prefix><table id>.
inline std::vector<Arrival> SourceArrivals(const Pipeline& pipeline,
                                           absl::string_view partition,
                                           absl::string_view event_prefix) {
  std::vector<Arrival> arrivals;
  for (TableId t = 0; t < pipeline.table_count(); ++t) {
    if (!pipeline.table(t).source) continue;
    Arrival a;
    a.set_event_id(absl::StrCat(event_prefix, t));
    a.set_table(pipeline.table(t).name);
    a.set_partition(std::string(partition));
    arrivals.push_back(std::move(a));
  }
  return arrivals;
}

// One arrival of partition kPartition per source table.
inline std::vector<Arrival> SourceArrivals(const Pipeline& pipeline) {
  return SourceArrivals(pipeline, kPartition, "e");
}

// The daily partition `day` days after 2017-01-01: "2017-01-01" and on.
inline std::string DayPartition(int day) {
  return absl::FormatCivilTime(absl::CivilDay(2017, 1, 1) + day);
}

// Claims up to `max` tasks for worker "bench" and completes them all as
// SUCCEEDED: the tasks built, none when nothing was ready. Errors: the
// first failed operation's.
inline absl::StatusOr<std::vector<TaskKey>> ClaimAndComplete(Scheduler& s,
                                                             int max) {
  absl::StatusOr<std::vector<ClaimedTask>> claimed = s.Claim("bench", max);
  if (!claimed.ok()) return claimed.status();
  std::vector<Scheduler::Completion> completions;
  completions.reserve(claimed->size());
  for (ClaimedTask& t : *claimed) {
    completions.push_back(Scheduler::Completion{
        std::move(t.task), t.id, t.attempt, Outcome::SUCCEEDED, ""});
  }
  std::vector<TaskKey> built;
  built.reserve(completions.size());
  if (completions.empty()) return built;
  for (const absl::Status& status : s.CompleteBatch(completions)) {
    if (!status.ok()) return status;
  }
  for (Scheduler::Completion& c : completions) {
    built.push_back(std::move(c.task));
  }
  return built;
}

// Drives a durable scheduler through a whole run: every arrival ingested,
// then claims and completions until nothing is ready, each operation one
// transaction of up to `batch` items; stops early after `max_transactions`.
// Errors: the first failed operation's.
inline absl::Status DriveEndToEnd(Scheduler& s,
                                  const std::vector<Arrival>& arrivals,
                                  int batch, int64_t max_transactions) {
  int64_t transactions = 0;
  for (size_t i = 0; i < arrivals.size() && transactions < max_transactions;
       i += batch, ++transactions) {
    const size_t n = std::min<size_t>(batch, arrivals.size() - i);
    absl::Status st =
        s.IngestBatch(absl::MakeConstSpan(&arrivals[i], n)).status();
    if (!st.ok()) return st;
  }
  while (transactions < max_transactions) {
    absl::StatusOr<std::vector<TaskKey>> built = ClaimAndComplete(s, batch);
    if (!built.ok()) return built.status();
    if (built->empty()) break;
    transactions += 2;
  }
  return absl::OkStatus();
}

// Seconds from `since` to now.
inline double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since)
      .count();
}

// A fresh path /tmp/landfall-<name>-<pid>-<n>.db for an SQLite file.
inline std::string TempDatabasePath(absl::string_view name) {
  static int counter = 0;
  return absl::StrCat("/tmp/landfall-", name, "-", getpid(), "-", ++counter,
                      ".db");
}

// Removes an SQLite file with its WAL and shared-memory files.
inline void RemoveDatabase(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-queue"}) {
    unlink((path + suffix).c_str());
  }
}

}  // namespace landfall::bench
