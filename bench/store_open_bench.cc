// Opening a durable scheduler on the SQLite store, and catching up on what
// another process appended, each beside a plain SQLite read of the same rows
// measured in the same run (the ratio holds on a noisy machine).
//
//   build/release/bench/store_open_bench
//
// The fixture: bench::Layered(2000) (1,000 source and 1,000 derived tables)
// with 500 daily partitions: 1M task states ((table, partition): 500k source
// partitions and 500k tasks), every task READY. Its history: the days'
// partitions arrive, a day apart (1M entries: arrivals and tasks made
// ready); then rolling days (the oldest day's 1,000 tasks are claimed and
// built and its partitions delivered again, which makes them ready again:
// 4,000 entries, the state's shape unchanged) until `entries`, where the
// only snapshot is written; then 24 rolling days more (96k entries, just
// under the default 100k between snapshots: about the most an opening
// replays). From 3M entries on every task has been built, so the snapshots
// at 3M and 10M hold the same state; at 1M no task has been built yet (a
// fifth less to read).
//
// Each fixture is built once, through the scheduler with synchronous NORMAL
// and a day (1,000 to 2,000 entries) per operation, and kept as
// /tmp/landfall-open-fixture-v<format>-<version>-<entries>.db (0.1, 0.22
// and 0.65 GB) beside its build time in *.db.build_s (about 6 s, 13 s and
// 40 s); delete them to rebuild or to free the disk.
//
// BM_OpenDurable/entries:<n>/cold:<0|1>: OpenSqliteStore + Scheduler::Open
// on the fixture, with the file in the OS page cache or not (cold: its pages
// are dropped before the baseline and before the open).
// Counters: open_s; open_cpu_s, this thread's CPU time (wall time less
// waiting for a core or the disk); baseline_s, the snapshot and the
// entries after it read with plain SQLite; ratio (open / baseline);
// replayed_entries; history_entries; snapshot_mb; fixture_build_s.
//
// BM_CatchUp: scheduler A is open on a copy of the 1M-entry fixture; a
// second connection (another process's, in effect) appends 10,000 entries:
// two new days arrive (2,000 arrivals, 2,000 tasks made ready) and 3,000
// tasks are claimed and built (6,000 entries). Then A's LastSequence()
// catches up.
// Counters: ns_per_entry, cpu_ns_per_entry; baseline_ns_per_row, the same
// rows read with plain SQLite; ratio; entries (per catch-up).
#include <fcntl.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/bench_pipelines.h"
#include "benchmark/benchmark.h"
#include "landfall/clock.h"
#include "landfall/scheduler.h"
#include "landfall/state_store.h"
#include "landfall/version.h"

namespace landfall {
namespace {

// Bumped whenever the fixture's making or the state file's schema changes,
// so that a cached file from an older making is never read. 4: schema v3.
constexpr int kFixtureFormat = 4;
constexpr int kDays = 500;
// Days rebuilt after the snapshot: 4,000 entries each.
constexpr int kTailDays = 24;

std::shared_ptr<const Pipeline> FixturePipeline() {
  return bench::Layered(2000);
}

// Derived tables: the tasks of one day.
int TasksPerDay() {
  const Pipeline& pipeline = *FixturePipeline();
  int tasks = 0;
  for (TableId t = 0; t < pipeline.table_count(); ++t) {
    tasks += pipeline.table(t).source ? 0 : 1;
  }
  return tasks;
}

// A scheduler driven through the fixture's days on its own manual clock.
class Driver {
 public:
  // `name` keeps this driver's event ids apart from other drivers'.
  Driver(std::string name, absl::Time start)
      : name_(std::move(name)), clock_(start) {}

  // Opens the scheduler on `store`, writing a snapshot every
  // `snapshot_every` entries and never by time (the clock leaps by days).
  absl::Status Open(std::shared_ptr<StateStore> store, int64_t snapshot_every) {
    SchedulerOptions options;
    options.clock = &clock_;
    options.history_capacity = 1024;  // Measure the store, not a memory log.
    options.snapshot_every_entries = snapshot_every;
    options.snapshot_interval = absl::InfiniteDuration();
    absl::StatusOr<std::unique_ptr<Scheduler>> s =
        Scheduler::Open(FixturePipeline(), std::move(store), options);
    if (!s.ok()) return s.status();
    scheduler_ = *std::move(s);
    return absl::OkStatus();
  }
  Scheduler& scheduler() { return *scheduler_; }
  void Close() { scheduler_.reset(); }

  // A day later, `partitions` of every source arrive (again), in one
  // operation.
  absl::Status Deliver(const std::vector<std::string>& partitions) {
    clock_.Advance(absl::Hours(24));
    std::vector<Arrival> arrivals;
    for (const std::string& p : partitions) {
      std::vector<Arrival> day = bench::SourceArrivals(
          *FixturePipeline(), p, absl::StrCat(name_, ++deliveries_, "."));
      std::move(day.begin(), day.end(), std::back_inserter(arrivals));
    }
    return scheduler_->IngestBatch(arrivals).status();
  }

 private:
  const std::string name_;
  ManualClock clock_;
  std::unique_ptr<Scheduler> scheduler_;
  int64_t deliveries_ = 0;
};

// A plain, read-only SQLite connection to a state file, reading what the
// store reads.
class PlainReader {
 public:
  explicit PlainReader(const std::string& path) {
    sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr);
  }
  ~PlainReader() { sqlite3_close_v2(db_); }
  PlainReader(const PlainReader&) = delete;
  PlainReader& operator=(const PlainReader&) = delete;

  // Bytes of the newest snapshot, copied out as the store does; its entry
  // number in *seq (0 when there is none).
  size_t ReadSnapshot(int64_t* seq) {
    *seq = 0;
    std::string bytes;
    Query("SELECT seq, body FROM snapshots ORDER BY seq DESC LIMIT 1", 0,
          [&](sqlite3_stmt* q) {
            *seq = sqlite3_column_int64(q, 0);
            bytes.assign(static_cast<const char*>(sqlite3_column_blob(q, 1)),
                         sqlite3_column_bytes(q, 1));
          });
    return bytes.size();
  }

  // Reads the bodies of the entries after `after_seq` in order; counts them
  // in *rows. Returns their bytes.
  size_t ReadEntries(int64_t after_seq, int64_t* rows) {
    size_t bytes = 0;
    *rows = 0;
    Query("SELECT body FROM history WHERE seq > ? ORDER BY seq", after_seq,
          [&](sqlite3_stmt* q) {
            const void* body = sqlite3_column_blob(q, 0);
            bytes += body == nullptr ? 0 : sqlite3_column_bytes(q, 0);
            ++*rows;
          });
    return bytes;
  }

  // The last entry's number.
  int64_t LastSequence() {
    int64_t last = 0;
    Query("SELECT max(seq) FROM history", 0,
          [&](sqlite3_stmt* q) { last = sqlite3_column_int64(q, 0); });
    return last;
  }

 private:
  // Runs `sql` with its parameter (if any) bound to `arg`, calling `row` on
  // each row, in one read transaction.
  template <typename Row>
  void Query(const char* sql, int64_t arg, Row row) {
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &q, nullptr) != SQLITE_OK) return;
    if (sqlite3_bind_parameter_count(q) > 0) sqlite3_bind_int64(q, 1, arg);
    while (sqlite3_step(q) == SQLITE_ROW) row(q);
    sqlite3_finalize(q);
  }

  sqlite3* db_ = nullptr;
};

// CPU time of the calling thread: beside wall time, it tells work from
// waiting for a core on a busy machine.
double ThreadCpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// Drops a state file's pages from the OS page cache (they are clean), so
// that the next open reads it from the disk.
void EvictFromPageCache(const std::string& path) {
  for (const char* suffix : {"", "-wal"}) {
    const int fd = open((path + suffix).c_str(), O_RDONLY);
    if (fd < 0) continue;
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
  }
}

struct Fixture {
  std::string path;
  int64_t snapshot_seq = 0;
  int64_t last_seq = 0;
  size_t snapshot_bytes = 0;
  double build_s = 0;  // When it was built, in this process or before.
};

// Builds the fixture with its snapshot at `entries` (or the first commit
// after) at `path`.
absl::Status Build(const std::string& path, int64_t entries) {
  SqliteStoreOptions store_options;
  store_options.synchronous = SqliteStoreOptions::Synchronous::kNormal;
  absl::StatusOr<std::shared_ptr<StateStore>> store =
      OpenSqliteStore(path, store_options);
  if (!store.ok()) return store.status();
  Driver driver(
      "b", absl::FromCivil(absl::CivilDay(2017, 1, 1), absl::UTCTimeZone()));
  if (absl::Status s = driver.Open(*std::move(store), entries); !s.ok()) {
    return s;
  }
  for (int day = 0; day < kDays; ++day) {
    if (absl::Status s = driver.Deliver({bench::DayPartition(day)}); !s.ok()) {
      return s;
    }
  }
  // Builds the oldest day's tasks (they became ready together, before any
  // other day's) and delivers that day again.
  const auto roll = [&]() -> absl::Status {
    absl::StatusOr<std::vector<TaskKey>> built =
        bench::ClaimAndComplete(driver.scheduler(), TasksPerDay());
    if (!built.ok()) return built.status();
    if (built->size() != static_cast<size_t>(TasksPerDay()) ||
        std::any_of(built->begin(), built->end(), [&](const TaskKey& t) {
          return t.partition != built->front().partition;
        })) {
      return absl::InternalError("the oldest ready tasks are not one day's");
    }
    return driver.Deliver({built->front().partition});
  };
  while (driver.scheduler().LastSequence() < entries) {
    if (absl::Status s = roll(); !s.ok()) return s;
  }
  for (int day = 0; day < kTailDays; ++day) {
    if (absl::Status s = roll(); !s.ok()) return s;
  }
  ListFilter ready;
  ready.state = TaskState::kReady;
  const size_t count = driver.scheduler().List(ready).tasks.size();
  if (count != static_cast<size_t>(kDays) * TasksPerDay()) {
    return absl::InternalError(
        absl::StrCat(count, " tasks are ready, not ", kDays * TasksPerDay()));
  }
  return absl::OkStatus();
}

// The fixture with about `entries` entries up to its snapshot: read from
// its cache file, or built there. Null (and the benchmark skipped) when it
// cannot be built.
const Fixture* GetFixture(benchmark::State& state, int64_t entries) {
  static auto* fixtures = new std::map<int64_t, Fixture>;
  if (auto it = fixtures->find(entries); it != fixtures->end()) {
    return &it->second;
  }
  Fixture f;
  f.path = absl::StrCat("/tmp/landfall-open-fixture-v", kFixtureFormat, "-",
                        Version(), "-", entries, ".db");
  const std::string build_s_path = f.path + ".build_s";
  const auto read_file = [&] {
    PlainReader reader(f.path);
    f.snapshot_bytes = reader.ReadSnapshot(&f.snapshot_seq);
    f.last_seq = reader.LastSequence();
    std::ifstream(build_s_path) >> f.build_s;
  };
  if (std::filesystem::exists(f.path)) read_file();
  if (f.snapshot_seq < entries || f.build_s <= 0) {
    const std::string building = f.path + ".building";
    bench::RemoveDatabase(building);
    std::fprintf(stderr, "building %s ...\n", f.path.c_str());
    const auto start = std::chrono::steady_clock::now();
    if (absl::Status s = Build(building, entries); !s.ok()) {
      bench::RemoveDatabase(building);
      state.SkipWithError(
          absl::StrCat("cannot build the fixture: ", s.message()).c_str());
      return nullptr;
    }
    const double build_s = bench::Seconds(start);
    // Closing the last connection checkpointed the WAL into the file.
    bench::RemoveDatabase(f.path);
    std::filesystem::rename(building, f.path);
    std::ofstream(build_s_path) << build_s << "\n";
    std::fprintf(stderr, "built in %.1f s\n", build_s);
    read_file();
  }
  return &fixtures->emplace(entries, f).first->second;
}

void BM_OpenDurable(benchmark::State& state) {
  const Fixture* f = GetFixture(state, state.range(0));
  if (f == nullptr) return;
  const bool cold = state.range(1) == 1;
  SqliteStoreOptions existing;
  existing.create = false;
  double open_s = 0;
  double open_cpu_s = 0;
  double baseline_s = 0;
  for (auto _ : state) {
    if (cold) EvictFromPageCache(f->path);
    auto start = std::chrono::steady_clock::now();
    {
      PlainReader reader(f->path);
      int64_t seq = 0;
      int64_t rows = 0;
      benchmark::DoNotOptimize(reader.ReadSnapshot(&seq));
      benchmark::DoNotOptimize(reader.ReadEntries(seq, &rows));
    }
    baseline_s += bench::Seconds(start);
    if (cold) EvictFromPageCache(f->path);
    start = std::chrono::steady_clock::now();
    const double cpu_start = ThreadCpuSeconds();
    absl::StatusOr<std::shared_ptr<StateStore>> store =
        OpenSqliteStore(f->path, existing);
    absl::StatusOr<std::unique_ptr<Scheduler>> scheduler =
        store.ok() ? Scheduler::Open(FixturePipeline(), *store)
                   : store.status();
    const double s = bench::Seconds(start);
    open_cpu_s += ThreadCpuSeconds() - cpu_start;
    if (!scheduler.ok()) {
      state.SkipWithError(absl::StrCat("cannot open ", f->path,
                                       " (delete it to rebuild): ",
                                       scheduler.status().message())
                              .c_str());
      return;
    }
    if ((*scheduler)->LastSequence() != f->last_seq) {
      state.SkipWithError("the opened scheduler is not at the last entry");
      return;
    }
    open_s += s;
    state.SetIterationTime(s);
  }
  const double n = state.iterations();
  state.counters["open_s"] = open_s / n;
  state.counters["open_cpu_s"] = open_cpu_s / n;
  state.counters["baseline_s"] = baseline_s / n;
  state.counters["ratio"] = open_s / baseline_s;
  state.counters["replayed_entries"] = f->last_seq - f->snapshot_seq;
  state.counters["history_entries"] = f->last_seq;
  state.counters["snapshot_mb"] = f->snapshot_bytes / 1e6;
  state.counters["fixture_build_s"] = f->build_s;
}
BENCHMARK(BM_OpenDurable)
    ->ArgNames({"entries", "cold"})
    ->ArgsProduct({{1000000, 3000000, 10000000}, {0, 1}})
    ->Iterations(5)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// Copies an SQLite file with its WAL, if any, to `to`.
void CopyDatabase(const std::string& from, const std::string& to) {
  for (const char* suffix : {"", "-wal"}) {
    if (std::filesystem::exists(from + suffix)) {
      std::filesystem::copy_file(
          from + suffix, to + suffix,
          std::filesystem::copy_options::overwrite_existing);
    }
  }
}

void BM_CatchUp(benchmark::State& state) {
  const Fixture* f = GetFixture(state, 1000000);
  if (f == nullptr) return;
  const std::string path = bench::TempDatabasePath("catch-up");
  CopyDatabase(f->path, path);
  absl::StatusOr<std::shared_ptr<StateStore>> store_a = OpenSqliteStore(path);
  absl::StatusOr<std::unique_ptr<Scheduler>> a =
      store_a.ok() ? Scheduler::Open(FixturePipeline(), *store_a)
                   : store_a.status();
  absl::StatusOr<std::shared_ptr<StateStore>> store_b = OpenSqliteStore(path);
  if (!a.ok() || !store_b.ok()) {
    state.SkipWithError("cannot open the copy of the fixture");
    bench::RemoveDatabase(path);
    return;
  }
  Scheduler& scheduler = **a;
  int64_t seen = scheduler.LastSequence();
  // B's clock goes on from the fixture's last entry.
  Driver b("c", scheduler.ReadHistory(seen, 1).value().at(0).at);
  // B writes no snapshot: that is B's cost, not A's catch-up.
  if (!b.Open(*store_b, std::numeric_limits<int64_t>::max()).ok()) {
    state.SkipWithError("cannot open the second scheduler");
    bench::RemoveDatabase(path);
    return;
  }
  PlainReader reader(path);
  double catch_up_s = 0;
  double catch_up_cpu_s = 0;
  double baseline_s = 0;
  int64_t entries = 0;
  int next_day = kDays;
  for (auto _ : state) {
    absl::Status status = b.Deliver(
        {bench::DayPartition(next_day), bench::DayPartition(next_day + 1)});
    next_day += 2;
    if (status.ok()) {
      status =
          bench::ClaimAndComplete(b.scheduler(), 3 * TasksPerDay()).status();
    }
    if (!status.ok()) {
      state.SkipWithError(absl::StrCat("B failed: ", status.message()).c_str());
      break;
    }
    auto start = std::chrono::steady_clock::now();
    const double cpu_start = ThreadCpuSeconds();
    const int64_t last = scheduler.LastSequence();
    const double s = bench::Seconds(start);
    catch_up_cpu_s += ThreadCpuSeconds() - cpu_start;
    start = std::chrono::steady_clock::now();
    int64_t rows = 0;
    benchmark::DoNotOptimize(reader.ReadEntries(seen, &rows));
    baseline_s += bench::Seconds(start);
    if (rows != last - seen) {
      state.SkipWithError("A did not catch up on every entry");
      break;
    }
    entries += last - seen;
    seen = last;
    catch_up_s += s;
    state.SetIterationTime(s);
  }
  if (entries > 0) {
    state.counters["ns_per_entry"] = catch_up_s * 1e9 / entries;
    state.counters["cpu_ns_per_entry"] = catch_up_cpu_s * 1e9 / entries;
    state.counters["baseline_ns_per_row"] = baseline_s * 1e9 / entries;
    state.counters["ratio"] = catch_up_s / baseline_s;
    state.counters["entries"] =
        static_cast<double>(entries) / state.iterations();
  }
  b.Close();
  a->reset();
  bench::RemoveDatabase(path);
}
BENCHMARK(BM_CatchUp)
    ->Iterations(30)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace landfall

BENCHMARK_MAIN();
