// Alert rules on the manual clock, and a runner alerting through a real
// webhook endpoint.
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/alerts.h"
#include "landfall/runner.h"
#include "lib/testing/forwarding_store.h"
#include "tests/alerts/recording_notifier.h"
#include "tests/alerts/webhook_receiver.h"
#include "tests/core/scheduler_test_base.h"

namespace landfall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class AlertRulesTest : public SchedulerTest {
 protected:
  void Check() { rules_->Check(*scheduler_, clock_.Now()); }
  void Fail(const ClaimedTask& t, Outcome outcome = Outcome::RETRYABLE) {
    ASSERT_TRUE(
        scheduler_->Complete(t.task, t.attempt, outcome, "exit 1").ok());
  }

  RecordingNotifier notifier_;
  std::unique_ptr<AlertRules> rules_ = std::make_unique<AlertRules>(&notifier_);
};

TEST_F(AlertRulesTest, DeadTaskAlertsOnceNotOncePerRetry) {
  Load(R"(
defaults { retry { max_attempts: 3 initial_backoff: "1s" max_backoff: "1s" } }
table { name: "raw" source: true }
table { name: "orders" upstream: "raw" }
)");
  Arrive("raw", "2018-11-03");
  for (int i = 0; i < 3; ++i) {
    for (const ClaimedTask& t : Claim()) Fail(t);
    Check();
    clock_.Advance(absl::Seconds(2));
    ASSERT_TRUE(scheduler_->Poll().ok());
  }
  Check();
  ASSERT_THAT(notifier_.Keys(), ElementsAre("+dead/orders/2018-11-03/3"));
  const Alert a = notifier_.alerts()[0];
  EXPECT_EQ(a.kind, Alert::Kind::kTaskDead);
  EXPECT_THAT(a.text, HasSubstr("task orders/2018-11-03 is DEAD after "
                                "attempt 3: exit 1"));
  EXPECT_EQ(a.fields.at("error"), "exit 1");
  EXPECT_THAT(a.fields.at("explain"), HasSubstr("dead"));
  // Redriven and dead again: a new alert for the new dead attempt.
  ASSERT_TRUE(scheduler_->Redrive({"orders", "2018-11-03"}).ok());
  Check();
  for (const ClaimedTask& t : Claim()) Fail(t, Outcome::FATAL);
  Check();
  Check();
  EXPECT_THAT(notifier_.Keys(), ElementsAre("+dead/orders/2018-11-03/3",
                                            "+dead/orders/2018-11-03/4"));
}

TEST_F(AlertRulesTest, StaleTableAlertsAndRecovers) {
  Load(R"(
table { name: "raw" source: true freshness { max_lag: "1h" } }
)");
  Arrive("raw", "2018-11-03");
  clock_.Advance(absl::Minutes(59));
  Check();
  EXPECT_THAT(notifier_.Keys(), IsEmpty());
  clock_.Advance(absl::Minutes(2));
  Check();
  Check();
  EXPECT_THAT(notifier_.Keys(), ElementsAre("+lag/raw"));
  EXPECT_THAT(notifier_.alerts()[0].text,
              HasSubstr("table raw is stale: last updated 1h1m ago "
                        "(max_lag 1h)"));
  Arrive("raw", "2018-11-04");
  Check();
  EXPECT_THAT(notifier_.Keys(), ElementsAre("+lag/raw", "-lag/raw"));
  EXPECT_THAT(notifier_.alerts()[1].text, HasSubstr("Resolved: "));
}

TEST_F(AlertRulesTest, PoolQueueWaitAlertsPastTheThresholdAndRecovers) {
  Load(R"(
pool { name: "dwh" slots: 1 }
table { name: "raw" source: true }
table { name: "orders" upstream: "raw" pool: "dwh" }
)");
  AlertOptions options;
  options.queue_wait = absl::Minutes(15);
  rules_ = std::make_unique<AlertRules>(&notifier_, options);
  Arrive("raw", "2018-11-03");
  clock_.Advance(absl::Minutes(15));
  Check();
  EXPECT_THAT(notifier_.Keys(), IsEmpty());
  clock_.Advance(absl::Seconds(1));
  Check();
  ASSERT_THAT(notifier_.Keys(), ElementsAre("+queue/dwh"));
  EXPECT_EQ(notifier_.alerts()[0].pool, "dwh");
  EXPECT_THAT(notifier_.alerts()[0].text,
              HasSubstr("pool dwh has a task READY for 15m1s "
                        "(orders/2018-11-03), over the 15m threshold"));
  Claim();
  Check();
  EXPECT_THAT(notifier_.Keys(), ElementsAre("+queue/dwh", "-queue/dwh"));
}

TEST_F(AlertRulesTest, StoreOutageAlertsOnceAndRecoversOnce) {
  Load(R"(table { name: "raw" source: true })");
  const absl::Status down = absl::UnavailableError("connection refused");
  rules_->OnStoreStatus(absl::OkStatus(), clock_.Now());
  rules_->OnStoreStatus(down, clock_.Now());
  rules_->OnStoreStatus(down, clock_.Now());
  rules_->OnStoreStatus(absl::NotFoundError("no such task"), clock_.Now());
  rules_->OnStoreStatus(absl::OkStatus(), clock_.Now());
  rules_->OnStoreStatus(absl::OkStatus(), clock_.Now());
  EXPECT_THAT(notifier_.Keys(), ElementsAre("+store", "-store"));
  EXPECT_THAT(notifier_.alerts()[0].text,
              HasSubstr("state store is unreachable: connection refused"));
}

// A runner on a scheduler in memory (or on a store), alerting through a
// notifier, with a source table "raw".
class RunnerAlertsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (runner_ != nullptr) runner_->Stop(absl::ZeroDuration());
  }

  // Opens scheduler_ on `spec`; use under ASSERT_NO_FATAL_FAILURE.
  void Open(const char* spec, std::shared_ptr<StateStore> store = nullptr) {
    auto pipeline = Pipeline::FromText(spec, SpecFormat::kTextProto, "spec");
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    auto scheduler = store == nullptr ? Scheduler::Create(*pipeline)
                                      : Scheduler::Open(*pipeline, store);
    ASSERT_TRUE(scheduler.ok()) << scheduler.status();
    scheduler_ = *std::move(scheduler);
  }

  // Starts runner_ with `options`, `notifier`, and every attempt ending as
  // `outcome` says; use under ASSERT_NO_FATAL_FAILURE.
  void StartRunner(RunnerOptions options, std::shared_ptr<Notifier> notifier,
                   std::function<AttemptResult(const ClaimedTask&)> outcome) {
    options.notifier = std::move(notifier);
    options.executor = NewCallbackExecutor(
        [outcome](const ClaimedTask& t, const std::atomic<bool>&) {
          return outcome(t);
        });
    auto runner = Runner::Create(scheduler_, std::move(options));
    ASSERT_TRUE(runner.ok()) << runner.status();
    runner_ = *std::move(runner);
    ASSERT_TRUE(runner_->Start().ok());
  }

  // Arrivals of raw's `partitions` (event ids e<partition>), and the runner
  // woken.
  void Arrive(const std::vector<std::string>& partitions) {
    std::vector<Arrival> arrivals;
    for (const std::string& p : partitions) {
      Arrival& a = arrivals.emplace_back();
      a.set_event_id("e" + p);
      a.set_table("raw");
      a.set_partition(p);
    }
    ASSERT_TRUE(scheduler_->IngestBatch(arrivals).ok());
    runner_->Notify();
  }

  std::shared_ptr<Scheduler> scheduler_;
  std::unique_ptr<Runner> runner_;
};

// A runner whose webhook never answers: alerts wait on the notifier's
// thread while the workers go on claiming.
TEST_F(RunnerAlertsTest, SchedulingGoesOnWhileTheWebhookHangs) {
  WebhookReceiver receiver;
  receiver.Hang();
  ASSERT_NO_FATAL_FAILURE(Open(R"(
table { name: "raw" source: true }
table { name: "good" upstream: "raw" }
table { name: "bad" upstream: "raw" retry { max_attempts: 1 } }
)"));
  WebhookOptions webhook;
  webhook.urls = {receiver.url()};
  webhook.timeout = absl::Seconds(5);
  webhook.max_attempts = 1;
  auto notifier = WebhookNotifier::Create(webhook);
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  RunnerOptions options;
  options.max_workers = 4;
  options.alerts.check_interval = absl::Milliseconds(20);
  ASSERT_NO_FATAL_FAILURE(
      StartRunner(options, std::move(*notifier), [](const ClaimedTask& t) {
        return t.task.table == "bad" ? AttemptResult{Outcome::FATAL, "exit 2"}
                                     : AttemptResult{Outcome::SUCCEEDED, ""};
      }));
  // The first dead task's alert reaches the endpoint, which holds it.
  ASSERT_NO_FATAL_FAILURE(Arrive({"p0"}));
  ASSERT_TRUE(receiver.WaitForRequests(1, absl::Seconds(10)));
  EXPECT_THAT(receiver.bodies()[0], HasSubstr("task bad/p0 is DEAD"));
  // With that request hanging, 20 more partitions are built (and their
  // alerts queued) well within the webhook's timeout.
  const absl::Time start = absl::Now();
  std::vector<std::string> partitions;
  for (int i = 1; i <= 20; ++i) partitions.push_back(absl::StrCat("p", i));
  ASSERT_NO_FATAL_FAILURE(Arrive(partitions));
  const RunSummary summary =
      runner_->WaitUntilIdle(absl::ZeroDuration(), absl::Seconds(10));
  EXPECT_TRUE(summary.idle);
  EXPECT_EQ(summary.tasks.succeeded, 21);
  EXPECT_EQ(summary.tasks.dead, 21);
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));
  EXPECT_EQ(receiver.bodies().size(), 1u);  // Still waiting on the first.
  // Stopping does not wait on the endpoint either.
  const absl::Time stop = absl::Now();
  runner_->Stop(absl::ZeroDuration());
  runner_.reset();
  EXPECT_LT(absl::Now() - stop, absl::Seconds(3));
}

// A store that answers Unavailable while `down`.
class FlakyStore : public ForwardingStore {
 public:
  FlakyStore() : ForwardingStore(NewMemoryStore()) {}
  absl::Status Begin(Access a) override {
    if (down.load()) return absl::UnavailableError("store: connection lost");
    return ForwardingStore::Begin(a);
  }
  std::atomic<bool> down{false};
};

// Waits up to 10 seconds for `notifier` to hold `n` alerts.
bool WaitForAlerts(RecordingNotifier& notifier, size_t n) {
  for (int i = 0; i < 1000 && notifier.alerts().size() < n; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  return notifier.alerts().size() >= n;
}

constexpr char kRawToOrders[] = R"(
table { name: "raw" source: true }
table { name: "orders" upstream: "raw" retry { max_attempts: 1 } }
)";

TEST_F(RunnerAlertsTest, StoreOutageSeenByClaimsAlertsOnceAndRecovers) {
  auto store = std::make_shared<FlakyStore>();
  ASSERT_NO_FATAL_FAILURE(Open(kRawToOrders, store));
  auto notifier = std::make_shared<RecordingNotifier>();
  RunnerOptions options;
  options.max_workers = 1;
  options.idle_poll = absl::Milliseconds(10);
  ASSERT_NO_FATAL_FAILURE(StartRunner(
      options, notifier, [](const ClaimedTask&) { return AttemptResult{}; }));
  store->down.store(true);
  ASSERT_TRUE(WaitForAlerts(*notifier, 1));
  absl::SleepFor(absl::Milliseconds(50));  // Failing claims meanwhile.
  store->down.store(false);
  ASSERT_TRUE(WaitForAlerts(*notifier, 2));
  runner_->Stop(absl::ZeroDuration());
  EXPECT_THAT(notifier->Keys(), ElementsAre("+store", "-store"));
  EXPECT_THAT(notifier->alerts()[0].text,
              HasSubstr("state store is unreachable: store: connection lost"));
}

// Between two checks an hour apart, the stop's own check tells of the task
// that died, and the notifier gets the rest of the grace period.
TEST_F(RunnerAlertsTest, StopChecksOnceMoreAndFlushesWithinTheGrace) {
  ASSERT_NO_FATAL_FAILURE(Open(kRawToOrders));
  auto notifier = std::make_shared<RecordingNotifier>();
  RunnerOptions options;
  options.alerts.check_interval = absl::Hours(1);
  ASSERT_NO_FATAL_FAILURE(
      StartRunner(options, notifier, [](const ClaimedTask&) {
        return AttemptResult{Outcome::FATAL, "exit 2"};
      }));
  // Start made the first check, before the task below died.
  ASSERT_NO_FATAL_FAILURE(Arrive({"2018-11-03"}));
  EXPECT_TRUE(
      runner_->WaitUntilIdle(absl::ZeroDuration(), absl::Seconds(10)).idle);
  EXPECT_THAT(notifier->Keys(), IsEmpty());
  runner_->Stop(absl::Seconds(5));
  EXPECT_THAT(notifier->Keys(), ElementsAre("+dead/orders/2018-11-03/1"));
  ASSERT_EQ(notifier->flushed_for().size(), 1u);
  EXPECT_GT(notifier->flushed_for()[0], absl::Seconds(4));
}

}  // namespace
}  // namespace landfall::testing
