// Schedulers in real processes on one SQLite file: killed with SIGKILL at
// random moments under load, and claiming side by side from one pool. Each
// child reports every operation that returned OK; the checks then read the
// store's history, so they hold whatever the timing of the kills was.
//
// To repeat a failing run, set LANDFALL_PROCESS_TEST_SEED to the seed it
// printed: the children draw the same choices, though timing still varies.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "landfall/scheduler.h"
#include "tests/store/child_process.h"
#include "tests/store/store_test_base.h"

// Children of a sanitized build start and run several times slower.
#if defined(__SANITIZE_ADDRESS__)
#define LANDFALL_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LANDFALL_TEST_SANITIZED 1
#endif
#endif

namespace landfall::testing {
namespace {

#ifdef LANDFALL_TEST_SANITIZED
constexpr int kSlowdown = 2;
#else
constexpr int kSlowdown = 1;
#endif

// Small, so that snapshots are written, and opened from, under the kills.
constexpr int64_t kSnapshotEvery = 50;
// What a child reports once its scheduler is open.
constexpr char kReady[] = "ready";

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
constexpr int kConcurrencyPartitions = 12;

int Uniform(std::mt19937_64& rng, int n) {
  return std::uniform_int_distribution<int>(0, n - 1)(rng);
}

std::string Partition(int i) { return absl::StrCat("p", i); }

// What children report and what history entries record, in one form, so
// that the reports can be found in the history.
std::string TaskName(absl::string_view table, absl::string_view partition) {
  return absl::StrCat(table, "/", partition);
}
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

// The fact an entry records, if a child can report it.
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
  end.MustSucceed("claim", claimed.status());
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
      end.MustSucceed("ingest", s.Ingest(a).status());
      end.Report(IngestedFact(a.event_id()));
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
        if (end.Acknowledged("complete",
                             s.Complete(h.task, h.attempt, outcome))) {
          end.Report(CompletedFact(h.task, h.attempt, outcome));
        }
      } else if (end.Acknowledged("heartbeat",
                                  s.Heartbeat(held[i].task, held[i].attempt))) {
        end.Report(HeartbeatFact(held[i].task, held[i].attempt));
      } else {
        held.erase(held.begin() + i);  // Its lease ended meanwhile.
      }
    } else {
      end.MustSucceed("poll", s.Poll());
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
    {"concurrency", kConcurrencySpec, RunConcurrencyWorkload},
};

const Workload& WorkloadOf(absl::string_view mode) {
  for (const Workload& w : kWorkloads) {
    if (w.mode == mode) return w;
  }
  std::abort();  // A mode this file does not define.
}

absl::StatusOr<std::shared_ptr<const Pipeline>> PipelineOf(
    absl::string_view mode) {
  const Workload& workload = WorkloadOf(mode);
  return Pipeline::FromText(workload.spec, SpecFormat::kTextProto,
                            workload.mode);
}

// ---- Checks of a history, after the children are gone.

std::vector<HistoryEntry> ReadWholeHistory(StateStore& store) {
  std::vector<HistoryEntry> history;
  absl::Status status = store.Begin(StateStore::Access::kRead);
  std::vector<JournalEntry> batch;
  while (status.ok()) {
    batch.clear();
    const int64_t after = history.empty() ? 0 : history.back().seq;
    status = store.ReadEntries(after, 10000, &batch);
    if (batch.empty()) break;
    for (const JournalEntry& j : batch) {
      absl::StatusOr<HistoryEntry> h = FromJournal(j);
      if (!h.ok()) {
        status = h.status();
        break;
      }
      history.push_back(*std::move(h));
    }
  }
  store.Rollback();
  EXPECT_TRUE(status.ok()) << status;
  return history;
}

void ExpectGapFree(const std::vector<HistoryEntry>& history) {
  for (size_t i = 0; i < history.size(); ++i) {
    if (history[i].seq != static_cast<int64_t>(i + 1)) {
      ADD_FAILURE() << "entry " << i + 1 << " has sequence number "
                    << history[i].seq;
      return;
    }
  }
}

// Failures of one check, reported as the first few.
class Findings {
 public:
  explicit Findings(std::string what) : what_(std::move(what)) {}
  ~Findings() {
    if (count_ > 0) {
      ADD_FAILURE() << count_ << " " << what_ << ", first:\n" << first_;
    }
  }
  void Add(absl::string_view finding) {
    if (++count_ <= 10) absl::StrAppend(&first_, "  ", finding, "\n");
  }

 private:
  const std::string what_;
  int count_ = 0;
  std::string first_;
};

// Every acknowledged operation left its entry (as many as acknowledged).
void ExpectReportsInHistory(const std::vector<std::string>& facts,
                            const std::vector<HistoryEntry>& history) {
  std::map<std::string, int> recorded;
  for (const HistoryEntry& e : history) {
    if (std::optional<std::string> fact = FactOf(e)) ++recorded[*fact];
  }
  Findings lost("acknowledged operations missing from the history");
  for (const std::string& fact : facts) {
    if (--recorded[fact] < 0) lost.Add(fact);
  }
}

// No two processes say they claimed the same attempt.
void ExpectNoAttemptReportedTwice(const std::vector<std::string>& facts) {
  std::map<std::string, std::string> holder;
  Findings twice("attempts acknowledged to two claims");
  for (const std::string& fact : facts) {
    std::vector<std::string> words = absl::StrSplit(fact, ' ');
    if (words[0] != "claimed") continue;
    const std::string attempt = absl::StrCat(words[1], " ", words[2]);
    auto [it, first] = holder.emplace(attempt, words[3]);
    if (!first) {
      twice.Add(absl::StrCat(attempt, " by ", it->second, " and ", words[3]));
    }
  }
}

// Each claim of a task takes the next attempt number, so none is claimed
// twice.
void ExpectAttemptsClaimedOnceInOrder(
    const std::vector<HistoryEntry>& history) {
  std::map<TaskKey, int64_t> last;
  Findings wrong("claims out of attempt order");
  for (const HistoryEntry& e : history) {
    if (e.kind != EntryKind::kClaimed) continue;
    int64_t& previous = last[TaskKey{e.table, e.partition}];
    if (e.attempt != previous + 1) {
      wrong.Add(absl::StrCat("#", e.seq, " claims attempt ", e.attempt, " of ",
                             TaskName(e.table, e.partition), " after ",
                             previous));
    }
    previous = e.attempt;
  }
}

// Within the retention window an event id applies once; repeats are
// duplicates.
void ExpectEventsAppliedOnce(const std::vector<HistoryEntry>& history) {
  std::map<std::string, int64_t> applied;
  Findings twice("event ids applied twice");
  for (const HistoryEntry& e : history) {
    if (e.kind != EntryKind::kArrival) continue;
    auto [it, first] = applied.emplace(e.event_id, e.seq);
    if (!first) {
      twice.Add(absl::StrCat(e.event_id, " at #", it->second, " and #", e.seq));
    }
  }
}

// Walks the history counting the attempts that run: a task runs one attempt
// at a time, only running attempts end, and no limited pool ever holds more
// slots than it has. Returns the most workers seen running attempts in
// limited pools at once.
int ExpectPoolsWithinLimits(const Pipeline& pipeline,
                            const std::vector<HistoryEntry>& history) {
  std::vector<int> capacity;
  for (const Pool& pool : pipeline.pools()) capacity.push_back(pool.slots);
  std::vector<int> used(capacity.size(), 0);
  struct Running {
    int64_t attempt;
    PoolId pool;
    int slots;
    std::string worker;
  };
  std::map<TaskKey, Running> running;
  int peak_workers = 0;
  Findings wrong("violations of one attempt per task or of pool limits");
  for (const HistoryEntry& e : history) {
    const TaskKey task{e.table, e.partition};
    const auto where = [&e] {
      return absl::StrCat("#", e.seq, " ", TaskName(e.table, e.partition), " ",
                          EntryKindName(e.kind), " attempt ", e.attempt);
    };
    switch (e.kind) {
      case EntryKind::kPoolResized:
        capacity[*pipeline.FindPool(e.pool)] = e.slots;
        break;
      case EntryKind::kClaimed: {
        const Table& table = pipeline.table(*pipeline.FindTable(e.table));
        auto [it, first] = running.emplace(
            task, Running{e.attempt, table.pool, table.pool_slots, e.worker});
        if (!first) {
          wrong.Add(absl::StrCat(where(), " while attempt ", it->second.attempt,
                                 " runs"));
          break;
        }
        used[table.pool] += table.pool_slots;
        if (used[table.pool] > capacity[table.pool]) {
          wrong.Add(absl::StrCat(
              where(), ": pool ", pipeline.pools()[table.pool].name, " holds ",
              used[table.pool], " of ", capacity[table.pool], " slots"));
        }
        std::set<std::string> workers;
        for (const auto& [key, r] : running) {
          if (capacity[r.pool] != kUnlimitedSlots) workers.insert(r.worker);
        }
        peak_workers = std::max(peak_workers, static_cast<int>(workers.size()));
        break;
      }
      case EntryKind::kSucceeded:
      case EntryKind::kRetryScheduled:
      case EntryKind::kDead: {
        auto it = running.find(task);
        if (it == running.end() || it->second.attempt != e.attempt) {
          wrong.Add(absl::StrCat(where(), " ends an attempt not running"));
          break;
        }
        used[it->second.pool] -= it->second.slots;
        running.erase(it);
        break;
      }
      default:
        break;
    }
  }
  return peak_workers;
}

// The state rebuilt from the whole history equals the one a scheduler
// opens (from the latest snapshot and the entries after it).
void ExpectOpenedStateEqualsReplay(std::shared_ptr<const Pipeline> pipeline,
                                   std::shared_ptr<StateStore> store,
                                   const std::vector<HistoryEntry>& history) {
  absl::StatusOr<std::unique_ptr<Scheduler>> opened =
      Scheduler::Open(pipeline, store);
  ASSERT_TRUE(opened.ok()) << opened.status();
  absl::StatusOr<std::unique_ptr<Scheduler>> replayed =
      Scheduler::Replay(pipeline, history);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ((*opened)->LastSequence(), static_cast<int64_t>(history.size()));
  // Line by line: the states are too long to print whole.
  const std::vector<std::string> want =
      absl::StrSplit((*replayed)->DebugState(), '\n');
  const std::vector<std::string> got =
      absl::StrSplit((*opened)->DebugState(), '\n');
  EXPECT_EQ(got.size(), want.size());
  Findings differ("lines of the opened state differ from the replayed one");
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    if (got[i] != want[i]) {
      differ.Add(absl::StrCat("opened:   ", got[i], "\n  replayed: ", want[i]));
    }
  }
}

int64_t LatestSnapshotSeq(StateStore& store) {
  EXPECT_TRUE(store.Begin(StateStore::Access::kRead).ok());
  absl::StatusOr<std::optional<StoredSnapshot>> snapshot =
      store.ReadLatestSnapshot();
  store.Rollback();
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  return snapshot.ok() && snapshot->has_value() ? (*snapshot)->seq : 0;
}

int CountIf(const std::vector<HistoryEntry>& history,
            bool (*pred)(const HistoryEntry&)) {
  return static_cast<int>(std::count_if(history.begin(), history.end(), pred));
}

// ---- The parent's side.

uint64_t TestSeed() {
  uint64_t seed = 20181104;
  if (const char* text = std::getenv("LANDFALL_PROCESS_TEST_SEED")) {
    EXPECT_TRUE(absl::SimpleAtoi(text, &seed)) << text;
  }
  return seed;
}

class ProcessTest : public ::testing::Test {
 protected:
  explicit ProcessTest(const char* mode) : mode_(mode) {}

  void SetUp() override {
    auto pipeline = PipelineOf(mode_);
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    pipeline_ = *pipeline;
    // The store exists, with its spec, before any child opens it.
    auto scheduler = Scheduler::Open(pipeline_, OpenStore());
    ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  }

  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      unlink((path_ + suffix).c_str());
    }
  }

  std::shared_ptr<StateStore> OpenStore() {
    auto store = OpenSqliteStore(path_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *store : nullptr;
  }

  std::unique_ptr<ChildProcess> Spawn(const std::string& worker,
                                      uint64_t seed) {
    return std::make_unique<ChildProcess>(
        ChildArgs{mode_, path_, worker, seed});
  }

  // Drops the children's "ready" lines, fails the test for their errors,
  // and keeps the facts.
  static std::vector<std::string> Facts(const std::vector<std::string>& lines) {
    std::vector<std::string> facts;
    for (const std::string& line : lines) {
      if (line == kReady) continue;
      if (absl::StartsWith(line, kErrorReport)) {
        ADD_FAILURE() << line;
        continue;
      }
      facts.push_back(line);
    }
    return facts;
  }

  static int CountFacts(const std::vector<std::string>& facts,
                        absl::string_view prefix,
                        absl::string_view suffix = "") {
    return static_cast<int>(
        std::count_if(facts.begin(), facts.end(), [&](const std::string& f) {
          return absl::StartsWith(f, prefix) && absl::EndsWith(f, suffix);
        }));
  }

  // The checks every run passes: the history is whole, holds what was
  // acknowledged, hands out each attempt once within the pools' limits, and
  // opens to the state it folds to. Returns the peak of workers running
  // attempts in limited pools at once.
  int CheckHistory(const std::vector<std::string>& facts,
                   std::vector<HistoryEntry>* history) {
    std::shared_ptr<StateStore> store = OpenStore();
    if (store == nullptr) return 0;
    *history = ReadWholeHistory(*store);
    ExpectGapFree(*history);
    ExpectReportsInHistory(facts, *history);
    ExpectNoAttemptReportedTwice(facts);
    ExpectAttemptsClaimedOnceInOrder(*history);
    const int peak_workers = ExpectPoolsWithinLimits(*pipeline_, *history);
    ExpectOpenedStateEqualsReplay(pipeline_, store, *history);
    return peak_workers;
  }

  const std::string mode_;
  const uint64_t seed_ = TestSeed();
  const std::string path_ = TempPath("state.db");
  std::shared_ptr<const Pipeline> pipeline_;
};

class ProcessCrashTest : public ProcessTest {
 protected:
  ProcessCrashTest() : ProcessTest("crash") {}

  static constexpr int kChildren = 3;
  static constexpr int kKills = 60;
  // How long a child lives before its kill; some die while opening.
  static constexpr absl::Duration kMinLife = absl::Milliseconds(60);
  static constexpr absl::Duration kMaxLife = absl::Milliseconds(500);
};

TEST_F(ProcessCrashTest, SigkilledSchedulersLoseNothingAcknowledged) {
  SCOPED_TRACE(absl::StrCat("LANDFALL_PROCESS_TEST_SEED=", seed_));
  std::mt19937_64 rng(seed_);
  struct Slot {
    std::unique_ptr<ChildProcess> child;
    absl::Time kill_at;
    int incarnation = 0;
  };
  std::vector<Slot> slots(kChildren);
  const auto start = [&](int i) {
    Slot& slot = slots[i];
    ++slot.incarnation;
    slot.child = Spawn(absl::StrCat("c", i, ".", slot.incarnation), rng());
    slot.child->Go();
    const int64_t life_ms = std::uniform_int_distribution<int64_t>(
        absl::ToInt64Milliseconds(kMinLife),
        absl::ToInt64Milliseconds(kMaxLife))(rng);
    slot.kill_at = absl::Now() + absl::Milliseconds(life_ms * kSlowdown);
  };
  std::vector<std::string> lines;
  const auto stop = [&](Slot& slot) {
    slot.child->Kill();
    const int status = slot.child->Reap(absl::Seconds(30), &lines);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << slot.child->args().worker << " " << DescribeWaitStatus(status);
  };
  for (int i = 0; i < kChildren; ++i) start(i);
  const absl::Time began = absl::Now();
  int kills = 0;
  while (kills < kKills) {
    absl::Time next = absl::InfiniteFuture();
    std::vector<ChildProcess*> children;
    for (Slot& slot : slots) {
      next = std::min(next, slot.kill_at);
      children.push_back(slot.child.get());
    }
    ReadReports(children, next - absl::Now(), &lines);
    for (int i = 0; i < kChildren && kills < kKills; ++i) {
      // A child that is gone before its kill crashed on its own: stop()
      // fails the test with how it ended.
      if (absl::Now() < slots[i].kill_at && !slots[i].child->gone()) continue;
      stop(slots[i]);
      ++kills;
      start(i);
    }
  }
  for (Slot& slot : slots) stop(slot);
  const absl::Duration ran = absl::Now() - began;

  const std::vector<std::string> facts = Facts(lines);
  std::vector<HistoryEntry> history;
  CheckHistory(facts, &history);
  ExpectEventsAppliedOnce(history);

  // The run did what it is meant to test.
  std::shared_ptr<StateStore> store = OpenStore();
  const int64_t snapshot = store ? LatestSnapshotSeq(*store) : 0;
  const int lease_expiries = CountIf(history, [](const HistoryEntry& e) {
    return e.outcome == Outcome::LEASE_EXPIRED &&
           (e.kind == EntryKind::kRetryScheduled || e.kind == EntryKind::kDead);
  });
  const int duplicates = CountIf(history, [](const HistoryEntry& e) {
    return e.kind == EntryKind::kDuplicate;
  });
  EXPECT_GT(snapshot, 0);
  EXPECT_GT(lease_expiries, 0);
  EXPECT_GT(duplicates, 0);
  for (const char* prefix :
       {"ingested ", "claimed ", "heartbeat ", "redriven "}) {
    EXPECT_GT(CountFacts(facts, prefix), 0) << prefix;
  }
  for (Outcome outcome : {Outcome::SUCCEEDED, Outcome::RETRYABLE}) {
    EXPECT_GT(CountFacts(facts, "completed ", Outcome_Name(outcome)), 0)
        << Outcome_Name(outcome);
  }
  std::cout << "[ crash    ] " << kills << " kills in " << ran << ", "
            << facts.size() << " acknowledged operations, " << history.size()
            << " entries, " << lease_expiries << " leases expired, "
            << duplicates << " duplicates, " << CountFacts(facts, "redriven ")
            << " redrives, last snapshot at #" << snapshot << "\n";
}

class ProcessConcurrencyTest : public ProcessTest {
 protected:
  ProcessConcurrencyTest() : ProcessTest("concurrency") {}

  void SetUp() override {
    ProcessTest::SetUp();
    if (HasFatalFailure()) return;
    auto scheduler = Scheduler::Open(pipeline_, OpenStore());
    ASSERT_TRUE(scheduler.ok()) << scheduler.status();
    for (int p = 0; p < kConcurrencyPartitions; ++p) {
      Arrival a;
      a.set_event_id(absl::StrCat("e", p));
      a.set_table("src");
      a.set_partition(Partition(p));
      ASSERT_TRUE((*scheduler)->Ingest(a).ok());
    }
    tasks_ = static_cast<int>((*scheduler)->List().tasks.size());
  }

  static constexpr int kChildren = 4;
  int tasks_ = 0;
};

TEST_F(ProcessConcurrencyTest, ProcessesNeverShareAnAttemptOrOverfillAPool) {
  SCOPED_TRACE(absl::StrCat("LANDFALL_PROCESS_TEST_SEED=", seed_));
  std::vector<std::unique_ptr<ChildProcess>> owned;
  std::vector<ChildProcess*> children;
  for (int i = 0; i < kChildren; ++i) {
    owned.push_back(Spawn(absl::StrCat("w", i), seed_ + i));
    children.push_back(owned.back().get());
  }
  // All open first, then all start at once, so that their claims overlap.
  std::vector<std::string> lines;
  const absl::Time deadline = absl::Now() + absl::Seconds(30) * kSlowdown;
  while (std::count(lines.begin(), lines.end(), kReady) < kChildren &&
         absl::Now() < deadline &&
         std::none_of(children.begin(), children.end(),
                      [](ChildProcess* c) { return c->gone(); })) {
    ReadReports(children, deadline - absl::Now(), &lines);
  }
  ASSERT_EQ(std::count(lines.begin(), lines.end(), kReady), kChildren)
      << ::testing::PrintToString(lines);
  const absl::Time began = absl::Now();
  for (ChildProcess* child : children) child->Go();
  for (ChildProcess* child : children) {
    const int status = child->Reap(deadline - absl::Now(), &lines);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << child->args().worker << " " << DescribeWaitStatus(status);
  }
  const absl::Duration ran = absl::Now() - began;

  const std::vector<std::string> facts = Facts(lines);
  std::vector<HistoryEntry> history;
  const int peak_workers = CheckHistory(facts, &history);
  // Every task was built once, by one of several processes working at once.
  EXPECT_EQ(CountIf(history,
                    [](const HistoryEntry& e) {
                      return e.kind == EntryKind::kSucceeded;
                    }),
            tasks_);
  EXPECT_EQ(CountFacts(facts, "completed "), CountFacts(facts, "claimed "));
  EXPECT_GE(peak_workers, 2);
  std::cout << "[ parallel ] " << kChildren << " processes built " << tasks_
            << " tasks in " << ran << ", " << CountFacts(facts, "claimed ")
            << " attempts, at most " << peak_workers
            << " processes in the pool at once\n";
}

// ---- A child's life: open the store, say ready, wait for go, work.

int RunChild(int argc, char** argv) {
  std::optional<ChildEnd> end = ChildEnd::FromArgs(argc, argv);
  if (!end) return 2;
  const Workload& workload = WorkloadOf(end->args().mode);
  auto pipeline = PipelineOf(workload.mode);
  end->MustSucceed("load the pipeline", pipeline.status());
  std::mt19937_64 rng(end->args().seed);
  // Commits survive a process's crash with either setting: each child draws
  // one.
  SqliteStoreOptions store_options;
  store_options.synchronous = Uniform(rng, 2) == 0
                                  ? SqliteStoreOptions::Synchronous::kFull
                                  : SqliteStoreOptions::Synchronous::kNormal;
  auto store = OpenSqliteStore(end->args().store_path, store_options);
  end->MustSucceed("open the store", store.status());
  SchedulerOptions options;
  options.clock = SystemClock::Default();
  options.snapshot_every_entries = kSnapshotEvery;
  auto scheduler = Scheduler::Open(*pipeline, *store, options);
  end->MustSucceed("open the scheduler", scheduler.status());
  end->Report(kReady);
  end->WaitForGo();
  workload.run(**scheduler, *end, rng);
  return 0;
}

}  // namespace
}  // namespace landfall::testing

// This main replaces gmock_main's (the linker then leaves that one out): a
// child must run its workload instead of the tests.
int main(int argc, char** argv) {
  if (argc > 1 && absl::string_view(argv[1]) == landfall::testing::kChildFlag) {
    return landfall::testing::RunChild(argc, argv);
  }
  ::testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
