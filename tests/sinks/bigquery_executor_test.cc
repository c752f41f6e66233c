// The BigQuery executor against a local server following BigQuery's REST
// protocol (fake_bigquery_server.h): a script and its parameters as one
// polled job, a partition that is data, error reasons sorted into
// retryable and fatal, a lost insert response found by its job id, the
// three token sources, refresh on expiry and on 401, no token in any
// message, cancellation and timeouts, and `landfall run` on a spec's
// bigquery sink.
#include "landfall/bigquery_executor.h"

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/runner.h"
#include "landfall/scheduler.h"
#include "landfall/sink_executors.h"
#include "lib/runtime/json_object.h"
#include "tests/sinks/fake_bigquery_server.h"

namespace landfall::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr char kTokenEnv[] = "LANDFALL_TEST_BIGQUERY_TOKEN";

class BigQueryExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_);
    setenv(kTokenEnv, "token-1", 1);
  }
  void TearDown() override {
    unsetenv(kTokenEnv);
    fs::remove_all(dir_);
  }

  // A spec of one bigquery sink "bq" on the test server (`auth` its token
  // source, token_env by default), a source "lake.events", and table
  // "dwh.daily" built by `sql` (`fields` besides).
  std::string Spec(const std::string& sql, const std::string& fields = "",
                   std::string auth = "") const {
    if (auth.empty()) auth = absl::StrCat("token_env: \"", kTokenEnv, "\"");
    return absl::StrCat(
        "name: \"night\"\n",
        "sink { name: \"bq\" bigquery { project: \"analytics\" location: "
        "\"asia-northeast1\" endpoint: \"",
        server_.endpoint(), "\" ", auth, " } }\n",
        "table { name: \"lake.events\" source: true }\n",
        "table { name: \"dwh.daily\" upstream: \"lake.events\" sink: \"bq\" ",
        fields, " sql: \"", sql, "\" }\n");
  }

  std::shared_ptr<const Pipeline> Load(const std::string& spec) {
    auto pipeline = Pipeline::FromText(spec, SpecFormat::kTextProto, "bq.pb");
    EXPECT_TRUE(pipeline.ok()) << pipeline.status();
    return pipeline.ok() ? *pipeline : nullptr;
  }

  // The sink's executor, polling every few milliseconds.
  std::unique_ptr<Executor> NewExecutor(const Pipeline& pipeline) {
    auto options = BigQuerySinkOptions(pipeline, "bq");
    EXPECT_TRUE(options.ok()) << options.status();
    if (!options.ok()) return nullptr;
    options->poll_initial = absl::Milliseconds(2);
    options->poll_max = absl::Milliseconds(10);
    options->request_timeout = request_timeout_;
    auto executor = NewBigQueryExecutor(pipeline, *std::move(options));
    EXPECT_TRUE(executor.ok()) << executor.status();
    return executor.ok() ? *std::move(executor) : nullptr;
  }

  // One attempt of dwh.daily on `partition`, run directly.
  AttemptResult RunOnce(Executor& executor, const std::string& partition,
                        int64_t attempt = 1) {
    ClaimedTask task;
    task.task = TaskKey{"dwh.daily", partition};
    task.attempt = attempt;
    InputVersion input;
    input.table = "lake.events";
    input.partition = partition;
    input.version = 7;
    task.inputs.push_back(input);
    return executor.Run(task, cancelled_);
  }

  AttemptResult RunSpec(const std::string& spec,
                        const std::string& partition = "2018-11-03") {
    auto pipeline = Load(spec);
    if (pipeline == nullptr) return AttemptResult{Outcome::FATAL, "no spec"};
    auto executor = NewExecutor(*pipeline);
    if (executor == nullptr) return AttemptResult{Outcome::FATAL, "none"};
    return RunOnce(*executor, partition);
  }

  std::string WriteKeyFile(const TestRsaKey& key) {
    const std::string path = dir_ + "/key.json";
    std::ofstream(path) << internal::JsonObject()
                               .Str("type", "service_account")
                               .Str("project_id", "analytics")
                               .Str("private_key_id", "key-1")
                               .Str("private_key", key.private_pem())
                               .Str("client_email",
                                    "etl@p.iam.gserviceaccount.com")
                               .Str("token_uri", server_.endpoint() + "/token")
                               .str();
    return path;
  }

  // A spec whose sink takes its tokens from a key file of the server's key,
  // and the server taking only the tokens its /token grants (each lasting
  // `expires_in` seconds).
  std::string KeyFileSpec(int64_t expires_in = 3600) {
    static const TestRsaKey* const key = new TestRsaKey();
    FakeBigQuery::Script script;
    script.tokens = {};
    script.key = key;
    script.token_expires_in = expires_in;
    server_.set_script(script);
    return Spec("SELECT 1", "",
                absl::StrCat("key_file: \"", WriteKeyFile(*key), "\""));
  }

  FakeBigQuery server_;
  std::atomic<bool> cancelled_{false};
  absl::Duration request_timeout_ = absl::Seconds(10);
  std::string dir_ =
      ::testing::TempDir() + "landfall-bq-" + std::to_string(getpid()) + "-" +
      ::testing::UnitTest::GetInstance()->current_test_info()->name();
};

TEST_F(BigQueryExecutorTest, AScriptRunsAsOneJobPolledUntilDone) {
  const AttemptResult r = RunSpec(
      Spec("DELETE FROM dwh.daily WHERE dt = CAST({partition} AS DATE); "
           "INSERT INTO dwh.daily SELECT * FROM lake.events WHERE dt = "
           "CAST({partition} AS DATE) AND v = {input:lake.events}"));
  EXPECT_EQ(r.outcome, Outcome::SUCCEEDED) << r.message;
  const std::vector<FakeJob> jobs = server_.jobs();
  ASSERT_EQ(jobs.size(), 1u);
  const FakeJob& job = jobs[0];
  EXPECT_THAT(r.message, HasSubstr(job.id));
  EXPECT_EQ(job.polls, 3);  // RUNNING twice, then DONE.
  EXPECT_EQ(job.project, "analytics");
  EXPECT_EQ(job.location, "asia-northeast1");
  EXPECT_FALSE(job.use_legacy_sql);
  EXPECT_EQ(job.parameter_mode, "NAMED");
  EXPECT_EQ(job.query,
            "DELETE FROM dwh.daily WHERE dt = CAST(@partition AS DATE); "
            "INSERT INTO dwh.daily SELECT * FROM lake.events WHERE dt = "
            "CAST(@partition AS DATE) AND v = @input_lake_events");
  using Param = std::pair<std::string, std::string>;
  EXPECT_EQ(job.parameters, (std::map<std::string, Param>{
                                {"partition", Param{"STRING", "2018-11-03"}},
                                {"input_lake_events", Param{"STRING", "7"}}}));
  EXPECT_THAT(job.id, MatchesRegex("landfall_night_dwh_daily_2018-11-03_a1_"
                                   "[0-9a-f]{16}_[0-9a-f]{8}"));
}

TEST_F(BigQueryExecutorTest, AQuoteInAPartitionArrivesAsAParameterValue) {
  const std::string evil = "2018-11-03'; DROP TABLE x; --";
  const AttemptResult r = RunSpec(
      Spec("INSERT INTO t SELECT {partition}, '{{literal}' # {p}\\n"), evil);
  EXPECT_EQ(r.outcome, Outcome::SUCCEEDED) << r.message;
  const std::vector<FakeJob> jobs = server_.jobs();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].query,
            "INSERT INTO t SELECT @partition, '{{literal}' # {p}");
  EXPECT_THAT(jobs[0].query, Not(HasSubstr("DROP")));
  EXPECT_EQ(jobs[0].parameters.at("partition").second, evil);
}

TEST_F(BigQueryExecutorTest, JobIdsAreSanitizedDistinctAndBounded) {
  auto pipeline = Load(Spec("SELECT {partition}"));
  ASSERT_NE(pipeline, nullptr);
  auto executor = NewExecutor(*pipeline);
  ASSERT_NE(executor, nullptr);
  for (const std::string& p :
       {std::string("a.b"), std::string("a_b"), std::string(3000, 'x')}) {
    EXPECT_EQ(RunOnce(*executor, p, 12).outcome, Outcome::SUCCEEDED);
  }
  const std::vector<FakeJob> jobs = server_.jobs();
  ASSERT_EQ(jobs.size(), 3u);  // "a.b" and "a_b" do not share an id.
  for (const FakeJob& job : jobs) {
    EXPECT_LE(job.id.size(), 1024u);
    EXPECT_THAT(job.id, MatchesRegex("landfall_night_dwh_daily_[-_A-Za-z0-9]*"
                                     "_a12_[0-9a-f]{16}_[0-9a-f]{8}"));
  }
}

TEST_F(BigQueryExecutorTest, ErrorReasonsSortIntoRetryableAndFatal) {
  struct Case {
    std::string reason;
    Outcome outcome;
  };
  for (const Case& c :
       std::vector<Case>{{"backendError", Outcome::RETRYABLE},
                         {"internalError", Outcome::RETRYABLE},
                         {"rateLimitExceeded", Outcome::RETRYABLE},
                         {"timeout", Outcome::RETRYABLE},
                         {"invalidQuery", Outcome::FATAL},
                         {"notFound", Outcome::FATAL},
                         {"accessDenied", Outcome::FATAL}}) {
    FakeBigQuery::Script script;
    script.error_reason = c.reason;
    script.error_message = "said the server";
    server_.set_script(script);
    const AttemptResult r = RunSpec(Spec("SELECT 1"));
    EXPECT_EQ(r.outcome, c.outcome) << c.reason << ": " << r.message;
    EXPECT_THAT(r.message, HasSubstr(c.reason + ": said the server"));
  }
}

TEST_F(BigQueryExecutorTest, InsertAnswers5xxAnd429AreRetryableOthersFatal) {
  struct Case {
    int status;
    int failures;
    Outcome outcome;
    int inserts;
  };
  for (const Case& c : std::vector<Case>{{503, 100, Outcome::RETRYABLE, 3},
                                         {429, 100, Outcome::RETRYABLE, 3},
                                         {500, 2, Outcome::SUCCEEDED, 3},
                                         {400, 100, Outcome::FATAL, 1}}) {
    FakeBigQuery server;
    FakeBigQuery::Script script;
    script.insert_status = c.status;
    script.insert_failures = c.failures;
    server.set_script(script);
    auto pipeline = Load(absl::StrReplaceAll(
        Spec("SELECT 1"), {{server_.endpoint(), server.endpoint()}}));
    ASSERT_NE(pipeline, nullptr);
    const AttemptResult r = RunOnce(*NewExecutor(*pipeline), "p");
    EXPECT_EQ(r.outcome, c.outcome) << c.status << ": " << r.message;
    EXPECT_EQ(server.inserts(), c.inserts) << c.status;
    if (c.outcome != Outcome::SUCCEEDED) {
      EXPECT_THAT(r.message, HasSubstr(absl::StrCat("HTTP ", c.status)));
    }
  }
}

TEST_F(BigQueryExecutorTest, ALostInsertResponseIsFoundByItsJobIdAndRunsOnce) {
  FakeBigQuery::Script script;
  script.lose_insert = absl::Seconds(1);
  server_.set_script(script);
  request_timeout_ = absl::Milliseconds(200);
  const AttemptResult r = RunSpec(Spec("SELECT {partition}"));
  EXPECT_EQ(r.outcome, Outcome::SUCCEEDED) << r.message;
  EXPECT_EQ(server_.inserts(), 2);       // Sent again with the same id ...
  EXPECT_EQ(server_.jobs().size(), 1u);  // ... which ran once.
}

TEST_F(BigQueryExecutorTest, ATokenFromACommandPlainOrJson) {
  for (const std::string& command :
       {std::string("printf 'token-1\\\\n'"),
        std::string("echo '{\\\"access_token\\\": \\\"token-1\\\", "
                    "\\\"expires_in\\\": 3599}'")}) {
    const AttemptResult r = RunSpec(
        Spec("SELECT 1", "", absl::StrCat("token_command: \"", command, "\"")));
    EXPECT_EQ(r.outcome, Outcome::SUCCEEDED) << command << ": " << r.message;
  }
  EXPECT_THAT(server_.refused_tokens(), ::testing::IsEmpty());
}

TEST_F(BigQueryExecutorTest, AKeyFileJwtIsVerifiedAndExchangedOncePerHour) {
  auto pipeline = Load(KeyFileSpec());
  ASSERT_NE(pipeline, nullptr);
  auto executor = NewExecutor(*pipeline);
  EXPECT_EQ(RunOnce(*executor, "p1").outcome, Outcome::SUCCEEDED);
  EXPECT_EQ(RunOnce(*executor, "p2").outcome, Outcome::SUCCEEDED);
  EXPECT_EQ(server_.token_grants(), 1);  // Cached across calls and attempts.
}

TEST_F(BigQueryExecutorTest, ATokenCloseToExpiryIsFetchedAgain) {
  // Under the five minutes kept in hand.
  const AttemptResult r = RunSpec(KeyFileSpec(240));
  EXPECT_EQ(r.outcome, Outcome::SUCCEEDED) << r.message;
  EXPECT_EQ(server_.token_grants(), 4);  // jobs.insert and three jobs.get.
}

TEST_F(BigQueryExecutorTest, ATokenTheServerRefusesIsRefreshedOnce) {
  auto pipeline = Load(KeyFileSpec());
  ASSERT_NE(pipeline, nullptr);
  auto executor = NewExecutor(*pipeline);
  EXPECT_EQ(RunOnce(*executor, "p1").outcome, Outcome::SUCCEEDED);
  KeyFileSpec();  // granted-1 expires early: revoked.
  const AttemptResult r = RunOnce(*executor, "p2");
  EXPECT_EQ(r.outcome, Outcome::SUCCEEDED) << r.message;
  EXPECT_EQ(server_.token_grants(), 2);
  EXPECT_EQ(server_.refused_tokens(), std::vector<std::string>{"granted-1"});
}

TEST_F(BigQueryExecutorTest, NoTokenOrKeyEverAppearsInAMessage) {
  const std::string secret = "ya29.secret-token-value";
  setenv(kTokenEnv, secret.c_str(), 1);
  setenv("LANDFALL_TEST_BIGQUERY_SECRET", secret.c_str(), 1);
  AttemptResult r = RunSpec(Spec("SELECT 1"));
  EXPECT_EQ(r.outcome, Outcome::FATAL);  // Refused twice.
  EXPECT_THAT(r.message, HasSubstr("HTTP 401"));
  EXPECT_THAT(r.message, Not(HasSubstr("secret")));
  EXPECT_EQ(server_.refused_tokens(),
            (std::vector<std::string>{secret, secret}));

  unsetenv(kTokenEnv);
  r = RunSpec(Spec("SELECT 1"));
  EXPECT_EQ(r.outcome, Outcome::FATAL);
  EXPECT_THAT(r.message, HasSubstr(kTokenEnv));

  const TestRsaKey key;  // Not the server's: /token refuses its JWT.
  r = RunSpec(Spec("SELECT 1", "",
                   absl::StrCat("key_file: \"", WriteKeyFile(key), "\"")));
  EXPECT_EQ(r.outcome, Outcome::FATAL);
  EXPECT_THAT(r.message, HasSubstr("invalid_grant"));
  EXPECT_THAT(r.message, Not(HasSubstr("PRIVATE KEY")));
  EXPECT_THAT(r.message, Not(HasSubstr("eyJ")));  // No JWT either.

  // What the command printed before failing stays out of the message.
  r = RunSpec(
      Spec("SELECT 1", "",
           "token_command: \"echo $LANDFALL_TEST_BIGQUERY_SECRET; exit 3\""));
  EXPECT_EQ(r.outcome, Outcome::RETRYABLE);
  EXPECT_THAT(r.message, HasSubstr("exited with status 3"));
  EXPECT_THAT(r.message, Not(HasSubstr("secret")));
}

TEST_F(BigQueryExecutorTest, ACancelledAttemptCancelsItsJob) {
  FakeBigQuery::Script script;
  script.polls_until_done = 1 << 30;
  server_.set_script(script);
  auto pipeline = Load(Spec("SELECT 1"));
  ASSERT_NE(pipeline, nullptr);
  auto executor = NewExecutor(*pipeline);
  AttemptResult r;
  std::thread attempt([&] { r = RunOnce(*executor, "p"); });
  for (int i = 0; i < 500 && server_.jobs().empty(); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  cancelled_ = true;
  attempt.join();
  EXPECT_EQ(r.outcome, Outcome::RETRYABLE);
  ASSERT_EQ(server_.jobs().size(), 1u);
  EXPECT_TRUE(server_.jobs()[0].cancelled);
}

TEST_F(BigQueryExecutorTest, AJobWhoseStatusCannotBeReadIsCancelled) {
  FakeBigQuery::Script script;
  script.polls_until_done = 1 << 30;
  script.get_status = 503;
  server_.set_script(script);
  const AttemptResult r = RunSpec(Spec("SELECT 1"));
  EXPECT_EQ(r.outcome, Outcome::RETRYABLE) << r.message;
  ASSERT_EQ(server_.jobs().size(), 1u);
  EXPECT_TRUE(server_.jobs()[0].cancelled);
}

TEST_F(BigQueryExecutorTest, AJobPastItsTimeoutIsCancelledAndRetryable) {
  FakeBigQuery::Script script;
  script.polls_until_done = 1 << 30;
  server_.set_script(script);
  const absl::Time start = absl::Now();
  const AttemptResult r =
      RunSpec(Spec("SELECT 1", "statement_timeout: \"200ms\""));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(r.outcome, Outcome::RETRYABLE);
  EXPECT_THAT(r.message, HasSubstr("did not finish within 200ms"));
  ASSERT_EQ(server_.jobs().size(), 1u);
  EXPECT_TRUE(server_.jobs()[0].cancelled);
}

// Through the core: a retryable job failure is tried again (a new attempt,
// a new job id) and succeeds; a fatal one goes dead at once with its
// reason in the history.
TEST_F(BigQueryExecutorTest, RetryableJobsAreRetriedByTheCoreFatalOnesDie) {
  for (const std::string reason : {"backendError", "invalidQuery"}) {
    FakeBigQuery server;
    FakeBigQuery::Script script;
    script.error_reason = reason;
    script.error_message = "once";
    script.failing_jobs = 1;
    server.set_script(script);
    auto pipeline = Load(absl::StrReplaceAll(
        Spec("SELECT {partition}",
             "retry { max_attempts: 3 initial_backoff: \"10ms\" jitter: 0 }"),
        {{server_.endpoint(), server.endpoint()}}));
    ASSERT_NE(pipeline, nullptr);
    auto scheduler = Scheduler::Create(pipeline);
    ASSERT_TRUE(scheduler.ok());
    std::shared_ptr<Scheduler> shared = *std::move(scheduler);
    RunnerOptions options;
    options.idle_poll = absl::Milliseconds(20);
    options.executor_by_sink["bq"] = NewExecutor(*pipeline);
    auto runner = Runner::Create(shared, std::move(options));
    ASSERT_TRUE(runner.ok()) << runner.status();
    ASSERT_TRUE((*runner)->Start().ok());
    Arrival a;
    a.set_event_id("e1");
    a.set_table("lake.events");
    a.set_partition("2018-11-03");
    ASSERT_TRUE(shared->Ingest(a).ok());
    (*runner)->Notify();
    EXPECT_TRUE((*runner)
                    ->WaitUntilIdle(absl::Milliseconds(100), absl::Seconds(30))
                    .idle);
    (*runner)->Stop(absl::Seconds(5));
    const TaskList tasks = shared->List();
    ASSERT_EQ(tasks.tasks.size(), 1u);
    const TaskStatus& task = tasks.tasks[0];
    if (reason == "backendError") {
      EXPECT_EQ(task.state, TaskState::kSucceeded);
      EXPECT_EQ(server.jobs().size(), 2u);  // One job id per attempt.
    } else {
      EXPECT_EQ(task.state, TaskState::kDead);
      EXPECT_EQ(task.run_attempts, 1);
      EXPECT_THAT(task.last_error, HasSubstr("invalidQuery: once"));
    }
  }
}

TEST_F(BigQueryExecutorTest, SpecSinksBecomeExecutorsUnlessTheHostBindsOne) {
  auto pipeline =
      Load(Spec("SELECT 1") +
           absl::StrCat(
               "sink { name: \"mine\" bigquery { project: \"p\" } }\n",
               "table { name: \"b\" upstream: \"lake.events\" sink: \"mine\" "
               "sql: \"SELECT 1\" }\n"));
  ASSERT_NE(pipeline, nullptr);
  RunnerOptions options;
  std::shared_ptr<Executor> mine = NewExecutor(*pipeline);
  options.executor_by_sink["mine"] = mine;
  ASSERT_TRUE(AddSinkExecutors(*pipeline, &options).ok());
  EXPECT_EQ(options.executor_by_sink.size(), 2u);
  EXPECT_NE(options.executor_by_sink["bq"], nullptr);
  EXPECT_EQ(options.executor_by_sink["mine"], mine);
}

#ifdef LANDFALL_CLI
// `landfall run` builds a table of the spec's bigquery sink without --exec.
TEST_F(BigQueryExecutorTest, RunBuildsASpecSinkTableAgainstTheEndpoint) {
  FakeBigQuery::Script script;
  script.polls_until_done = 0;  // DONE at the first jobs.get, a second in.
  server_.set_script(script);
  std::ofstream(dir_ + "/spec.textproto") << Spec("SELECT {partition}");
  fs::create_directories(dir_ + "/landing/lake.events/2018-11-03");
  std::ofstream(dir_ + "/landing/lake.events/2018-11-03/part-0") << "x";
  FILE* out = popen(
      absl::StrCat(LANDFALL_CLI, " run ", dir_, "/spec.textproto --state ",
                   dir_, "/state.db --landing ", dir_,
                   "/landing --exit-when-idle 300ms 2>&1")
          .c_str(),
      "r");
  ASSERT_NE(out, nullptr);
  std::string printed;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), out)) {
    printed.append(buffer, n);
  }
  EXPECT_EQ(pclose(out), 0) << printed;
  EXPECT_THAT(printed, HasSubstr("1 task: 1 SUCCEEDED"));
  const std::vector<FakeJob> jobs = server_.jobs();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].parameters.at("partition").second, "2018-11-03");
}
#endif

}  // namespace
}  // namespace landfall::testing
