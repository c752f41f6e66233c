// What an Observer's fast path (OnEntryView) is handed, against the
// history, and the attempt links every claim and attempt's end records.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/history.h"
#include "tests/core/scheduler_test_base.h"

namespace landfall::testing {
namespace {

constexpr char kSpec[] = R"(
defaults { lease: "10m" retry { max_attempts: 2 initial_backoff: "30s" } }
priority_class { name: "etl" }
priority_class { name: "adhoc" }
pool { name: "wh" slots: 2 }
table { name: "src" source: true }
table { name: "load" upstream: "src" pool: "wh" }
)";

// A view's fields and the whole entry it builds, kept past the call.
struct SeenView {
  int64_t seq, at_ns, until_ns, ready_ns, claim_seq, claimed_ns, attempt;
  bool claim_time_follows;
  EntryKind kind;
  std::string table, partition, worker, priority_class, pool;
  Outcome outcome;
  int slots;
  int32_t table_id;
  HistoryEntry whole;
};

int64_t NanosOrNone(absl::Time t) {
  return t == absl::InfinitePast() ? EntryView::kNoTime : absl::ToUnixNanos(t);
}

class ViewRecorder : public Observer {
 public:
  void OnEntryView(const EntryView& v) override {
    seen.push_back(SeenView{
        v.seq, v.at_ns, v.until_ns, v.ready_ns, v.claim_seq, v.claimed_ns,
        v.attempt, v.claim_time_follows, v.kind, std::string(v.table()),
        std::string(v.partition), std::string(v.worker),
        std::string(v.priority_class), std::string(v.pool), v.outcome, v.slots,
        v.table_id, v.ToHistoryEntry()});
  }
  std::vector<SeenView> seen;
};

class ObserverTest : public SchedulerTest {
 protected:
  void SetUp() override {
    SchedulerOptions options;
    options.observer = &recorder_;
    Load(kSpec, options);
  }

  // A night on load/p1: ready at T0, claimed at +5 s, fails (retryable) at
  // +35 s, due again at +65 s, claimed at +70 s, fails for good at +80 s;
  // then the operator resizes wh, moves load to adhoc and pauses etl.
  void RunNight() {
    Arrive("src", "p1");
    clock_.Advance(absl::Seconds(5));
    std::vector<ClaimedTask> first = Claim();
    ASSERT_EQ(first.size(), 1u);
    ASSERT_TRUE(scheduler_->Heartbeat(first[0].task, first[0].attempt).ok());
    clock_.Advance(absl::Seconds(30));
    ASSERT_TRUE(scheduler_
                    ->Complete(first[0].task, first[0].attempt,
                               Outcome::RETRYABLE, "timeout")
                    .ok());
    clock_.Advance(absl::Seconds(30));
    ASSERT_TRUE(scheduler_->Poll().ok());
    clock_.Advance(absl::Seconds(5));
    std::vector<ClaimedTask> second = Claim();
    ASSERT_EQ(second.size(), 1u);
    clock_.Advance(absl::Seconds(10));
    ASSERT_TRUE(
        scheduler_
            ->Complete(second[0].task, second[0].attempt, Outcome::FATAL, "no")
            .ok());
    ASSERT_TRUE(scheduler_->SetPoolSlots("wh", 3).ok());
    ASSERT_TRUE(scheduler_->SetPriorityClass("load", "adhoc").ok());
    ASSERT_TRUE(scheduler_->PauseClass("etl").ok());
  }

  // The one entry of `kind` the recorder saw (the `nth`, from 0).
  const SeenView& Seen(EntryKind kind, int nth = 0) {
    for (const SeenView& v : recorder_.seen) {
      if (v.kind == kind && nth-- == 0) return v;
    }
    ADD_FAILURE() << "no " << EntryKindName(kind) << " entry";
    static const SeenView kNone{};
    return kNone;
  }

  int64_t Ns(absl::Duration since_t0) const {
    return absl::ToUnixNanos(T0() + since_t0);
  }

  ViewRecorder recorder_;
};

TEST_F(ObserverTest, ViewsShowWhatTheHistoryRecords) {
  RunNight();
  const std::vector<HistoryEntry> history = History(*scheduler_, 1, SIZE_MAX);
  ASSERT_EQ(recorder_.seen.size(), history.size());
  for (size_t i = 0; i < history.size(); ++i) {
    const SeenView& v = recorder_.seen[i];
    const HistoryEntry& h = history[i];
    SCOPED_TRACE(h.ToString());
    EXPECT_EQ(v.seq, h.seq);
    EXPECT_EQ(v.at_ns, absl::ToUnixNanos(h.at));
    EXPECT_EQ(v.kind, h.kind);
    EXPECT_EQ(v.table, h.table);
    EXPECT_EQ(v.partition, h.partition);
    EXPECT_EQ(v.attempt, h.attempt);
    EXPECT_EQ(v.worker, h.worker);
    EXPECT_EQ(v.outcome, h.outcome);
    EXPECT_EQ(v.until_ns, NanosOrNone(h.until));
    EXPECT_EQ(v.priority_class, h.priority_class);
    EXPECT_EQ(v.pool, h.pool);
    EXPECT_EQ(v.slots, h.slots);
    EXPECT_EQ(v.ready_ns, NanosOrNone(h.ready_at));
    EXPECT_EQ(v.claim_seq, h.claim_seq);
    EXPECT_EQ(v.table_id,
              h.table.empty() ? -1 : pipeline_->FindTable(h.table).value());
    // The whole entry a view builds is the one the history holds.
    EXPECT_EQ(v.whole.ToString(), h.ToString());
    EXPECT_EQ(v.whole.detail, h.detail);
    EXPECT_EQ(v.whole.event_id, h.event_id);
    EXPECT_EQ(v.whole.ready_at, h.ready_at);
    EXPECT_EQ(v.whole.claim_seq, h.claim_seq);
  }
  EXPECT_EQ(Seen(EntryKind::kPoolResized).pool, "wh");
  EXPECT_EQ(Seen(EntryKind::kPoolResized).slots, 3);
  EXPECT_EQ(Seen(EntryKind::kClassChanged).priority_class, "adhoc");
  EXPECT_EQ(Seen(EntryKind::kPaused).priority_class, "etl");
}

TEST_F(ObserverTest, ClaimsRecordTheReadyTimeAndAttemptEndsTheirClaim) {
  RunNight();
  const SeenView& first = Seen(EntryKind::kClaimed, 0);
  const SeenView& second = Seen(EntryKind::kClaimed, 1);
  EXPECT_EQ(first.ready_ns, Ns(absl::ZeroDuration()));
  EXPECT_EQ(first.at_ns, Ns(absl::Seconds(5)));
  // Ready again when the retry was due, not when it first became ready.
  EXPECT_EQ(second.ready_ns, Ns(absl::Seconds(65)));
  EXPECT_EQ(Seen(EntryKind::kRetryScheduled).claim_seq, first.seq);
  EXPECT_EQ(Seen(EntryKind::kDead).claim_seq, second.seq);
  // Other kinds link nothing.
  EXPECT_EQ(Seen(EntryKind::kReady).ready_ns, EntryView::kNoTime);
  EXPECT_EQ(Seen(EntryKind::kHeartbeat).claim_seq, 0);
}

// An attempt's end carries when its claim was written, as each claim
// promises: an observer timing attempts keeps no map of claims.
TEST_F(ObserverTest, AttemptEndsCarryTheirClaimsTime) {
  RunNight();
  const SeenView& first = Seen(EntryKind::kClaimed, 0);
  const SeenView& second = Seen(EntryKind::kClaimed, 1);
  EXPECT_TRUE(first.claim_time_follows);
  EXPECT_TRUE(second.claim_time_follows);
  EXPECT_EQ(Seen(EntryKind::kRetryScheduled).claimed_ns, first.at_ns);
  EXPECT_EQ(Seen(EntryKind::kDead).claimed_ns, second.at_ns);
  for (const SeenView& v : recorder_.seen) {
    SCOPED_TRACE(v.whole.ToString());
    if (v.kind != EntryKind::kClaimed) {
      EXPECT_FALSE(v.claim_time_follows);
    }
    if (v.kind != EntryKind::kRetryScheduled && v.kind != EntryKind::kDead) {
      EXPECT_EQ(v.claimed_ns, EntryView::kNoTime);
    }
  }
}

// A deploy moves the state through a snapshot: a running attempt's claim
// time goes with it.
TEST_F(ObserverTest, AClaimsTimeOutlivesADeploy) {
  Arrive("src", "p1");
  clock_.Advance(absl::Seconds(5));
  std::vector<ClaimedTask> claimed = Claim();
  ASSERT_EQ(claimed.size(), 1u);
  auto next = Pipeline::FromText(
      std::string(kSpec) + "table { name: \"more\" upstream: \"src\" }\n",
      SpecFormat::kTextProto, "next");
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_TRUE(scheduler_->Deploy(*next, {}).ok());
  clock_.Advance(absl::Seconds(30));
  ASSERT_TRUE(
      scheduler_
          ->Complete(claimed[0].task, claimed[0].attempt, Outcome::SUCCEEDED)
          .ok());
  EXPECT_EQ(Seen(EntryKind::kSucceeded).claimed_ns,
            Seen(EntryKind::kClaimed).at_ns);
}

// Each operation's entries come between one BeginEntries and its
// EndEntries, which never nest.
TEST_F(ObserverTest, EachOperationsEntriesAreBracketed) {
  struct Brackets : Observer {
    void BeginEntries() override {
      EXPECT_FALSE(open);
      open = true;
      ++begun;
      in_this.push_back(0);
    }
    void EndEntries() override {
      EXPECT_TRUE(open);
      open = false;
    }
    void OnEntryView(const EntryView& v) override {
      if (!open) {
        ADD_FAILURE() << "entry " << v.seq << " outside a bracket";
        return;
      }
      ++in_this.back();
    }
    bool open = false;
    int begun = 0;
    std::vector<int> in_this;  // Entries per bracket.
  } brackets;
  SchedulerOptions options;
  options.observer = &brackets;
  Load(kSpec, options);
  Arrive("src", "p1");  // An arrival and a ready task: one operation.
  ASSERT_EQ(Claim().size(), 1u);
  EXPECT_FALSE(brackets.open);
  EXPECT_THAT(brackets.in_this, ::testing::Contains(2));
  EXPECT_THAT(brackets.in_this, ::testing::Contains(1));  // The claim.
  int entries = 0;
  for (int n : brackets.in_this) entries += n;
  EXPECT_EQ(entries, scheduler_->LastSequence());
  options_.observer = nullptr;  // TearDown's replay outlives `brackets`.
}

TEST(ObserverDefaultTest, AnObserverOfHistoryEntriesHearsThemWhole) {
  struct Recorder : Observer {
    void OnEntry(const HistoryEntry& e) override { seen.push_back(e); }
    std::vector<HistoryEntry> seen;
  } recorder;
  auto pipeline = Pipeline::FromText(kSpec, SpecFormat::kTextProto, "spec");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  ManualClock clock;
  clock.Set(absl::FromUnixSeconds(1541293200));
  SchedulerOptions options;
  options.clock = &clock;
  options.observer = &recorder;
  auto scheduler = *Scheduler::Create(*pipeline, options);
  Arrival a;
  a.set_event_id("e1");
  a.set_table("src");
  a.set_partition("p1");
  ASSERT_TRUE(scheduler->Ingest(a).ok());
  clock.Advance(absl::Seconds(5));
  auto claimed = scheduler->Claim("w", 1);
  ASSERT_TRUE(claimed.ok() && claimed->size() == 1u);
  ASSERT_TRUE(
      scheduler->Complete((*claimed)[0].task, 1, Outcome::SUCCEEDED).ok());
  ASSERT_EQ(recorder.seen.size(), 4u);  // Arrival, ready, claim, success.
  EXPECT_EQ(recorder.seen[0].event_id, "e1");
  EXPECT_EQ(recorder.seen[1].detail, "upstream src/p1 reached version 1");
  EXPECT_EQ(recorder.seen[2].ready_at, recorder.seen[1].at);
  EXPECT_EQ(recorder.seen[3].claim_seq, recorder.seen[2].seq);
}

}  // namespace
}  // namespace landfall::testing
