// Scheduler throughput, beside an in-repo baseline that does the bare minimum
// over the same DAG: CSR adjacency, in-degree counters and a FIFO of ready
// nodes. The ratio of the two holds on a noisy machine.
//
//   build/release/bench/scheduler_bench
//
// Counters: ns_per_task (wall time per task, or per arrival), bytes_per_task
// (heap held per task state), tasks; the end-to-end runs add the baseline's
// time per task on the same graph in the same run (baseline_ns_per_task),
// the ratio of the two (x_baseline) and the thread's CPU time per task
// (cpu_ns_per_task). BM_EndToEndMetricsOverhead compares observing with
// metrics, with empty observers and not at all, in one run:
//
//   build/release/bench/scheduler_bench
//       --benchmark_filter=EndToEndMetricsOverhead --benchmark_min_time=2
//   (one command)
#include <time.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bench/bench_pipelines.h"
#include "bench/memory_tracker.h"
#include "benchmark/benchmark.h"
#include "landfall/metrics.h"
#include "landfall/scheduler.h"
#include "landfall/simulator.h"
#include "lib/testing/synthetic_pipeline.h"

namespace landfall {
namespace {

constexpr char kBigQueryEtlSpec[] =
    LANDFALL_FIXTURES_DIR "/bigquery-etl/pipeline.textproto";
using bench::kPartition;
using bench::Layered;
using bench::SourceArrivals;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since)
      .count();
}

void ReportPerTask(benchmark::State& state, double seconds, double tasks) {
  state.counters["ns_per_task"] = seconds * 1e9 / tasks;
  state.counters["tasks"] = tasks / state.iterations();
}

// Beside ReportPerTask's counters: the baseline's time per task over the
// same graph, measured in the same run, and the ratio of the two.
void ReportBaseline(benchmark::State& state, double seconds, double tasks,
                    double baseline_seconds, double baseline_tasks) {
  state.counters["baseline_ns_per_task"] =
      baseline_seconds * 1e9 / baseline_tasks;
  state.counters["x_baseline"] =
      (seconds / tasks) / (baseline_seconds / baseline_tasks);
}

// Options for a scheduler on `clock` that keeps one history entry in memory:
// the benchmarks measure the core, not an in-memory log.
SchedulerOptions BenchOptions(const ManualClock* clock) {
  SchedulerOptions options;
  options.clock = clock;
  options.history_capacity = 1;
  return options;
}

// Times `run(scheduler)` on a fresh scheduler per iteration and reports the
// time per task, `tasks` tasks an iteration.
template <typename Run>
void TimeOnFreshSchedulers(benchmark::State& state,
                           const std::shared_ptr<const Pipeline>& pipeline,
                           double tasks, Run run) {
  ManualClock clock;
  double seconds = 0;
  for (auto _ : state) {
    auto scheduler = *Scheduler::Create(pipeline, BenchOptions(&clock));
    const auto start = std::chrono::steady_clock::now();
    if (!run(*scheduler)) {
      state.SkipWithError("the scheduler refused an operation");
      return;
    }
    const double s = Seconds(start);
    seconds += s;
    state.SetIterationTime(s);
  }
  ReportPerTask(state, seconds, tasks * state.iterations());
}

// --- Baseline -------------------------------------------------------------

// The DAG in compressed rows with its in-degrees. RunOnce runs every task
// of it once: the sources are ready; completing a task decrements its
// downstreams' in-degrees and queues those reaching zero.
class BaselineGraph {
 public:
  explicit BaselineGraph(const Pipeline& pipeline)
      : begin_(pipeline.table_count() + 1), in_degree_(pipeline.table_count()) {
    for (TableId t = 0; t < pipeline.table_count(); ++t) {
      begin_[t] = ids_.size();
      for (TableId d : pipeline.Downstreams(t)) ids_.push_back(d);
      in_degree_[t] = pipeline.Upstreams(t).size();
    }
    begin_.back() = ids_.size();
  }

  int size() const { return static_cast<int>(in_degree_.size()); }

  void RunOnce() const {
    std::vector<int32_t> remaining = in_degree_;
    std::vector<int32_t> fifo;
    fifo.reserve(size());
    for (int32_t t = 0; t < size(); ++t) {
      if (remaining[t] == 0) fifo.push_back(t);
    }
    for (size_t head = 0; head < fifo.size(); ++head) {
      const int32_t t = fifo[head];
      for (int32_t i = begin_[t]; i < begin_[t + 1]; ++i) {
        if (--remaining[ids_[i]] == 0) fifo.push_back(ids_[i]);
      }
    }
    benchmark::DoNotOptimize(fifo.data());
  }

  // The seconds `repeats` runs take (as if each were one partition of every
  // table).
  double Time(int repeats) const {
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < repeats; ++r) RunOnce();
    return Seconds(start);
  }

 private:
  std::vector<int32_t> begin_, ids_, in_degree_;
};

void BM_Baseline(benchmark::State& state) {
  const BaselineGraph graph(*Layered(state.range(0)));
  double seconds = 0;
  for (auto _ : state) {
    const double s = graph.Time(1);
    seconds += s;
    state.SetIterationTime(s);
  }
  ReportPerTask(state, seconds,
                static_cast<double>(graph.size()) * state.iterations());
}
BENCHMARK(BM_Baseline)
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// --- End to end -----------------------------------------------------------

// Ingests every source arrival, then claims and completes in batches of
// `batch` until nothing is left. Returns the tasks run.
int64_t RunToIdle(Scheduler& scheduler, const std::vector<Arrival>& arrivals,
                  int batch) {
  if (!scheduler.IngestBatch(arrivals).ok()) return -1;
  int64_t done = 0;
  std::vector<Scheduler::Completion> completions;
  while (true) {
    absl::StatusOr<std::vector<ClaimedTask>> claimed =
        scheduler.Claim("bench", batch);
    if (!claimed.ok()) return -1;
    if (claimed->empty()) break;
    completions.clear();
    for (ClaimedTask& task : *claimed) {
      // Built in place: moving a whole Completion moves its strings twice.
      Scheduler::Completion& completion = completions.emplace_back();
      completion.task = std::move(task.task);
      completion.id = task.id;
      completion.attempt = task.attempt;
    }
    if (batch == 1) {
      if (!scheduler
               .Complete(completions[0].task, completions[0].attempt,
                         Outcome::SUCCEEDED)
               .ok()) {
        return -1;
      }
    } else {
      scheduler.CompleteBatch(completions);
    }
    done += claimed->size();
  }
  return done;
}

// Who observes the entries of a run.
enum class Observing {
  kNone,
  kEmptyObserver,    // An Observer on the fast path doing nothing.
  kHistoryObserver,  // One on the HistoryEntry path (OnEntry) doing nothing.
  kMetrics,
};
constexpr int kObservingCount = 4;

// An Observer that only takes the view: what any observer costs.
class EmptyObserver : public Observer {
 public:
  void OnEntryView(const EntryView&) override {}
};

// An Observer that overrides only OnEntry: the scheduler builds a
// HistoryEntry per entry for it, as for hosts written before the view.
class HistoryObserver : public Observer {
 public:
  void OnEntry(const HistoryEntry&) override {}
};

// CPU time of this thread: unlike wall time, it leaves out what other
// processes on a busy machine take.
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) +
         static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct TimedRun {
  int64_t tasks = -1;  // -1: the scheduler refused an operation.
  double seconds = 0;  // Wall.
  double cpu_seconds = 0;
  size_t live_bytes = 0;  // Heap held after the run, scheduler included.
};

// Runs `run(scheduler)`, which returns the tasks it ran or -1, on a fresh
// scheduler observed as `observing`. With kMetrics, a Metrics observes
// every entry and is collected once (a scrape) at the end of the run,
// inside the time measured.
template <typename Run>
TimedRun ObservedRun(const std::shared_ptr<const Pipeline>& pipeline,
                     Observing observing, Run run) {
  ManualClock clock;
  SchedulerOptions options = BenchOptions(&clock);
  EmptyObserver empty;
  HistoryObserver history;
  std::unique_ptr<Metrics> metrics;
  const size_t live_before = memory_tracker::LiveBytes();
  switch (observing) {
    case Observing::kNone:
      break;
    case Observing::kEmptyObserver:
      options.observer = &empty;
      break;
    case Observing::kHistoryObserver:
      options.observer = &history;
      break;
    case Observing::kMetrics: {
      MetricsOptions metrics_options;
      metrics_options.clock = &clock;
      metrics = std::make_unique<Metrics>(*pipeline, metrics_options);
      options.observer = metrics.get();
      break;
    }
  }
  auto scheduler = *Scheduler::Create(pipeline, options);
  if (metrics) metrics->SetScheduler(scheduler.get());
  TimedRun out;
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = ThreadCpuSeconds();
  out.tasks = run(*scheduler);
  if (metrics) benchmark::DoNotOptimize(metrics->Collect());
  out.cpu_seconds = ThreadCpuSeconds() - cpu_start;
  out.seconds = Seconds(start);
  out.live_bytes = memory_tracker::LiveBytes() - live_before;
  if (metrics) metrics->SetScheduler(nullptr);
  return out;
}

// Times `run(scheduler)` (see ObservedRun) on a fresh scheduler per
// iteration, with the baseline over the same graph run once per partition
// beside it. After the run every table has `partitions` task states (or
// version records, for sources): bytes_per_task is the heap the scheduler
// (and its observer) holds per task state. cpu_ns_per_task is this
// thread's CPU time per task, steadier than wall time on a shared machine.
template <typename Run>
void CompareWithBaseline(benchmark::State& state,
                         const std::shared_ptr<const Pipeline>& pipeline,
                         int partitions, Run run,
                         Observing observing = Observing::kNone) {
  const BaselineGraph baseline(*pipeline);
  const double task_states =
      static_cast<double>(pipeline->table_count()) * partitions;
  double seconds = 0, cpu_seconds = 0, baseline_seconds = 0, tasks = 0,
         bytes_per_task = 0;
  for (auto _ : state) {
    const TimedRun timed = ObservedRun(pipeline, observing, run);
    if (timed.tasks < 0) {
      state.SkipWithError("the scheduler refused an operation");
      return;
    }
    bytes_per_task = static_cast<double>(timed.live_bytes) / task_states;
    baseline_seconds += baseline.Time(partitions);
    seconds += timed.seconds;
    cpu_seconds += timed.cpu_seconds;
    tasks += timed.tasks;
    state.SetIterationTime(timed.seconds);
  }
  ReportPerTask(state, seconds, tasks);
  // The baseline runs every table, sources included, once per partition.
  ReportBaseline(state, seconds, tasks, baseline_seconds,
                 task_states * state.iterations());
  state.counters["cpu_ns_per_task"] = cpu_seconds * 1e9 / tasks;
  state.counters["bytes_per_task"] = bytes_per_task;
}

void RunEndToEnd(benchmark::State& state, int batch,
                 Observing observing = Observing::kNone) {
  const auto pipeline = Layered(state.range(0));
  const std::vector<Arrival> arrivals = SourceArrivals(*pipeline);
  CompareWithBaseline(
      state, pipeline, 1,
      [&](Scheduler& scheduler) {
        return RunToIdle(scheduler, arrivals, batch);
      },
      observing);
}

void BM_EndToEndBatched(benchmark::State& state) { RunEndToEnd(state, 1000); }
BENCHMARK(BM_EndToEndBatched)
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// Metrics off and on, and empty observers on both paths: what observing
// every entry costs (BM_EndToEndMetricsOverhead compares them in one run).
void BM_EndToEndObserved(benchmark::State& state, Observing observing) {
  RunEndToEnd(state, 1000, observing);
}
BENCHMARK_CAPTURE(BM_EndToEndObserved, MetricsOff, Observing::kNone)
    ->Arg(100000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EndToEndObserved, MetricsOn, Observing::kMetrics)
    ->Arg(100000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EndToEndObserved, EmptyObserver, Observing::kEmptyObserver)
    ->Arg(100000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EndToEndObserved, HistoryObserver,
                  Observing::kHistoryObserver)
    ->Arg(100000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// The four ways of observing, each iteration running each once on the same
// graph in a rotating order (so that none always runs first), timed in
// this thread's CPU time: ns per task of each (off_, empty_observer_,
// history_observer_, metrics_ns_per_task) and what metrics add over off
// (metrics_overhead: 0.05 is 5%).
void BM_EndToEndMetricsOverhead(benchmark::State& state) {
  const auto pipeline = Layered(state.range(0));
  const std::vector<Arrival> arrivals = SourceArrivals(*pipeline);
  auto run = [&](Scheduler& scheduler) {
    return RunToIdle(scheduler, arrivals, 1000);
  };
  double cpu[kObservingCount] = {};
  double tasks[kObservingCount] = {};
  int64_t round = 0;
  for (auto _ : state) {
    double seconds = 0;
    for (int k = 0; k < kObservingCount; ++k) {
      const int observing = static_cast<int>((k + round) % kObservingCount);
      const TimedRun timed =
          ObservedRun(pipeline, static_cast<Observing>(observing), run);
      if (timed.tasks < 0) {
        state.SkipWithError("the scheduler refused an operation");
        return;
      }
      cpu[observing] += timed.cpu_seconds;
      tasks[observing] += timed.tasks;
      seconds += timed.cpu_seconds;
    }
    ++round;
    state.SetIterationTime(seconds);
  }
  const char* names[kObservingCount] = {
      "off_ns_per_task", "empty_observer_ns_per_task",
      "history_observer_ns_per_task", "metrics_ns_per_task"};
  for (int k = 0; k < kObservingCount; ++k) {
    state.counters[names[k]] = cpu[k] * 1e9 / tasks[k];
  }
  const auto per_task = [&](Observing o) {
    return cpu[static_cast<int>(o)] / tasks[static_cast<int>(o)];
  };
  state.counters["metrics_overhead"] =
      per_task(Observing::kMetrics) / per_task(Observing::kNone) - 1;
}
BENCHMARK(BM_EndToEndMetricsOverhead)
    ->Arg(100000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_EndToEndOneAtATime(benchmark::State& state) { RunEndToEnd(state, 1); }
BENCHMARK(BM_EndToEndOneAtATime)
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// The realistic shape: 1,000 tables (layered, width 100, fan-in 4) times
// `days` daily partitions, every source partition arriving, then claims and
// completions in batches of 1,000 until nothing is left. Task states, not
// tables, grow. Besides ns_per_task and bytes_per_task (heap per task
// state, scheduler only; pipeline_bytes_per_table beside it), reports the
// baseline run over the same graph once per day (baseline_ns_per_task) and
// the ratio of the two (x_baseline), both measured in this run.
void BM_EndToEndDailyPartitions(benchmark::State& state) {
  constexpr int kTables = 1000;
  constexpr int kBatch = 1000;
  const int days = state.range(0);
  const size_t live_before_pipeline = memory_tracker::LiveBytes();
  testing::LayeredPipelineOptions layered;
  layered.tables = kTables;
  layered.width = 100;
  layered.pools = 0;
  const auto pipeline =
      *Pipeline::FromSpec(testing::MakeLayeredPipelineSpec(layered));
  const double pipeline_bytes =
      static_cast<double>(memory_tracker::LiveBytes() - live_before_pipeline);
  std::vector<Arrival> arrivals;
  for (int day = 0; day < days; ++day) {
    std::vector<Arrival> of_day = SourceArrivals(
        *pipeline, bench::DayPartition(day), absl::StrCat("d", day, "-"));
    arrivals.insert(arrivals.end(), std::make_move_iterator(of_day.begin()),
                    std::make_move_iterator(of_day.end()));
  }
  CompareWithBaseline(state, pipeline, days, [&](Scheduler& scheduler) {
    int64_t done = 0;
    for (size_t i = 0; i < arrivals.size(); i += kBatch) {
      const size_t n = std::min<size_t>(kBatch, arrivals.size() - i);
      if (!scheduler.IngestBatch(absl::MakeConstSpan(&arrivals[i], n)).ok()) {
        return int64_t{-1};
      }
    }
    while (true) {
      absl::StatusOr<std::vector<TaskKey>> built =
          bench::ClaimAndComplete(scheduler, kBatch);
      if (!built.ok()) return int64_t{-1};
      if (built->empty()) return done;
      done += built->size();
    }
  });
  state.counters["pipeline_bytes_per_table"] = pipeline_bytes / kTables;
}
BENCHMARK(BM_EndToEndDailyPartitions)
    ->Arg(1000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// --- Ingest ---------------------------------------------------------------

// 1,000,000 arrivals on 1,000 source tables, every other one a repeat of the
// arrival before it: ns per arrival.
void BM_IngestHalfDuplicates(benchmark::State& state) {
  PipelineSpec spec;
  for (int i = 0; i < 1000; ++i) {
    TableSpec* t = spec.add_table();
    t->set_name(absl::StrCat("s", i));
    t->set_source(true);
  }
  auto pipeline = *Pipeline::FromSpec(spec);
  const int n = state.range(0);
  std::vector<Arrival> arrivals(n);
  for (int i = 0; i < n; ++i) {
    const int unique = i / 2;
    arrivals[i].set_event_id(absl::StrCat("event-", unique));
    arrivals[i].set_table(absl::StrCat("s", unique % 1000));
    arrivals[i].set_partition(absl::StrCat("p", unique / 1000));
  }
  TimeOnFreshSchedulers(state, pipeline, n, [&](Scheduler& scheduler) {
    for (const Arrival& a : arrivals) {
      if (!scheduler.Ingest(a).ok()) return false;
    }
    return true;
  });
}
BENCHMARK(BM_IngestHalfDuplicates)
    ->Arg(1000000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// A duplicate alone: the event id is already known.
void BM_IngestDuplicate(benchmark::State& state) {
  PipelineSpec spec;
  spec.add_table()->set_name("s");
  spec.mutable_table(0)->set_source(true);
  auto pipeline = *Pipeline::FromSpec(spec);
  ManualClock clock;
  auto scheduler = *Scheduler::Create(pipeline, BenchOptions(&clock));
  Arrival a;
  a.set_event_id("s3://lake/s/2018-11-03/part-00001.parquet");
  a.set_table("s");
  a.set_partition(kPartition);
  (void)scheduler->Ingest(a);
  for (auto _ : state) {
    benchmark::DoNotOptimize(scheduler->Ingest(a));
  }
  state.counters["ns_per_task"] =
      benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate |
                                                 benchmark::Counter::kInvert);
}
BENCHMARK(BM_IngestDuplicate);

// --- Fan-out --------------------------------------------------------------

// One source feeding `n` direct dependents: time from its arrival until all
// of them are claimable.
void BM_FanOut(benchmark::State& state) {
  const int n = state.range(0);
  PipelineSpec spec;
  spec.add_table()->set_name("src");
  spec.mutable_table(0)->set_source(true);
  for (int i = 0; i < n; ++i) {
    TableSpec* t = spec.add_table();
    t->set_name(absl::StrCat("d", i));
    t->add_upstream("src");
  }
  auto pipeline = *Pipeline::FromSpec(spec);
  Arrival a;
  a.set_event_id("e");
  a.set_table("src");
  a.set_partition(kPartition);
  TimeOnFreshSchedulers(state, pipeline, n, [&](Scheduler& scheduler) {
    auto result = scheduler.Ingest(a);
    return result.ok() && static_cast<int>(result->made_ready.size()) == n;
  });
}
BENCHMARK(BM_FanOut)->Arg(100000)->UseManualTime()->Unit(
    benchmark::kMillisecond);

// --- Simulation of the real graph -------------------------------------------

// `landfall simulate` on the bigquery-etl fixture, every source arriving once.
void BM_SimulateBigQueryEtl(benchmark::State& state) {
  auto pipeline = Pipeline::FromFile(kBigQueryEtlSpec);
  if (!pipeline.ok()) {
    state.SkipWithError(
        absl::StrCat("fixture not found: ", kBigQueryEtlSpec).c_str());
    return;
  }
  std::vector<Arrival> arrivals = SourceArrivals(**pipeline);
  for (Arrival& a : arrivals) {
    const Table& t = (*pipeline)->table(*(*pipeline)->FindTable(a.table()));
    if (!t.partitioned) a.clear_partition();
    a.mutable_at()->set_seconds(1541293200);
  }
  for (auto _ : state) {
    std::ostringstream out;
    absl::Status status = Simulate(*pipeline, arrivals, {}, {}, out);
    if (!status.ok()) {
      state.SkipWithError(std::string(status.message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(out.str().size());
  }
}
BENCHMARK(BM_SimulateBigQueryEtl)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace landfall

int main(int argc, char** argv) {
  // A debug build of Abseil (as Debian ships it) runs its deadlock detector
  // on every Mutex lock, a few hundred instructions per scheduler call that
  // a release build of Abseil does not spend. Pass --mutex_deadlock_checks
  // to measure with it.
  bool checks = false;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--mutex_deadlock_checks") {
      checks = true;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  if (!checks) {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
