// The SQS source end to end against the emulator (.ci/fauxqs): a day of S3
// notifications through a Runner into a SQLite store, duplicates and a
// poison message among them; a slow commit that the visibility extension
// covers; a missing queue; and a process SIGKILLed between its commit and
// its delete.
#include "landfall/sqs_source.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "landfall/runner.h"
#include "landfall/state_store.h"
#include "lib/testing/history.h"
#include "tests/sources/sqs_test_env.h"

namespace landfall {
namespace {

namespace fs = std::filesystem;
using testing::EmulatorClient;
using testing::Eventually;
using testing::QueueDepth;
using testing::S3Notification;

constexpr char kSpec[] = R"(
pool { name: "wh" slots: 4 }
defaults { pool: "wh" lease: "30s" }
table { name: "lake.orders" source: true }
table { name: "lake.users" source: true }
table { name: "lake.items" source: true }
table { name: "lake.dims" source: true partitioned: false }
table { name: "dwh.orders" upstream: "lake.orders" }
table { name: "dwh.users" upstream: "lake.users" }
table { name: "dwh.sales" upstream: ["lake.orders", "lake.items", "lake.dims"] }
table { name: "mart.daily" upstream: ["dwh.orders", "dwh.users", "dwh.sales"] }
)";

// The objects of a day: each partitioned source's two partitions and the
// unpartitioned one.
std::vector<std::string> DayOfObjects() {
  std::vector<std::string> keys;
  for (const char* table : {"lake.orders", "lake.users", "lake.items"}) {
    for (const char* day : {"2018-11-03", "2018-11-04"}) {
      keys.push_back(absl::StrCat(table, "/", day, "/part-0.parquet"));
    }
  }
  keys.push_back("lake.dims/dims.csv");
  return keys;
}

int CountKind(Scheduler& s, EntryKind kind) {
  int n = 0;
  for (const HistoryEntry& e : testing::History(s, 1, 100000)) {
    if (e.kind == kind) ++n;
  }
  return n;
}

class SqsSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           absl::StrCat("landfall-sqs-", getpid(), "-", ++counter_);
    fs::create_directories(dir_);
    pipeline_ =
        Pipeline::FromText(kSpec, SpecFormat::kTextProto, "spec").value();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string StoreUri() const {
    return "sqlite:" + (dir_ / "state.db").string();
  }

  std::shared_ptr<Scheduler> OpenScheduler() {
    auto store = OpenStateStore(StoreUri());
    EXPECT_TRUE(store.ok()) << store.status();
    auto s = Scheduler::Open(pipeline_, *store);
    EXPECT_TRUE(s.ok()) << s.status();
    return std::shared_ptr<Scheduler>(*std::move(s));
  }

  // A queue, with a dead-letter queue after `max_receives` when positive.
  std::string NewQueue(internal::SqsClient& client, int max_receives = 0,
                       std::string* dlq_url = nullptr) {
    std::map<std::string, std::string> attributes;
    if (max_receives > 0) {
      const std::string dlq_name = testing::NewQueueName("dlq");
      *dlq_url = client.CreateQueue(dlq_name, {}).value();
      const std::string arn =
          client.GetAttributes(*dlq_url).value()["QueueArn"];
      attributes["RedrivePolicy"] =
          absl::StrCat(R"({"deadLetterTargetArn":")", arn,
                       R"(","maxReceiveCount":")", max_receives, R"("})");
    }
    absl::StatusOr<std::string> url =
        client.CreateQueue(testing::NewQueueName("q"), attributes);
    EXPECT_TRUE(url.ok()) << url.status();
    return *url;
  }

  void SendAll(internal::SqsClient& client, const std::string& url,
               const std::vector<std::string>& bodies) {
    for (size_t i = 0; i < bodies.size(); i += 10) {
      std::vector<std::string> part(
          bodies.begin() + i, bodies.begin() + std::min(bodies.size(), i + 10));
      ASSERT_TRUE(client.SendBatch(url, part).ok());
    }
  }

  // A new queue holding one notification (lake.orders/2018-11-03/a), and
  // a source on it started to commit through `deliver`.
  std::unique_ptr<SqsSource> StartOnOneNotification(internal::SqsClient& client,
                                                    std::string* url,
                                                    Source::Deliver deliver) {
    *url = NewQueue(client);
    SendAll(client, *url, {S3Notification("lake.orders/2018-11-03/a", "s1")});
    std::unique_ptr<SqsSource> source =
        NewSqsSource(pipeline_, Options(*url)).value();
    EXPECT_TRUE(source->Start(std::move(deliver)).ok());
    return source;
  }

  SqsSourceOptions Options(const std::string& url) {
    SqsSourceOptions options;
    options.queue_url = url;
    options.endpoint = testing::TestSqsEndpoint();
    options.wait_time_seconds = 1;
    options.visibility_timeout = absl::Seconds(2);
    options.receivers = 2;
    return options;
  }

  static inline int counter_ = 0;
  fs::path dir_;
  std::shared_ptr<const Pipeline> pipeline_;
};

TEST_F(SqsSourceTest, DayOfNotificationsBuildsEveryTableOnceAndEmptiesQueue) {
  LANDFALL_REQUIRE_SQS_EMULATOR();
  internal::SqsClient client = EmulatorClient();
  std::string dlq;
  const std::string url = NewQueue(client, 2, &dlq);
  std::vector<std::string> bodies;
  int n = 0;
  for (const std::string& key : DayOfObjects()) {
    const std::string body = S3Notification(key, absl::StrCat("seq", ++n));
    bodies.push_back(body);
    bodies.push_back(body);  // S3 delivers at least once.
  }
  bodies.push_back(R"({"Service":"Amazon S3","Event":"s3:TestEvent"})");
  bodies.push_back(S3Notification("lake.unknown/2018-11-03/x", "seq-poison"));
  SendAll(client, url, bodies);

  std::shared_ptr<Scheduler> scheduler = OpenScheduler();
  absl::Mutex mu;
  std::map<std::string, int> builds;
  std::vector<std::string> errors;
  RunnerOptions options;
  options.executor = NewCallbackExecutor(
      [&](const ClaimedTask& task, const std::atomic<bool>&) {
        absl::MutexLock lock(&mu);
        ++builds[absl::StrCat(task.task.table, "/", task.task.partition)];
        return AttemptResult();
      });
  options.idle_poll = absl::Milliseconds(100);
  options.on_event = [&](const RunnerEvent& e) {
    absl::MutexLock lock(&mu);
    if (e.kind == RunnerEvent::Kind::kError) errors.push_back(e.message);
  };
  auto runner = Runner::Create(scheduler, options).value();
  std::unique_ptr<SqsSource> owned =
      NewSqsSource(pipeline_, Options(url)).value();
  SqsSource* source = owned.get();
  runner->AddSource(std::move(owned));
  ASSERT_TRUE(runner->Start().ok());

  // The poison message goes to the dead-letter queue after two receives,
  // each a visibility timeout (2s) apart.
  EXPECT_TRUE(Eventually([&] { return QueueDepth(client, dlq).first == 1; },
                         absl::Seconds(30)));
  EXPECT_TRUE(Eventually(
      [&] {
        return source->Drained() &&
               runner->WaitUntilIdle(absl::Milliseconds(300), absl::Seconds(1))
                   .idle;
      },
      absl::Seconds(30)));
  runner->Stop(absl::Seconds(5));

  const std::map<std::string, int> expected = {
      {"dwh.orders/2018-11-03", 1}, {"dwh.orders/2018-11-04", 1},
      {"dwh.users/2018-11-03", 1},  {"dwh.users/2018-11-04", 1},
      {"dwh.sales/2018-11-03", 1},  {"dwh.sales/2018-11-04", 1},
      {"mart.daily/2018-11-03", 1}, {"mart.daily/2018-11-04", 1}};
  EXPECT_EQ(builds, expected);
  EXPECT_EQ(CountKind(*scheduler, EntryKind::kArrival), 7);
  EXPECT_EQ(CountKind(*scheduler, EntryKind::kDuplicate), 7);
  EXPECT_EQ(QueueDepth(client, url), std::make_pair(0, 0));
  const SqsSourceStats stats = source->stats();
  EXPECT_EQ(stats.deleted, 15);  // 14 notifications and the test event.
  EXPECT_EQ(stats.ignored, 1);
  EXPECT_GE(stats.poison, 2);
  bool told = false;
  for (const std::string& e : errors) {
    if (e.find("redrive policy") != std::string::npos &&
        e.find("unknown table \"lake.unknown\"") != std::string::npos &&
        e.find(url) != std::string::npos) {
      told = true;
    }
  }
  EXPECT_TRUE(told) << "the poison message was not reported";
}

TEST_F(SqsSourceTest, SlowCommitKeepsTheMessageInvisibleUntilDeleted) {
  LANDFALL_REQUIRE_SQS_EMULATOR();
  internal::SqsClient client = EmulatorClient();
  std::atomic<int> calls{0};
  // Committing takes longer than the 2s visibility timeout: without an
  // extension the other receiver would get the message meanwhile.
  std::string url;
  std::unique_ptr<SqsSource> source =
      StartOnOneNotification(client, &url, [&](std::vector<Arrival>) {
        ++calls;
        absl::SleepFor(absl::Milliseconds(3500));
        return absl::OkStatus();
      });
  EXPECT_TRUE(Eventually([&] { return source->stats().deleted == 1; },
                         absl::Seconds(15)));
  absl::SleepFor(absl::Seconds(1));
  source->Stop();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(source->stats().received, 1);
  EXPECT_EQ(QueueDepth(client, url), std::make_pair(0, 0));
}

TEST_F(SqsSourceTest, UncommittedArrivalsAreNotDeleted) {
  LANDFALL_REQUIRE_SQS_EMULATOR();
  internal::SqsClient client = EmulatorClient();
  std::string url;
  std::unique_ptr<SqsSource> source =
      StartOnOneNotification(client, &url, [&](std::vector<Arrival>) {
        return absl::UnavailableError("store away");
      });
  EXPECT_TRUE(Eventually([&] { return source->stats().received >= 1; },
                         absl::Seconds(10)));
  source->Stop();
  EXPECT_EQ(source->stats().deleted, 0);
  const std::pair<int, int> depth = QueueDepth(client, url);
  EXPECT_EQ(depth.first + depth.second, 1);
}

TEST_F(SqsSourceTest, AStoreAwayIsWaitedForWithoutTheMessageComingBack) {
  LANDFALL_REQUIRE_SQS_EMULATOR();
  internal::SqsClient client = EmulatorClient();
  std::atomic<int> calls{0};
  std::string url;
  std::unique_ptr<SqsSource> source =
      StartOnOneNotification(client, &url, [&](std::vector<Arrival>) {
        return ++calls <= 3 ? absl::UnavailableError("store away")
                            : absl::OkStatus();
      });
  EXPECT_TRUE(Eventually([&] { return source->stats().deleted == 1; },
                         absl::Seconds(15)));
  source->Stop();
  EXPECT_EQ(calls.load(), 4);
  // Held through the outage: received once, never returned to the queue.
  EXPECT_EQ(source->stats().received, 1);
  EXPECT_EQ(source->stats().arrivals, 1);
  EXPECT_EQ(QueueDepth(client, url), std::make_pair(0, 0));
}

TEST_F(SqsSourceTest, ACleanStopDeletesWhatWasCommittedBeforeIt) {
  LANDFALL_REQUIRE_SQS_EMULATOR();
  internal::SqsClient client = EmulatorClient();
  std::atomic<bool> committing{false};
  std::string url;
  std::unique_ptr<SqsSource> source =
      StartOnOneNotification(client, &url, [&](std::vector<Arrival>) {
        committing = true;
        // Stop comes while this commit is under way.
        absl::SleepFor(absl::Milliseconds(300));
        return absl::OkStatus();
      });
  ASSERT_TRUE(Eventually([&] { return committing.load(); }, absl::Seconds(10)));
  source->Stop();
  EXPECT_EQ(source->stats().arrivals, 1);
  EXPECT_EQ(source->stats().deleted, 1);
  EXPECT_EQ(QueueDepth(client, url), std::make_pair(0, 0));
}

TEST_F(SqsSourceTest, PoisonMessageComesBackOnlyAfterItsVisibilityTimeout) {
  LANDFALL_REQUIRE_SQS_EMULATOR();
  internal::SqsClient client = EmulatorClient();
  const std::string url = NewQueue(client);  // No redrive policy.
  SendAll(client, url, {"not a notification"});
  std::unique_ptr<SqsSource> source =
      NewSqsSource(pipeline_, Options(url)).value();
  ASSERT_TRUE(
      source->Start([](std::vector<Arrival>) { return absl::OkStatus(); })
          .ok());
  // Received at once and again once each 2s visibility timeout ends: twice
  // in 3.5 seconds, however many receivers ask.
  absl::SleepFor(absl::Milliseconds(3500));
  source->Stop();
  EXPECT_GE(source->stats().poison, 1);
  EXPECT_LE(source->stats().poison, 2);
  EXPECT_EQ(source->stats().deleted, 0);
  const std::pair<int, int> depth = QueueDepth(client, url);
  EXPECT_EQ(depth.first + depth.second, 1);
}

TEST_F(SqsSourceTest, MissingQueueStopsStartNamingTheQueue) {
  LANDFALL_REQUIRE_SQS_EMULATOR();
  EmulatorClient();
  const std::string url =
      testing::TestSqsEndpoint() + "/000000000000/landfall-no-such-queue";
  std::unique_ptr<SqsSource> source =
      NewSqsSource(pipeline_, Options(url)).value();
  const absl::Status s =
      source->Start([](std::vector<Arrival>) { return absl::OkStatus(); });
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_NE(s.message().find(url), absl::string_view::npos) << s;
}

TEST(SqsSourceOptionsTest, BadOptionsAndMissingCredentialsAreRefused) {
  auto pipeline =
      Pipeline::FromText(kSpec, SpecFormat::kTextProto, "spec").value();
  setenv("AWS_ACCESS_KEY_ID", "AKIDLANDFALLTEST", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "landfall-test-secret-key", 1);
  setenv("AWS_REGION", "us-east-1", 1);
  SqsSourceOptions good;
  good.queue_url = "http://127.0.0.1:1/000000000000/q";
  EXPECT_TRUE(NewSqsSource(pipeline, good).ok());
  for (auto change : std::vector<std::function<void(SqsSourceOptions&)>>{
           [](SqsSourceOptions& o) { o.queue_url = "ftp://x/q"; },
           [](SqsSourceOptions& o) { o.receivers = 0; },
           [](SqsSourceOptions& o) { o.wait_time_seconds = 21; },
           [](SqsSourceOptions& o) { o.max_messages = 11; },
           [](SqsSourceOptions& o) {
             o.visibility_timeout = absl::ZeroDuration();
           },
           [](SqsSourceOptions& o) { o.key_rule = "{partition}"; }}) {
    SqsSourceOptions o = good;
    change(o);
    EXPECT_TRUE(absl::IsInvalidArgument(NewSqsSource(pipeline, o).status()));
  }
  unsetenv("AWS_SECRET_ACCESS_KEY");
  const absl::Status s = NewSqsSource(pipeline, good).status();
  setenv("AWS_SECRET_ACCESS_KEY", "landfall-test-secret-key", 1);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(s.message().find("AWS_SECRET_ACCESS_KEY"), absl::string_view::npos);
}

// The child's side of the crash test: commits the first batch it receives,
// then dies before it can delete the messages.
[[noreturn]] void CommitThenDie(std::shared_ptr<const Pipeline> pipeline,
                                const std::string& store_uri,
                                SqsSourceOptions options) {
  auto store = OpenStateStore(store_uri);
  if (!store.ok()) _exit(2);
  auto scheduler = Scheduler::Open(pipeline, *store);
  if (!scheduler.ok()) _exit(3);
  auto source = NewSqsSource(pipeline, options);
  if (!source.ok()) _exit(4);
  absl::Status started = (*source)->Start([&](std::vector<Arrival> arrivals) {
    absl::Status s = (*scheduler)->IngestBatch(arrivals).status();
    if (s.ok()) raise(SIGKILL);  // Committed; the delete never happens.
    return s;
  });
  if (!started.ok()) _exit(5);
  absl::SleepFor(absl::Seconds(30));
  _exit(6);
}

TEST_F(SqsSourceTest, KilledBetweenCommitAndDeleteIngestsEachArrivalOnce) {
  LANDFALL_REQUIRE_SQS_EMULATOR();
  internal::SqsClient client = EmulatorClient();
  const std::string url = NewQueue(client);
  std::vector<std::string> bodies;
  for (int i = 0; i < 5; ++i) {
    bodies.push_back(
        S3Notification(absl::StrCat("lake.orders/2018-11-0", i + 1, "/part-0"),
                       absl::StrCat("s", i)));
  }
  SendAll(client, url, bodies);
  SqsSourceOptions options = Options(url);
  options.receivers = 1;
  OpenScheduler();  // Created before the child, which opens it.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) CommitThenDie(pipeline_, StoreUri(), options);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child ended with status " << status;

  std::shared_ptr<Scheduler> scheduler = OpenScheduler();
  const int committed = CountKind(*scheduler, EntryKind::kArrival);
  ASSERT_GE(committed, 1);
  {
    const std::pair<int, int> depth = QueueDepth(client, url);
    EXPECT_EQ(depth.first + depth.second, 5) << "nothing was deleted";
  }
  // The restart: the messages come back after their visibility timeout.
  std::unique_ptr<SqsSource> source = NewSqsSource(pipeline_, options).value();
  ASSERT_TRUE(source
                  ->Start([&](std::vector<Arrival> arrivals) {
                    return scheduler->IngestBatch(arrivals).status();
                  })
                  .ok());
  EXPECT_TRUE(Eventually(
      [&] { return QueueDepth(client, url) == std::make_pair(0, 0); },
      absl::Seconds(20)));
  source->Stop();
  EXPECT_EQ(CountKind(*scheduler, EntryKind::kArrival), 5);
  EXPECT_EQ(CountKind(*scheduler, EntryKind::kDuplicate), committed);
  EXPECT_EQ(source->stats().arrivals, 5);
}

}  // namespace
}  // namespace landfall
