// Durable scheduling on the SQLite store, beside a baseline of plain SQLite
// inserts of as many rows in one transaction, measured in the same run.
//
//   build/release/bench/store_bench
//
// BM_DurableEndToEnd/<batch>/<normal>: the 100k-table layered DAG driven as
// in scheduler_bench (ingest every source, then claim and complete until
// idle) with every operation a committed transaction of `batch` arrivals,
// claims or completions; synchronous FULL (0) or NORMAL (1). Runs of
// batches of 1 and 100 stop after a fixed number of transactions.
// Counters: transitions_per_s (history entries committed per second),
// ns_per_transition.
#include <sqlite3.h>

#include <chrono>
#include <limits>
#include <string>
#include <vector>

#include "bench/bench_pipelines.h"
#include "benchmark/benchmark.h"
#include "landfall/scheduler.h"
#include "landfall/state_store.h"

namespace landfall {
namespace {

std::string TempPath() { return bench::TempDatabasePath("store-bench"); }

void Report(benchmark::State& state, double seconds, double transitions) {
  state.counters["transitions_per_s"] = transitions / seconds;
  state.counters["ns_per_transition"] = seconds * 1e9 / transitions;
}

// Baseline: rows shaped like history entries (an integer key, a few columns
// and a 60-byte body) inserted with one reused statement in one transaction.
void BM_PlainSqliteInserts(benchmark::State& state) {
  const int rows = state.range(0);
  const std::string body(60, 'b');
  double seconds = 0;
  for (auto _ : state) {
    const std::string path = TempPath();
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE history (seq INTEGER PRIMARY KEY, at_ns "
                 "INTEGER, kind TEXT, table_name TEXT, partition_key TEXT, "
                 "body BLOB)",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* insert = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO history VALUES (?, ?, ?, ?, ?, ?)", -1,
                       &insert, nullptr);
    const auto start = std::chrono::steady_clock::now();
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (int i = 1; i <= rows; ++i) {
      sqlite3_bind_int64(insert, 1, i);
      sqlite3_bind_int64(insert, 2, i * 1000);
      sqlite3_bind_text(insert, 3, "claimed", -1, SQLITE_STATIC);
      sqlite3_bind_text(insert, 4, "l12.t345", -1, SQLITE_STATIC);
      sqlite3_bind_text(insert, 5, bench::kPartition, -1, SQLITE_STATIC);
      sqlite3_bind_blob(insert, 6, body.data(), body.size(), SQLITE_STATIC);
      sqlite3_step(insert);
      sqlite3_reset(insert);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    const double s = bench::Seconds(start);
    sqlite3_finalize(insert);
    sqlite3_close(db);
    bench::RemoveDatabase(path);
    seconds += s;
    state.SetIterationTime(s);
  }
  Report(state, seconds, static_cast<double>(rows) * state.iterations());
}
// 1M rows: the floor for `landfall ingest --events` of a million arrivals
// in its one transaction.
BENCHMARK(BM_PlainSqliteInserts)
    ->Arg(100000)
    ->Arg(1000000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_DurableEndToEnd(benchmark::State& state) {
  const int batch = state.range(0);
  const bool normal = state.range(1) == 1;
  // Batches of 1 and 100 would run for minutes to the end; they stop after
  // this many transactions.
  const int64_t max_transactions =
      batch < 1000 ? 2000 : std::numeric_limits<int64_t>::max();
  const auto pipeline = bench::Layered(100000);
  const std::vector<Arrival> arrivals = bench::SourceArrivals(*pipeline);
  SqliteStoreOptions store_options;
  store_options.synchronous = normal ? SqliteStoreOptions::Synchronous::kNormal
                                     : SqliteStoreOptions::Synchronous::kFull;
  double seconds = 0;
  double transitions = 0;
  for (auto _ : state) {
    const std::string path = TempPath();
    auto store = OpenSqliteStore(path, store_options);
    auto scheduler = Scheduler::Open(pipeline, *store);
    if (!store.ok() || !scheduler.ok()) {
      state.SkipWithError("cannot open the store");
      return;
    }
    Scheduler& s = **scheduler;
    const auto start = std::chrono::steady_clock::now();
    const bool ok =
        bench::DriveEndToEnd(s, arrivals, batch, max_transactions).ok();
    const double sec = bench::Seconds(start);
    if (!ok) {
      state.SkipWithError("an operation failed");
      return;
    }
    transitions += s.LastSequence();
    seconds += sec;
    state.SetIterationTime(sec);
    scheduler->reset();
    bench::RemoveDatabase(path);
  }
  Report(state, seconds, transitions);
}
BENCHMARK(BM_DurableEndToEnd)
    ->ArgsProduct({{1, 100, 1000}, {0, 1}})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace landfall

BENCHMARK_MAIN();
