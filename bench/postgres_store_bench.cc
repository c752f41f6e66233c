// Durable scheduling on the PostgreSQL store, beside a baseline of plain
// multi-row INSERTs of as many rows into a bare table, measured in the same
// run on the same server.
//
//   eval "$(bash .ci/postgres start && bash .ci/postgres env)"
//   build/release/bench/postgres_store_bench
//
// The server is LANDFALL_TEST_POSTGRES's (a conninfo); each benchmark works
// in a schema of its own, dropped afterwards.
//
// BM_PlainPostgresInserts/<rows>: rows shaped like history entries (two
// bigints, a kind, a table and partition name, a 60-byte body) inserted by
// multi-row INSERTs of 1,000 rows, in one transaction.
// BM_PostgresDurableEndToEnd/<batch>: as store_bench's BM_DurableEndToEnd
// (the 100k-table layered DAG; every operation a committed transaction of
// `batch` arrivals, claims or completions); batches of 1 and 100 stop after
// 2,000 transactions.
// Counters: transitions_per_s (history entries committed per second),
// ns_per_transition.
//
// BM_PostgresCatchUp: scheduler A is open; scheduler B, on another
// connection (another host, in effect), ingests 5,000 arrivals and builds
// the tasks they make ready; then A's LastSequence() catches up.
// Counters: ns_per_entry; baseline_ns_per_row (the same rows read with a
// plain SELECT); entries.
//
// BM_PostgresOpen/<history>: Scheduler::Open on a store holding 1M task
// states (bench::Layered(2000), 500 daily partitions: 500k source
// partitions and 500k tasks) and `history` entries: the days delivered
// (1M entries), then days rebuilt and delivered again, with a snapshot
// 50,000 entries before the end. Fixtures are built once per server, in
// schemas bench_open_v1_<history>, and kept (drop them to rebuild).
// Counters: open_s, history_entries, snapshot_mb, fixture_build_s.
#include <libpq-fe.h>

#include <chrono>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/bench_pipelines.h"
#include "benchmark/benchmark.h"
#include "landfall/clock.h"
#include "landfall/scheduler.h"
#include "landfall/state_store.h"

namespace landfall {
namespace {

std::string Server() {
  const char* v = std::getenv("LANDFALL_TEST_POSTGRES");
  return v != nullptr ? v : "";
}

// A plain libpq connection to the server, for the baselines and cleanup.
class Plain {
 public:
  Plain() : conn_(PQconnectdb(Server().c_str())) {
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
  }
  ~Plain() { PQfinish(conn_); }
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  PGconn* get() { return conn_; }
  // Runs `sql`; false on error.
  bool Exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const ExecStatusType s = PQresultStatus(r);
    PQclear(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
  }
  // The first value of `sql`'s first row, or "".
  std::string Value(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    std::string v = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return v;
  }

 private:
  PGconn* conn_;
};

std::string NewSchema(const char* name) {
  static int counter = 0;
  return absl::StrCat("bench_", name, "_", getpid(), "_", ++counter);
}

std::string StoreUri(const std::string& schema) {
  const std::string server = Server();
  return absl::StrCat(server, server.find('?') == std::string::npos ? "?" : "&",
                      "schema=", schema);
}

void DropSchema(const std::string& schema) {
  Plain plain;
  plain.Exec(absl::StrCat("DROP SCHEMA IF EXISTS ", schema, " CASCADE"));
}

bool NeedServer(benchmark::State& state) {
  if (!Server().empty() && Plain().ok()) return true;
  state.SkipWithError(
      "no PostgreSQL server: eval \"$(bash .ci/postgres start && bash "
      ".ci/postgres env)\"");
  return false;
}

void Report(benchmark::State& state, double seconds, double transitions) {
  state.counters["transitions_per_s"] = transitions / seconds;
  state.counters["ns_per_transition"] = seconds * 1e9 / transitions;
}

void BM_PlainPostgresInserts(benchmark::State& state) {
  if (!NeedServer(state)) return;
  const int rows = state.range(0);
  constexpr int kPerStatement = 1000;
  const std::string body(60, 'b');
  double seconds = 0;
  for (auto _ : state) {
    const std::string schema = NewSchema("plain");
    Plain plain;
    plain.Exec(absl::StrCat("CREATE SCHEMA ", schema, "; CREATE TABLE ", schema,
                            ".history (seq bigint PRIMARY KEY, at_ns bigint, "
                            "kind text, table_name bytea, partition_key "
                            "bytea, body bytea)"));
    std::string sql = absl::StrCat("INSERT INTO ", schema, ".history VALUES ");
    for (int i = 0; i < kPerStatement; ++i) {
      const int p = i * 6;
      absl::StrAppend(&sql, i == 0 ? "" : ", ", "($", p + 1, "::bigint, $",
                      p + 2, "::bigint, $", p + 3, ", $", p + 4, "::bytea, $",
                      p + 5, "::bytea, $", p + 6, "::bytea)");
    }
    PQclear(PQprepare(plain.get(), "insert", sql.c_str(), 0, nullptr));
    std::vector<std::string> text(kPerStatement * 6);
    std::vector<const char*> values(kPerStatement * 6);
    const auto start = std::chrono::steady_clock::now();
    plain.Exec("BEGIN");
    for (int first = 1; first <= rows; first += kPerStatement) {
      for (int i = 0; i < kPerStatement; ++i) {
        const int seq = first + i;
        text[i * 6] = absl::StrCat(seq);
        text[i * 6 + 1] = absl::StrCat(int64_t{seq} * 1000);
        text[i * 6 + 2] = "claimed";
        text[i * 6 + 3] = "l12.t345";
        text[i * 6 + 4] = bench::kPartition;
        text[i * 6 + 5] = body;
        for (int c = 0; c < 6; ++c) values[i * 6 + c] = text[i * 6 + c].c_str();
      }
      PQclear(PQexecPrepared(plain.get(), "insert", kPerStatement * 6,
                             values.data(), nullptr, nullptr, 0));
    }
    plain.Exec("COMMIT");
    const double s = bench::Seconds(start);
    if (plain.Value(absl::StrCat("SELECT count(*) FROM ", schema,
                                 ".history")) != absl::StrCat(rows)) {
      state.SkipWithError("the inserts failed");
    }
    plain.Exec(absl::StrCat("DROP SCHEMA ", schema, " CASCADE"));
    seconds += s;
    state.SetIterationTime(s);
  }
  Report(state, seconds, static_cast<double>(rows) * state.iterations());
}
BENCHMARK(BM_PlainPostgresInserts)
    ->Arg(100000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_PostgresDurableEndToEnd(benchmark::State& state) {
  if (!NeedServer(state)) return;
  const int batch = state.range(0);
  const int64_t max_transactions =
      batch < 1000 ? 2000 : std::numeric_limits<int64_t>::max();
  const auto pipeline = bench::Layered(100000);
  const std::vector<Arrival> arrivals = bench::SourceArrivals(*pipeline);
  double seconds = 0;
  double transitions = 0;
  for (auto _ : state) {
    const std::string schema = NewSchema("e2e");
    auto store = OpenStateStore(StoreUri(schema));
    auto scheduler =
        store.ok() ? Scheduler::Open(pipeline, *store) : store.status();
    if (!scheduler.ok()) {
      state.SkipWithError(scheduler.status().ToString().c_str());
      return;
    }
    Scheduler& s = **scheduler;
    const auto start = std::chrono::steady_clock::now();
    const absl::Status status =
        bench::DriveEndToEnd(s, arrivals, batch, max_transactions);
    const double sec = bench::Seconds(start);
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return;
    }
    transitions += s.LastSequence();
    seconds += sec;
    state.SetIterationTime(sec);
    scheduler->reset();
    DropSchema(schema);
  }
  Report(state, seconds, transitions);
}
BENCHMARK(BM_PostgresDurableEndToEnd)
    ->Arg(1)
    ->Arg(100)
    ->Arg(1000)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_PostgresCatchUp(benchmark::State& state) {
  if (!NeedServer(state)) return;
  const auto pipeline = bench::Layered(10000);  // 5,000 sources.
  const std::vector<Arrival> arrivals = bench::SourceArrivals(*pipeline);
  double seconds = 0, baseline = 0, entries = 0;
  for (auto _ : state) {
    const std::string schema = NewSchema("catchup");
    auto a = Scheduler::Open(pipeline, *OpenStateStore(StoreUri(schema)));
    auto b = Scheduler::Open(pipeline, *OpenStateStore(StoreUri(schema)));
    if (!a.ok() || !b.ok()) {
      state.SkipWithError("cannot open the schedulers");
      return;
    }
    const int64_t before = (*a)->LastSequence();
    if (!bench::DriveEndToEnd(**b, arrivals, 1000, 10).ok()) {
      state.SkipWithError("an operation failed");
      return;
    }
    const auto start = std::chrono::steady_clock::now();
    const int64_t after = (*a)->LastSequence();
    const double s = bench::Seconds(start);
    // The same rows, read plainly.
    Plain plain;
    const auto plain_start = std::chrono::steady_clock::now();
    PQclear(PQexec(
        plain.get(),
        absl::StrCat("SELECT body, seq, at_ns, table_name, "
                     "partition_key FROM ",
                     schema, ".history WHERE seq > ", before, " ORDER BY seq")
            .c_str()));
    baseline += bench::Seconds(plain_start);
    seconds += s;
    entries += static_cast<double>(after - before);
    state.SetIterationTime(s);
    a->reset();
    b->reset();
    DropSchema(schema);
  }
  state.counters["ns_per_entry"] = seconds * 1e9 / entries;
  state.counters["baseline_ns_per_row"] = baseline * 1e9 / entries;
  state.counters["entries"] = entries / state.iterations();
}
BENCHMARK(BM_PostgresCatchUp)
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// ---- Opening 1M task states.

constexpr int kDays = 500;

// Builds the fixture with `history` entries in `schema`: see the top.
absl::Status BuildOpenFixture(const std::string& schema, int64_t history) {
  const auto pipeline = bench::Layered(2000);
  ManualClock clock(
      absl::FromCivil(absl::CivilDay(2017, 1, 1), absl::UTCTimeZone()));
  SchedulerOptions options;
  options.clock = &clock;
  options.history_capacity = 1024;
  options.snapshot_every_entries = std::numeric_limits<int64_t>::max();
  options.snapshot_interval = absl::InfiniteDuration();
  PostgresStoreOptions store_options;
  store_options.schema = schema;
  store_options.synchronous_commit =
      PostgresStoreOptions::SynchronousCommit::kOff;  // A fixture.
  auto store = OpenPostgresStore(Server(), store_options);
  if (!store.ok()) return store.status();
  auto scheduler = Scheduler::Open(pipeline, *store, options);
  if (!scheduler.ok()) return scheduler.status();
  Scheduler& s = **scheduler;
  int deliveries = 0;
  const auto deliver = [&](const std::string& partition) {
    clock.Advance(absl::Hours(24));
    return s
        .IngestBatch(bench::SourceArrivals(
            *pipeline, partition, absl::StrCat("d", ++deliveries, ".")))
        .status();
  };
  for (int day = 0; day < kDays; ++day) {
    if (absl::Status st = deliver(bench::DayPartition(day)); !st.ok()) {
      return st;
    }
  }
  // The oldest day's tasks built, and that day delivered again: the
  // state's shape stays, the history grows.
  bool snapshot = false;
  while (s.LastSequence() < history) {
    if (!snapshot && s.LastSequence() >= history - 50000) {
      if (absl::Status st = s.Checkpoint(); !st.ok()) return st;
      snapshot = true;
    }
    absl::StatusOr<std::vector<TaskKey>> built =
        bench::ClaimAndComplete(s, 1000);
    if (!built.ok()) return built.status();
    if (built->empty()) return absl::InternalError("nothing to build");
    if (absl::Status st = deliver(built->front().partition); !st.ok()) {
      return st;
    }
  }
  if (!snapshot) return s.Checkpoint();
  return absl::OkStatus();
}

void BM_PostgresOpen(benchmark::State& state) {
  if (!NeedServer(state)) return;
  const int64_t history = state.range(0);
  const std::string schema = absl::StrCat("bench_open_v1_", history);
  Plain plain;
  const std::string built_s_query =
      absl::StrCat("SELECT obj_description('", schema, "'::regnamespace)");
  double build_s = 0;
  if (plain.Value(absl::StrCat("SELECT count(*) FROM pg_namespace WHERE "
                               "nspname = '",
                               schema, "'")) == "1") {
    build_s = std::atof(plain.Value(built_s_query).c_str());
  }
  if (build_s <= 0) {
    DropSchema(schema);
    const auto start = std::chrono::steady_clock::now();
    if (absl::Status s = BuildOpenFixture(schema, history); !s.ok()) {
      DropSchema(schema);
      state.SkipWithError(s.ToString().c_str());
      return;
    }
    build_s = bench::Seconds(start);
    // Kept with the fixture: its build time.
    plain.Exec(
        absl::StrCat("COMMENT ON SCHEMA ", schema, " IS '", build_s, "'"));
  }
  double seconds = 0;
  int64_t last = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    auto store = OpenStateStore(StoreUri(schema));
    auto scheduler = store.ok() ? Scheduler::Open(*store) : store.status();
    const double s = bench::Seconds(start);
    if (!scheduler.ok()) {
      state.SkipWithError(scheduler.status().ToString().c_str());
      return;
    }
    last = (*scheduler)->LastSequence();
    seconds += s;
    state.SetIterationTime(s);
  }
  state.counters["open_s"] = seconds / state.iterations();
  state.counters["history_entries"] = static_cast<double>(last);
  state.counters["snapshot_mb"] =
      std::atof(
          plain
              .Value(absl::StrCat("SELECT octet_length(body) FROM ", schema,
                                  ".snapshots ORDER BY seq DESC LIMIT 1"))
              .c_str()) /
      1e6;
  state.counters["fixture_build_s"] = build_s;
}
BENCHMARK(BM_PostgresOpen)
    ->Arg(1100000)
    ->Arg(2200000)
    ->Iterations(2)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace landfall

BENCHMARK_MAIN();
