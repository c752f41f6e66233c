#include "tests/store/process_workloads.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "landfall/clock.h"
#include "tests/store/child_process.h"

namespace landfall::testing {

std::string Partition(int i) { return absl::StrCat("p", i); }

namespace {

// Small, so that snapshots are written, and opened from, under the kills.
constexpr int64_t kSnapshotEvery = 50;

// One second leases: those of killed and idle workers end during the run.
// c needs both of wh's slots, so it waits for a to leave the pool.
constexpr char kCrashSpec[] = R"(
name: "crash"
defaults {
  lease: "1s"
  retry { max_attempts: 3 initial_backoff: "50ms" max_backoff: "200ms" }
}
pool { name: "wh" slots: 2 }
table { name: "src" source: true }
table { name: "a" upstream: "src" pool: "wh" }
table { name: "b" upstream: "src" }
table { name: "c" upstream: "a" upstream: "b" pool: "wh" pool_slots: 2 }
)";

// Many ready tasks for few slots; "wide" takes two of them.
constexpr char kConcurrencySpec[] = R"(
name: "concurrency"
defaults {
  lease: "60s"
  retry { max_attempts: 20 initial_backoff: "10ms" max_backoff: "10ms" }
}
pool { name: "wh" slots: 3 }
table { name: "src" source: true }
table { name: "a" upstream: "src" pool: "wh" }
table { name: "b" upstream: "src" pool: "wh" }
table { name: "c" upstream: "src" pool: "wh" }
table { name: "wide" upstream: "src" pool: "wh" pool_slots: 2 }
)";

int Uniform(std::mt19937_64& rng, int n) {
  return std::uniform_int_distribution<int>(0, n - 1)(rng);
}

}  // namespace

std::string TaskName(absl::string_view table, absl::string_view partition) {
  return absl::StrCat(table, "/", partition);
}

namespace {

std::string IngestedFact(absl::string_view event_id) {
  return absl::StrCat("ingested ", event_id);
}
std::string ClaimedFact(const TaskKey& t, int64_t attempt,
                        absl::string_view worker) {
  return absl::StrCat("claimed ", TaskName(t.table, t.partition), " ", attempt,
                      " ", worker);
}
std::string CompletedFact(const TaskKey& t, int64_t attempt, Outcome outcome) {
  return absl::StrCat("completed ", TaskName(t.table, t.partition), " ",
                      attempt, " ", Outcome_Name(outcome));
}
std::string HeartbeatFact(const TaskKey& t, int64_t attempt) {
  return absl::StrCat("heartbeat ", TaskName(t.table, t.partition), " ",
                      attempt);
}
std::string RedrivenFact(const TaskKey& t) {
  return absl::StrCat("redriven ", TaskName(t.table, t.partition));
}

}  // namespace

std::optional<std::string> FactOf(const HistoryEntry& e) {
  const TaskKey task{e.table, e.partition};
  switch (e.kind) {
    case EntryKind::kArrival:
    case EntryKind::kDuplicate:
      return IngestedFact(e.event_id);
    case EntryKind::kClaimed:
      return ClaimedFact(task, e.attempt, e.worker);
    case EntryKind::kSucceeded:
      return CompletedFact(task, e.attempt, Outcome::SUCCEEDED);
    case EntryKind::kRetryScheduled:
    case EntryKind::kDead:
      return CompletedFact(task, e.attempt, e.outcome);
    case EntryKind::kHeartbeat:
      return HeartbeatFact(task, e.attempt);
    case EntryKind::kRedriven:
      return RedrivenFact(task);
    default:
      return std::nullopt;
  }
}

namespace {

// ---- The children's workloads.

// An attempt a child holds.
struct Held {
  TaskKey task;
  int64_t attempt = 0;
};

void ClaimAndReport(Scheduler& s, ChildEnd& end, int max,
                    std::vector<Held>* held) {
  absl::StatusOr<std::vector<ClaimedTask>> claimed =
      s.Claim(end.args().worker, max);
  if (!end.Succeeded("claim", claimed.status())) return;
  for (const ClaimedTask& t : *claimed) {
    end.Report(ClaimedFact(t.task, t.attempt, end.args().worker));
    held->push_back(Held{t.task, t.attempt});
  }
}

// Runs until killed: arrivals (some repeated, by this process or any),
// claims, completions that succeed or fail, heartbeats, polls and redrives.
// Some claimed attempts are dropped silently, so their leases end.
void RunCrashWorkload(Scheduler& s, ChildEnd& end, std::mt19937_64& rng) {
  const std::string& worker = end.args().worker;
  std::vector<Held> held;
  int next_event = 0;
  for (;;) {
    const int dice = Uniform(rng, 100);
    if (dice < 30) {
      Arrival a;
      const int kind = Uniform(rng, 10);
      if (kind == 0) {  // Repeated across processes.
        a.set_event_id(absl::StrCat("shared-", Uniform(rng, 16)));
      } else if (kind == 1 && next_event > 0) {  // Repeated by this one.
        a.set_event_id(absl::StrCat(worker, ".", Uniform(rng, next_event)));
      } else {
        a.set_event_id(absl::StrCat(worker, ".", next_event++));
      }
      a.set_table("src");
      a.set_partition(Partition(Uniform(rng, 8)));
      if (end.Succeeded("ingest", s.Ingest(a).status())) {
        end.Report(IngestedFact(a.event_id()));
      }
    } else if (dice < 55) {
      ClaimAndReport(s, end, 1 + Uniform(rng, 2), &held);
    } else if (dice < 95 && !held.empty()) {
      const size_t i = Uniform(rng, static_cast<int>(held.size()));
      if (dice < 85) {
        const Held h = held[i];
        held.erase(held.begin() + i);
        if (Uniform(rng, 20) == 0) continue;  // Abandoned: its lease ends.
        const Outcome outcome =
            Uniform(rng, 5) == 0 ? Outcome::RETRYABLE : Outcome::SUCCEEDED;
        const absl::Status status = s.Complete(h.task, h.attempt, outcome);
        if (end.Acknowledged("complete", status)) {
          end.Report(CompletedFact(h.task, h.attempt, outcome));
        } else if (absl::IsUnavailable(status)) {
          // It may have committed: completing it again is safe.
          held.push_back(h);
        }
      } else if (end.Acknowledged("heartbeat",
                                  s.Heartbeat(held[i].task, held[i].attempt))) {
        end.Report(HeartbeatFact(held[i].task, held[i].attempt));
      } else {
        held.erase(held.begin() + i);  // Its lease ended meanwhile.
      }
    } else {
      if (!end.Succeeded("poll", s.Poll())) continue;
      std::vector<TaskStatus> dead = s.DeadLetter();
      if (!dead.empty() &&
          end.Acknowledged("redrive", s.Redrive(dead[0].task))) {
        end.Report(RedrivenFact(dead[0].task));
      }
    }
  }
}

bool WorkRemains(Scheduler& s) {
  for (const TaskStatus& t : s.List().tasks) {
    if (t.state == TaskState::kReady || t.state == TaskState::kRunning ||
        t.state == TaskState::kRetryWait) {
      return true;
    }
  }
  return false;
}

// Claims one task at a time and holds it a few milliseconds (so that the
// processes' attempts overlap), until no task is left to run.
void RunConcurrencyWorkload(Scheduler& s, ChildEnd& end, std::mt19937_64& rng) {
  std::vector<Held> held;
  for (;;) {
    ClaimAndReport(s, end, 1, &held);
    if (held.empty()) {
      if (!WorkRemains(s)) return;
      absl::SleepFor(absl::Milliseconds(2));
      continue;
    }
    absl::SleepFor(absl::Milliseconds(2 + Uniform(rng, 9)));
    const Outcome outcome =
        Uniform(rng, 10) == 0 ? Outcome::RETRYABLE : Outcome::SUCCEEDED;
    // Leases are long: every completion must be accepted.
    end.MustSucceed("complete",
                    s.Complete(held[0].task, held[0].attempt, outcome));
    end.Report(CompletedFact(held[0].task, held[0].attempt, outcome));
    held.clear();
  }
}

struct Workload {
  const char* mode;
  const char* spec;
  void (*run)(Scheduler&, ChildEnd&, std::mt19937_64&);
};
constexpr Workload kWorkloads[] = {
    {"crash", kCrashSpec, RunCrashWorkload},
    {"faults", kCrashSpec, RunCrashWorkload},
    {"concurrency", kConcurrencySpec, RunConcurrencyWorkload},
};

const Workload& WorkloadOf(absl::string_view mode) {
  for (const Workload& w : kWorkloads) {
    if (w.mode == mode) return w;
  }
  std::abort();  // A mode this file does not define.
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Pipeline>> PipelineOf(
    absl::string_view mode) {
  const Workload& workload = WorkloadOf(mode);
  return Pipeline::FromText(workload.spec, SpecFormat::kTextProto,
                            workload.mode);
}

absl::StatusOr<std::shared_ptr<StateStore>> OpenStoreAt(
    const std::string& address, std::mt19937_64* rng) {
  if (absl::StartsWith(address, "postgres")) return OpenStateStore(address);
  // Commits survive a process's crash with either setting: each child draws
  // one.
  SqliteStoreOptions options;
  options.synchronous = rng != nullptr && Uniform(*rng, 2) == 1
                            ? SqliteStoreOptions::Synchronous::kNormal
                            : SqliteStoreOptions::Synchronous::kFull;
  return OpenSqliteStore(address, options);
}

int RunChild(int argc, char** argv) {
  std::optional<ChildEnd> end = ChildEnd::FromArgs(argc, argv);
  if (!end) return 2;
  const Workload& workload = WorkloadOf(end->args().mode);
  auto pipeline = PipelineOf(workload.mode);
  end->MustSucceed("load the pipeline", pipeline.status());
  std::mt19937_64 rng(end->args().seed);
  const bool faults = end->args().mode == "faults";
  if (faults) end->TolerateUnavailable();
  SchedulerOptions options;
  options.clock = SystemClock::Default();
  options.snapshot_every_entries = kSnapshotEvery;
  absl::StatusOr<std::unique_ptr<Scheduler>> scheduler;
  // Under faults the server may be away for a while: bounded retries.
  for (int tries = 0;; ++tries) {
    absl::StatusOr<std::shared_ptr<StateStore>> store =
        OpenStoreAt(end->args().store_path, &rng);
    scheduler = store.ok() ? Scheduler::Open(*pipeline, *store, options)
                           : store.status();
    if (scheduler.ok() || !faults || tries >= 600 ||
        !absl::IsUnavailable(scheduler.status())) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  end->MustSucceed("open the scheduler", scheduler.status());
  end->Report(kReady);
  end->WaitForGo();
  workload.run(**scheduler, *end, rng);
  return 0;
}
}  // namespace landfall::testing
