#include "tests/store/history_checks.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/store/process_workloads.h"

namespace landfall::testing {

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

namespace {

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

}  // namespace

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
}  // namespace landfall::testing
