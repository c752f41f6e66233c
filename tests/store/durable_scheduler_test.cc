// A scheduler on a store: recovery of every kind of pending work, several
// schedulers on one store, and what happens when the store fails.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "landfall/scheduler.h"
#include "lib/testing/forwarding_store.h"
#include "lib/testing/history.h"
#include "tests/store/durable_test_base.h"

namespace landfall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kSpec[] = R"(
name: "durable"
defaults { lease: "10m" retry { max_attempts: 3 initial_backoff: "5m" } }
pool { name: "wh" slots: 3 }
table { name: "src" source: true }
table { name: "a" upstream: "src" pool: "wh" }
table { name: "b" upstream: "src" pool: "wh" }
table { name: "c" upstream: "src" pool: "wh" }
table { name: "d" upstream: "src" }
table { name: "e" upstream: "src" }
table { name: "f" upstream: "src" }
table { name: "after_d" upstream: "d" }
)";

class DurableSchedulerTest : public DurableTest {
 protected:
  DurableSchedulerTest() : DurableTest(kSpec) {}

  static void Arrive(Scheduler& s, const std::string& event_id,
                     IngestResult* result = nullptr) {
    Arrival a;
    a.set_event_id(event_id);
    a.set_table("src");
    a.set_partition("p");
    auto r = s.Ingest(a);
    ASSERT_TRUE(r.ok()) << r.status();
    if (result != nullptr) *result = *r;
  }

  static std::map<std::string, ClaimedTask> ClaimAll(
      Scheduler& s, int max = 100, const ClaimFilter& filter = {}) {
    std::map<std::string, ClaimedTask> out;
    auto claimed = s.Claim("w", max, filter);
    EXPECT_TRUE(claimed.ok()) << claimed.status();
    if (claimed.ok()) {
      for (ClaimedTask& t : *claimed) out[t.task.table] = t;
    }
    return out;
  }

  static std::vector<std::string> Tables(
      const std::map<std::string, ClaimedTask>& claimed) {
    std::vector<std::string> out;
    for (const auto& [table, task] : claimed) out.push_back(table);
    return out;
  }

  static TaskState StateOf(Scheduler& s, const std::string& table) {
    ListFilter filter;
    filter.table = table;
    TaskList list = s.List(filter);
    return list.tasks.empty() ? TaskState::kWaiting : list.tasks[0].state;
  }
};

TEST_P(DurableSchedulerTest, ReopeningRestoresEveryKindOfPendingWork) {
  options_.snapshot_every_entries = 5;  // Restore from snapshot and tail.
  auto first = Open();
  Arrive(*first, "e1");
  ASSERT_TRUE(first->PauseTable("f").ok());
  auto claimed = ClaimAll(*first);
  ASSERT_THAT(Tables(claimed), ElementsAre("a", "b", "c", "d", "e"));
  // a and b keep running (b heartbeats, a does not); c waits to retry; d is
  // dead and blocks after_d; e succeeded; f is paused while ready.
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(first->Heartbeat(claimed["b"].task, 1).ok());
  ASSERT_TRUE(
      first->Complete(claimed["c"].task, 1, Outcome::RETRYABLE, "busy").ok());
  ASSERT_TRUE(first->Complete(claimed["d"].task, 1, Outcome::FATAL).ok());
  ASSERT_TRUE(first->Complete(claimed["e"].task, 1, Outcome::SUCCEEDED).ok());
  const int64_t last = first->LastSequence();
  const std::string state = first->DebugState();
  first.reset();  // As if the process died here.

  auto second = Open(Reopen());
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->DebugState(), state);
  EXPECT_EQ(second->LastSequence(), last);
  EXPECT_EQ(StateOf(*second, "f"), TaskState::kPaused);
  EXPECT_EQ(StateOf(*second, "after_d"), TaskState::kBlocked);
  ASSERT_EQ(second->DeadLetter().size(), 1u);
  EXPECT_EQ(second->DeadLetter()[0].task.table, "d");

  // Six minutes later a's lease (claimed at 0) has ended while nobody ran:
  // it fails as lease expiry. b's (heartbeat at 5m) still holds; c's retry
  // (due at 10m) is due.
  clock_.Advance(absl::Minutes(6));
  ASSERT_TRUE(second->Poll().ok());
  EXPECT_EQ(StateOf(*second, "a"), TaskState::kRetryWait);
  EXPECT_EQ(StateOf(*second, "b"), TaskState::kRunning);
  EXPECT_EQ(StateOf(*second, "c"), TaskState::kReady);
  EXPECT_TRUE(second->Complete(claimed["b"].task, 1, Outcome::SUCCEEDED).ok());
  std::vector<HistoryEntry> history =
      ::landfall::testing::History(*second, last + 1, 100);
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history[0].seq, last + 1);
  EXPECT_EQ(history[0].kind, EntryKind::kRetryScheduled);
  EXPECT_EQ(history[0].table, "a");
  EXPECT_EQ(history[0].outcome, Outcome::LEASE_EXPIRED);
}

TEST_P(DurableSchedulerTest, HistoryIsWholeAndGapFreeAcrossReopening) {
  options_.snapshot_every_entries = 3;
  {
    auto first = Open();
    Arrive(*first, "e1");
    ClaimAll(*first);
  }
  auto second = Open(Reopen());
  Arrive(*second, "e2");
  std::vector<HistoryEntry> history =
      ::landfall::testing::History(*second, 1, SIZE_MAX);
  ASSERT_EQ(static_cast<int64_t>(history.size()), second->LastSequence());
  for (size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(history[i].seq, static_cast<int64_t>(i + 1));
  }
  auto replayed = Scheduler::Replay(pipeline_, history, options_);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ((*replayed)->DebugState(), second->DebugState());
}

TEST_P(DurableSchedulerTest, EventIdsAreRememberedAcrossReopening) {
  options_.snapshot_every_entries = 1;
  {
    auto first = Open();
    Arrive(*first, "s3://lake/src/p/part-1");
  }
  auto second = Open(Reopen());
  IngestResult result;
  Arrive(*second, "s3://lake/src/p/part-1", &result);
  EXPECT_TRUE(result.duplicate);
  clock_.Advance(absl::Hours(24 * 8));  // Past the retention window.
  Arrive(*second, "s3://lake/src/p/part-1", &result);
  EXPECT_FALSE(result.duplicate);
}

TEST_P(DurableSchedulerTest, TextThatIsNotUtf8IsKeptByteForByte) {
  Arrival a;
  a.set_event_id("s3://lake/src/p/part-\xff\xfe");
  a.set_table("src");
  a.set_partition("p\xff");
  a.set_origin("\xc3");
  (*a.mutable_attributes())["etag"] = "\x80";
  {
    auto first = Open();
    ASSERT_TRUE(first->Ingest(a).ok());
    std::vector<ClaimedTask> claimed = *first->Claim("w\xfe", 1);
    ASSERT_EQ(claimed.size(), 1u);
    ASSERT_TRUE(first->Checkpoint().ok());  // Through the snapshot too.
    ASSERT_TRUE(first
                    ->Complete(claimed[0].task, claimed[0].attempt,
                               Outcome::RETRYABLE, "exit 1: \xe2\x82")
                    .ok());
  }
  auto second = Open(Reopen());
  ASSERT_NE(second, nullptr);
  std::vector<HistoryEntry> history =
      ::landfall::testing::History(*second, 1, 100);
  ASSERT_GE(history.size(), 3u);
  EXPECT_EQ(history[0].kind, EntryKind::kArrival);
  EXPECT_EQ(history[0].event_id, a.event_id());
  EXPECT_EQ(history[0].partition, "p\xff");
  EXPECT_EQ(history[0].origin, "\xc3");
  EXPECT_EQ(history[0].attributes["etag"], "\x80");
  const HistoryEntry& claim = history[history.size() - 2];
  EXPECT_EQ(claim.kind, EntryKind::kClaimed);
  EXPECT_EQ(claim.worker, "w\xfe");
  // Its message was the arrival's before: nothing of that is left over.
  EXPECT_EQ(claim.event_id, "");
  EXPECT_EQ(claim.origin, "");
  EXPECT_TRUE(claim.attributes.empty());
  EXPECT_EQ(history.back().detail, "exit 1: \xe2\x82");
  IngestResult result = *second->Ingest(a);
  EXPECT_TRUE(result.duplicate);
}

TEST_P(DurableSchedulerTest, TwoSchedulersOnOneStoreShareOneState) {
  auto one = Open();
  auto two = Open(Reopen());
  Arrive(*one, "e1");
  // Pool wh has 3 slots across both: one takes 2 of a, b, c; two gets the
  // third and the tasks of the unlimited pool, none of one's.
  ClaimFilter wh;
  wh.pools = {"wh"};
  auto first = ClaimAll(*one, 2, wh);
  auto second = ClaimAll(*two);
  EXPECT_THAT(Tables(first), ElementsAre("a", "b"));
  EXPECT_THAT(Tables(second), ElementsAre("c", "d", "e", "f"));
  EXPECT_THAT(Tables(ClaimAll(*one)), IsEmpty());
  // Either can complete the other's attempt; once it ended, both see how.
  ASSERT_TRUE(two->Complete(first["a"].task, 1, Outcome::SUCCEEDED).ok());
  const int64_t seq = one->LastSequence();
  EXPECT_TRUE(one->Complete(first["a"].task, 1, Outcome::SUCCEEDED).ok());
  EXPECT_EQ(one->Complete(first["a"].task, 1, Outcome::FATAL).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(one->LastSequence(), seq);
  EXPECT_EQ(one->DebugState(), two->DebugState());
  EXPECT_EQ(one->LastSequence(), two->LastSequence());
}

TEST_P(DurableSchedulerTest, ObserverHearsCommittedEntriesOfEveryScheduler) {
  struct Recorder : Observer {
    void OnEntry(const HistoryEntry& e) override { seqs.push_back(e.seq); }
    std::vector<int64_t> seqs;
  } recorder;
  auto writer = Open();
  options_.observer = &recorder;
  auto listener = Open(Reopen());
  Arrive(*writer, "e1");  // Entries 1 (arrival) and 2.. (ready).
  EXPECT_THAT(recorder.seqs, IsEmpty());  // Not caught up yet.
  const int64_t last = listener->LastSequence();
  ASSERT_GT(last, 1);
  std::vector<int64_t> all;
  for (int64_t seq = 1; seq <= last; ++seq) all.push_back(seq);
  EXPECT_EQ(recorder.seqs, all);
}

TEST_P(DurableSchedulerTest, EntriesCaughtUpComeInOneBracket) {
  struct Recorder : Observer {
    void BeginEntries() override {
      EXPECT_FALSE(open);
      open = true;
      ++begun;
    }
    void EndEntries() override { open = false; }
    void OnEntryView(const EntryView& v) override {
      EXPECT_TRUE(open) << v.seq;
      ++seen;
    }
    bool open = false;
    int begun = 0;
    int64_t seen = 0;
  } recorder;
  auto writer = Open();
  options_.observer = &recorder;
  auto listener = Open(Reopen());
  Arrive(*writer, "e1");
  Arrive(*writer, "e2");
  const int64_t last = listener->LastSequence();  // Catches up on both.
  ASSERT_GT(last, 2);
  EXPECT_EQ(recorder.begun, 1);
  EXPECT_EQ(recorder.seen, last);
  EXPECT_FALSE(recorder.open);
}

TEST_P(DurableSchedulerTest,
       ViewsOfCommittedEntriesAndTheStoreKeepAttemptLinks) {
  struct Recorder : Observer {
    void OnEntryView(const EntryView& v) override {
      if (v.kind == EntryKind::kClaimed) ready_ns.push_back(v.ready_ns);
      if (v.kind == EntryKind::kSucceeded) claim_seqs.push_back(v.claim_seq);
      if (v.kind == EntryKind::kClaimed) claims.push_back(v.seq);
      tables.emplace_back(v.table());
    }
    std::vector<int64_t> ready_ns, claim_seqs, claims;
    std::vector<std::string> tables;
  } recorder;
  options_.observer = &recorder;
  auto scheduler = Open();
  Arrive(*scheduler, "e1");
  const std::map<std::string, ClaimedTask> claimed =
      ClaimAll(*scheduler, 1, {{"wh"}, {}});
  ASSERT_EQ(claimed.size(), 1u);
  const ClaimedTask& a = claimed.begin()->second;
  ASSERT_TRUE(scheduler->Complete(a.task, a.attempt, Outcome::SUCCEEDED).ok());
  ASSERT_EQ(recorder.claims.size(), 1u);
  EXPECT_THAT(recorder.claim_seqs, ElementsAre(recorder.claims[0]));
  // The history read back from the store says the same.
  for (const HistoryEntry& h : ::landfall::testing::History(
           *scheduler, 1, static_cast<size_t>(scheduler->LastSequence()))) {
    if (h.kind == EntryKind::kClaimed) {
      EXPECT_EQ(absl::ToUnixNanos(h.ready_at), recorder.ready_ns[0]);
    }
    if (h.kind == EntryKind::kSucceeded) {
      EXPECT_EQ(h.claim_seq, recorder.claims[0]);
    }
  }
  EXPECT_EQ(recorder.tables[0], "src");
}

std::shared_ptr<const Pipeline> SpecPlus(const std::string& extra) {
  auto pipeline = Pipeline::FromText(std::string(kSpec) + extra,
                                     SpecFormat::kTextProto, "spec");
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  return pipeline.ok() ? *pipeline : nullptr;
}

TEST_P(DurableSchedulerTest, OpeningWithACompatibleSpecDeploysIt) {
  auto first = Open();
  Arrive(*first, "e1");
  const ClaimedTask a = ClaimAll(*first, 1, {{"wh"}, {}}).at("a");
  auto next = SpecPlus("table { name: \"g\" upstream: \"src\" }");
  auto second = Scheduler::Open(next, Reopen(), options_);
  ASSERT_TRUE(second.ok()) << second.status();
  const int64_t last = (*second)->LastSequence();
  // The update, then g's task on the data landed before it.
  std::vector<HistoryEntry> update =
      ::landfall::testing::History(**second, last - 1, 2);
  ASSERT_EQ(update.size(), 2u);
  EXPECT_EQ(update[0].kind, EntryKind::kPipelineUpdated);
  EXPECT_EQ(update[0].detail, "1 table added (g)");
  EXPECT_FALSE(update[0].spec.empty());
  EXPECT_EQ(update[1].kind, EntryKind::kReady);
  EXPECT_EQ(update[1].table, "g");
  // The first scheduler follows, and its running attempt carries on.
  EXPECT_TRUE(first->Complete(a.task, a.attempt, Outcome::SUCCEEDED).ok());
  EXPECT_TRUE(first->pipeline().FindTable("g").has_value());
  Arrive(*first, "e2");
  EXPECT_EQ(StateOf(**second, "g"), TaskState::kReady);
  EXPECT_EQ(first->DebugState(), (*second)->DebugState());
}

TEST_P(DurableSchedulerTest, AnIncompatibleSpecIsRefusedAndChangesNothing) {
  auto first = Open();
  Arrive(*first, "e1");
  ClaimAll(*first, 1, {{"wh"}, {}});  // a runs.
  const int64_t last = first->LastSequence();
  std::string spec = kSpec;
  const std::string a = "table { name: \"a\" upstream: \"src\" pool: \"wh\" }";
  spec.erase(spec.find(a), a.size());
  spec += "table { name: \"d2\" upstream: \"d\" }";
  const std::string d = "table { name: \"e\" upstream: \"src\" }";
  spec.replace(spec.find(d), d.size(),
               "table { name: \"e\" upstream: \"src\" upstream: \"d\" }");
  auto next = Pipeline::FromText(spec, SpecFormat::kTextProto, "spec");
  ASSERT_TRUE(next.ok()) << next.status();
  auto opened = Scheduler::Open(*next, Reopen(), options_);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(opened.status().message()),
              HasSubstr("table \"a\" is removed while attempt 1 of "
                        "partition \"p\" runs"));
  EXPECT_THAT(std::string(opened.status().message()),
              HasSubstr("table \"e\" has task states, and its upstreams "
                        "change from [src] to [d, src]"));
  EXPECT_EQ(first->UpdatePipeline(*next).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(first->LastSequence(), last);
  EXPECT_FALSE(first->pipeline().FindTable("d2").has_value());
}

TEST_P(DurableSchedulerTest, OpeningWithoutAPipelineRunsTheStoresOne) {
  auto empty = Scheduler::Open(Reopen(), options_);
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kFailedPrecondition);
  auto first = Open();
  ASSERT_TRUE(
      first->UpdatePipeline(SpecPlus("table { name: \"g\" upstream: \"d\" }"))
          .ok());
  auto second = Scheduler::Open(Reopen(), options_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)->pipeline().name(), "durable");
  EXPECT_TRUE((*second)->pipeline().FindTable("g").has_value());
}

TEST_P(DurableSchedulerTest, UpdatesSurviveReopeningAndReplay) {
  auto scheduler = Open();
  Arrive(*scheduler, "e1");
  auto claimed = ClaimAll(*scheduler, 2, {{"wh"}, {}});
  ASSERT_TRUE(scheduler->SetPoolSlots("wh", 1).ok());
  // Drops "f" (idle but with a ready task), resizes nothing it did not say.
  std::string spec = kSpec;
  const std::string f = "table { name: \"f\" upstream: \"src\" }";
  spec.replace(spec.find(f), f.size(),
               "table { name: \"h\" upstream: \"src\" }");
  auto next = Pipeline::FromText(spec, SpecFormat::kTextProto, "spec");
  ASSERT_TRUE(next.ok());
  // Its states are dropped only when the deploy says so.
  absl::Status refused = scheduler->UpdatePipeline(*next);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("table \"f\" is removed and has task states"));
  DeployOptions force;
  force.force = true;
  ASSERT_TRUE(scheduler->Deploy(*next, force).ok());
  EXPECT_EQ(StateOf(*scheduler, "f"), TaskState::kWaiting);
  EXPECT_EQ(scheduler->List().by_pool.at("wh").at("RUNNING"), 2);
  for (const auto& [table, task] : claimed) {
    ASSERT_TRUE(
        scheduler->Complete(task.task, task.attempt, Outcome::SUCCEEDED).ok());
  }
  Arrive(*scheduler, "e2");
  // The pool keeps the size an operator gave it: one at once.
  EXPECT_EQ(ClaimAll(*scheduler, 10, {{"wh"}, {}}).size(), 1u);
  // Until a spec changes it.
  spec.replace(spec.find("slots: 3"), 8, "slots: 2");
  next = Pipeline::FromText(spec, SpecFormat::kTextProto, "spec");
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(scheduler->UpdatePipeline(*next).ok());
  EXPECT_EQ(ClaimAll(*scheduler, 10, {{"wh"}, {}}).size(), 1u);
  auto reopened = Scheduler::Open(Reopen(), options_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->DebugState(), scheduler->DebugState());
  auto history = ::landfall::testing::History(*scheduler, 1, SIZE_MAX);
  auto replayed = Scheduler::Replay(pipeline_, history, options_);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ((*replayed)->DebugState(), scheduler->DebugState());
}

TEST_P(DurableSchedulerTest, ACheckpointLetsHistoryBePrunedUpToIt) {
  auto scheduler = Open();
  Arrive(*scheduler, "e1");
  ClaimAll(*scheduler);
  const int64_t last = scheduler->LastSequence();
  ASSERT_TRUE(scheduler->Checkpoint().ok());
  EXPECT_EQ(scheduler->LastSequence(), last);  // Not an entry itself.
  ASSERT_TRUE(store_->Begin(StateStore::Access::kWrite).ok());
  auto snapshot = store_->ReadLatestSnapshot();
  ASSERT_TRUE(snapshot.ok() && snapshot->has_value());
  EXPECT_EQ((*snapshot)->seq, last);
  auto pruned = store_->PruneHistory(last + 1);
  ASSERT_TRUE(store_->Commit().ok());
  EXPECT_EQ(*pruned, last);
  auto reopened = Scheduler::Open(Reopen(), options_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->DebugState(), scheduler->DebugState());
  EXPECT_EQ((*reopened)->LastSequence(), last);
}

// A store whose commits fail on demand.
class FlakyStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  absl::Status Commit() override {
    if (fail_next_commit) {
      fail_next_commit = false;
      inner().Rollback();
      return absl::UnavailableError("disk went away");
    }
    return inner().Commit();
  }
  bool fail_next_commit = false;
};

TEST_P(DurableSchedulerTest, AFailedCommitIsReportedAndUndone) {
  auto flaky = std::make_shared<FlakyStore>(store_);
  auto scheduler = Open(flaky);
  Arrive(*scheduler, "e1");
  const int64_t last = scheduler->LastSequence();
  const std::string state = scheduler->DebugState();
  flaky->fail_next_commit = true;
  auto claimed = scheduler->Claim("w", 10);
  ASSERT_FALSE(claimed.ok());
  EXPECT_EQ(claimed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(scheduler->LastSequence(), last);
  EXPECT_EQ(scheduler->DebugState(), state);
  // The tasks were never handed out: the next claim gets them.
  EXPECT_THAT(Tables(ClaimAll(*scheduler)),
              ElementsAre("a", "b", "c", "d", "e", "f"));
}

TEST_P(DurableSchedulerTest, ADeployThatFailsToCommitLeavesThePipeline) {
  auto flaky = std::make_shared<FlakyStore>(store_);
  auto scheduler = Open(flaky);
  Arrive(*scheduler, "e1");
  flaky->fail_next_commit = true;
  EXPECT_EQ(
      scheduler
          ->UpdatePipeline(SpecPlus("table { name: \"g\" upstream: \"src\" }"))
          .code(),
      absl::StatusCode::kUnavailable);
  EXPECT_FALSE(scheduler->pipeline().FindTable("g").has_value());
  EXPECT_EQ(StateOf(*scheduler, "a"), TaskState::kReady);
}

// Arrival and success times come back from a snapshot: a source's arrival,
// a derived table's success, and both for a derived table built outside.
TEST_P(DurableSchedulerTest, ReopeningKeepsArrivalAndSuccessTimes) {
  options_.snapshot_every_entries = 1;
  auto first = Open();
  Arrive(*first, "e1");
  clock_.Advance(absl::Minutes(1));
  Arrival external;
  external.set_event_id("e2");
  external.set_table("d");
  external.set_partition("p");
  ASSERT_TRUE(first->Ingest(external).ok());
  clock_.Advance(absl::Minutes(1));
  auto claimed = ClaimAll(*first);
  ASSERT_TRUE(first->Complete(claimed["e"].task, 1, Outcome::SUCCEEDED).ok());
  ASSERT_TRUE(first->Checkpoint().ok());
  auto freshness = [](Scheduler& s, const std::string& table) {
    auto f = s.GetFreshness(table);
    EXPECT_TRUE(f.ok()) << f.status();
    EXPECT_EQ(f->partitions.size(), 1u);
    return std::make_pair(f->partitions[0].last_arrival,
                          f->partitions[0].last_success);
  };
  const auto src = freshness(*first, "src");
  const auto d = freshness(*first, "d");
  const auto e = freshness(*first, "e");
  EXPECT_NE(src.first, absl::InfinitePast());
  EXPECT_NE(d.first, absl::InfinitePast());
  EXPECT_NE(e.second, absl::InfinitePast());
  first.reset();

  auto second = Open(Reopen());
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(freshness(*second, "src"), src);
  EXPECT_EQ(freshness(*second, "d"), d);
  EXPECT_EQ(freshness(*second, "e"), e);
}

INSTANTIATE_TEST_SUITE_P(Stores, DurableSchedulerTest,
                         ::testing::Values(StoreKind::kMemory,
                                           StoreKind::kSqlite,
                                           StoreKind::kPostgres),
                         StoreKindName);

}  // namespace
}  // namespace landfall::testing
