// `landfall run` as a real process on a temporary landing directory and state
// file: what lands runs in order within pool limits; SIGTERM and a restart
// finish everything exactly once; slow and failing loaders are retried.
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/scheduler.h"
#include "lib/testing/history.h"

namespace landfall {
namespace {

namespace fs = std::filesystem;

constexpr char kSpec[] = R"(
pool { name: "wh" slots: 2 }
defaults { pool: "wh" lease: "2s" retry { max_attempts: 3 initial_backoff: "300ms" jitter: 0 } }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
table { name: "b" upstream: "src" }
table { name: "c" upstream: "src" }
table { name: "e" upstream: "a" upstream: "b" }
)";

class RunProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ + "/landing");
    std::ofstream(dir_ + "/spec.textproto") << kSpec;
  }
  void TearDown() override {
    if (pid_ > 0) {
      Signal(SIGKILL);
      Wait();
    }
    fs::remove_all(dir_);
  }

  // Starts `landfall run` with `exec` as the shell command of every table.
  void Start(const std::string& exec, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        LANDFALL_CLI, "run",       dir_ + "/spec.textproto", "--state",
        State(),      "--landing", dir_ + "/landing",        "--shell",
        "--exec",     exec};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string out = dir_ + "/out.log";
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    ASSERT_EQ(
        posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ),
        0);
    posix_spawn_file_actions_destroy(&actions);
  }
  void Signal(int signal) { kill(pid_, signal); }
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  void Land(const std::string& table, const std::string& partition,
            const std::string& name = "part-0") {
    const std::string dir = dir_ + "/landing/" + table + "/" + partition;
    fs::create_directories(dir);
    std::ofstream(dir + "/." + name + ".tmp") << table << partition << name;
    fs::rename(dir + "/." + name + ".tmp", dir + "/" + name);
  }

  std::string State() const { return dir_ + "/state.db"; }

  std::vector<HistoryEntry> History() {
    auto store = OpenStateStore("sqlite:" + State());
    if (!store.ok()) return {};
    auto scheduler = Scheduler::Open(*store);
    if (!scheduler.ok()) return {};
    return ::landfall::testing::History(**scheduler, 1, SIZE_MAX);
  }

  // Waits up to 20 seconds for `n` successes in the history.
  std::vector<HistoryEntry> AwaitSucceeded(size_t n) {
    std::vector<HistoryEntry> history;
    for (int i = 0; i < 200; ++i) {
      history = History();
      if (Count(history, EntryKind::kSucceeded) >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(Count(history, EntryKind::kSucceeded), n) << Output();
    return history;
  }

  static size_t Count(const std::vector<HistoryEntry>& history,
                      EntryKind kind) {
    size_t n = 0;
    for (const HistoryEntry& h : history) n += h.kind == kind;
    return n;
  }

  std::string Output() {
    std::ifstream in(dir_ + "/out.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string dir_ =
      ::testing::TempDir() + "landfall-run-" + std::to_string(getpid()) + "-" +
      ::testing::UnitTest::GetInstance()->current_test_info()->name();
  pid_t pid_ = -1;
};

TEST_F(RunProcessTest, LandedFilesRunTheirDescendantsInOrderWithinThePool) {
  Start("sleep 0.2");
  Land("src", "p");
  std::vector<HistoryEntry> history = AwaitSucceeded(4);
  Signal(SIGTERM);
  const int status = Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Output();
  // At most two attempts at once, and e only after both of its inputs.
  int running = 0, most = 0;
  std::set<std::string> built;
  for (const HistoryEntry& h : history) {
    if (h.kind == EntryKind::kClaimed) {
      most = std::max(most, ++running);
      if (h.table == "e") {
        EXPECT_TRUE(built.count("a") && built.count("b"));
      }
    }
    if (h.kind == EntryKind::kSucceeded) {
      --running;
      built.insert(h.table);
    }
  }
  EXPECT_EQ(most, 2);
  EXPECT_EQ(built, (std::set<std::string>{"a", "b", "c", "e"}));
  EXPECT_THAT(Output(), ::testing::HasSubstr("ran 4 attempts: 4 succeeded"));
}

TEST_F(RunProcessTest, SigtermThenRestartFinishesEverythingExactlyOnce) {
  Start("sleep 1", {"--grace", "0s"});
  Land("src", "p");
  for (int i = 0; i < 100 && Count(History(), EntryKind::kClaimed) < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Signal(SIGTERM);
  EXPECT_EQ(Wait(), 0) << Output();
  EXPECT_EQ(Count(History(), EntryKind::kSucceeded), 0u);
  Start("sleep 0.1");
  std::vector<HistoryEntry> history = AwaitSucceeded(4);
  std::map<std::string, int> successes;
  for (const HistoryEntry& h : history) {
    if (h.kind == EntryKind::kSucceeded) ++successes[h.table];
  }
  EXPECT_EQ(successes, (std::map<std::string, int>{
                           {"a", 1}, {"b", 1}, {"c", 1}, {"e", 1}}));
  // The abandoned attempts ran out their leases and ran again.
  EXPECT_GE(Count(history, EntryKind::kRetryScheduled), 2u);
}

TEST_F(RunProcessTest, ASlowLoaderPastItsTimeoutIsRetried) {
  Start("[ {table} != a ] || [ {attempt} != 1 ] || sleep 10",
        {"--timeout", "300ms"});
  Land("src", "p");
  std::vector<HistoryEntry> history = AwaitSucceeded(4);
  bool timed_out = false;
  for (const HistoryEntry& h : history) {
    if (h.kind == EntryKind::kRetryScheduled && h.table == "a") {
      EXPECT_EQ(h.attempt, 1);
      EXPECT_THAT(h.detail, ::testing::HasSubstr("timed out after 300ms"));
      timed_out = true;
    }
  }
  EXPECT_TRUE(timed_out);
}

TEST_F(RunProcessTest, ALoaderExitingWithTempfailIsRetriedAfterBackoff) {
  Start("[ {table} != b ] || [ {attempt} != 1 ] || exit 75");
  Land("src", "p");
  std::vector<HistoryEntry> history = AwaitSucceeded(4);
  absl::Time retry_at = absl::InfiniteFuture();
  for (const HistoryEntry& h : history) {
    if (h.kind == EntryKind::kRetryScheduled && h.table == "b") {
      EXPECT_THAT(h.detail, ::testing::HasSubstr("exit 75"));
      EXPECT_EQ(h.until - h.at, absl::Milliseconds(300));
      retry_at = h.until;
    }
    if (h.kind == EntryKind::kClaimed && h.table == "b" && h.attempt == 2) {
      EXPECT_GE(h.at, retry_at);
    }
  }
  EXPECT_NE(retry_at, absl::InfiniteFuture());
}

TEST_F(RunProcessTest, ALoaderIsToldTheFilesLandedSinceItsLastRun) {
  // a's loader keeps what it is told: {origins}, then the file's lines.
  const std::string told = dir_ + "/told";
  // One attempt at a time, so that the second landing builds each table
  // once (4 more successes): with two, e is due as soon as a's new version
  // is built (one newer input is enough) and may start before b's, then
  // run again after it, 5 more successes instead of 4, as the loaders'
  // timing decides. One at a time, the order is fixed: a, b (the longer
  // critical path), c (ready before e), then e on both new versions.
  Start(
      "[ {table} != a ] || { echo args {origins}; cat "
      "\"$LANDFALL_ORIGINS_FILE\"; "
      "} >> " +
          told,
      {"--workers", "1"});
  Land("src", "p", "part-0");
  AwaitSucceeded(4);
  Land("src", "p", "part-1");
  AwaitSucceeded(8);
  Signal(SIGTERM);
  EXPECT_EQ(Wait(), 0) << Output();
  // Not one more after the eighth.
  EXPECT_EQ(Count(History(), EntryKind::kSucceeded), 8u) << Output();
  const std::string landed =
      "file://" + fs::canonical(dir_).string() + "/landing/src/p/";
  std::ifstream in(told);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}),
            "args " + landed + "part-0\n" + landed + "part-0\n" + "args " +
                landed + "part-1\n" + landed + "part-1\n");
}

TEST_F(RunProcessTest, ARestartIngestsNothingAgainAndRecordsNoDuplicates) {
  Start("true");
  Land("src", "p");
  AwaitSucceeded(4);
  Signal(SIGTERM);
  EXPECT_EQ(Wait(), 0) << Output();
  const size_t entries = History().size();
  Start("true", {"--exit-when-idle", "500ms"});
  EXPECT_EQ(Wait(), 0) << Output();
  EXPECT_EQ(History().size(), entries) << Output();
}

TEST_F(RunProcessTest, ExitWhenIdleExitsThreeWhenTasksEndDeadOrBlocked) {
  Land("src", "p");
  Start(
      "[ {table} != a ] || exit 1; [ {table} != b ] || [ {attempt} != 1 ] "
      "|| exit 75",
      {"--exit-when-idle", "300ms"});
  const int status = Wait();
  ASSERT_TRUE(WIFEXITED(status)) << Output();
  EXPECT_EQ(WEXITSTATUS(status), 3) << Output();
  // a failed for good and e needs it; b failed once, then was built.
  EXPECT_THAT(Output(), ::testing::HasSubstr(
                            "ran 4 attempts: 2 succeeded, 1 retryable, 1 "
                            "fatal, 0 left to lease expiry\n4 tasks: 1 DEAD, "
                            "1 BLOCKED, 2 SUCCEEDED\n"));
  EXPECT_THAT(Output(), ::testing::HasSubstr(
                            "1 dead and 1 blocked tasks: see landfall dlq "
                            "--state " +
                            State() + " list"));
}

TEST_F(RunProcessTest, ExitWhenIdleExitsZeroWhenARetriedTaskIsBuilt) {
  Land("src", "p");
  Start("[ {table} != b ] || [ {attempt} != 1 ] || exit 75",
        {"--exit-when-idle", "300ms"});
  const int status = Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Output();
  EXPECT_THAT(Output(), ::testing::HasSubstr(
                            "ran 5 attempts: 4 succeeded, 1 retryable, 0 "
                            "fatal, 0 left to lease expiry\n4 tasks: 4 "
                            "SUCCEEDED\n"));
}

// Whether process `pid` has ended: gone, or a zombie left for whoever
// reaps it (init, or a subreaper, which may be this test itself).
bool Ended(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat(std::istreambuf_iterator<char>(in), {});
  if (stat.empty()) return true;
  // "pid (comm) S ...": the state follows the last ')'.
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() &&
         stat[paren + 2] == 'Z';
}

TEST_F(RunProcessTest, LoadersDieWithTheirRunnerWhenItIsKilled) {
  // Each loader says its pid, then sleeps as that same process.
  const std::string pids = dir_ + "/pids";
  fs::create_directories(pids);
  Start("echo $$ > " + pids + "/{table}.tmp && mv " + pids + "/{table}.tmp " +
        pids + "/{table} && exec sleep 30");
  // The pids said so far: a loader's ".tmp" file is not written yet.
  auto said = [&pids] {
    std::vector<pid_t> loaders;
    for (const fs::directory_entry& e : fs::directory_iterator(pids)) {
      if (e.path().extension() == ".tmp") continue;
      std::ifstream in(e.path());
      pid_t pid = 0;
      if (in >> pid && pid > 0) loaders.push_back(pid);
    }
    return loaders;
  };
  Land("src", "p");
  for (int i = 0; i < 200 && said().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(said().empty()) << Output();
  Signal(SIGKILL);
  Wait();
  const std::vector<pid_t> loaders = said();
  for (pid_t pid : loaders) {
    for (int i = 0; i < 100 && !Ended(pid); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(Ended(pid)) << "loader " << pid << " outlived its runner";
    // A loader that outlived the runner is stopped here all the same; one
    // that is this process's zombie (a subreaper's) is reaped.
    if (!Ended(pid)) kill(pid, SIGKILL);
    waitpid(pid, nullptr, WNOHANG);
  }
}

// --metrics-listen and --statsd: the run's figures where operators look.
class RunMetricsTest : public RunProcessTest {};

TEST_F(RunMetricsTest, MetricsListenServesTheRunOverHttp) {
  Start("true", {"--metrics-listen", "127.0.0.1:0"});
  Land("src", "p");
  AwaitSucceeded(4);
  // Port 0 picks one: the run says which on stderr.
  int port = 0;
  for (int i = 0; i < 100 && port == 0; ++i) {
    const std::string out = Output();
    const std::string prefix = "metrics: http://127.0.0.1:";
    if (const size_t at = out.find(prefix); at != std::string::npos) {
      port = std::atoi(out.c_str() + at + prefix.size());
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ASSERT_GT(port, 0) << Output();
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  auto response = client.Get("/metrics");
  ASSERT_TRUE(response);
  EXPECT_THAT(response->body,
              ::testing::HasSubstr("landfall_attempts_succeeded_total{pool="
                                   "\"wh\",class=\"default\"} 4"));
  EXPECT_THAT(response->body,
              ::testing::HasSubstr("landfall_tasks{pool=\"wh\",class="
                                   "\"default\",state=\"succeeded\"} 4"));
  Signal(SIGTERM);
  const int status = Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Output();
}

TEST_F(RunMetricsTest, StatsdReceivesTheRunsCountersWhenItStops) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  Land("src", "p");
  Start("true",
        {"--statsd", "127.0.0.1:" + std::to_string(ntohs(addr.sin_port)),
         "--statsd-tags", "env:test", "--exit-when-idle", "300ms"});
  const int status = Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Output();
  std::string received;
  for (int i = 0; i < 100; ++i) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) break;
    char buffer[65536];
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    received.append(buffer, n).push_back('\n');
  }
  close(fd);
  // A run slow enough to span a flush sends the count in two deltas.
  int succeeded = 0;
  for (absl::string_view line : absl::StrSplit(received, '\n')) {
    const absl::string_view prefix = "landfall.attempts_succeeded:";
    const absl::string_view suffix = "|c|#env:test,pool:wh,class:default";
    int delta = 0;
    if (absl::ConsumePrefix(&line, prefix) &&
        absl::ConsumeSuffix(&line, suffix) && absl::SimpleAtoi(line, &delta)) {
      succeeded += delta;
    }
  }
  EXPECT_EQ(succeeded, 4) << received;
}

TEST_F(RunMetricsTest, StatsdTagsThatAreNotKeyValueAreRefused) {
  Start("true", {"--statsd", "127.0.0.1:8125", "--statsd-tags", "oops"});
  const int status = Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << Output();
  EXPECT_THAT(Output(), ::testing::HasSubstr("--statsd-tags: \"oops\""));
}

// --alert-webhook-env and --alert-webhook-file: the secret URL stays out of
// argv, and a missing one is named, never shown.
class RunWebhookTest : public RunProcessTest {};

TEST_F(RunWebhookTest, WebhooksFromAVariableAndAFileReceiveTheDeadTasks) {
  httplib::Server receiver;
  std::mutex mu;
  std::map<std::string, int> dead_alerts;  // By path.
  receiver.Post(R"(/(env|file)/T0/SECRET)", [&](const httplib::Request& request,
                                                httplib::Response&) {
    std::lock_guard<std::mutex> lock(mu);
    if (request.body.find("\"kind\":\"task_dead\"") != std::string::npos) {
      ++dead_alerts[request.path];
    }
  });
  const int port = receiver.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { receiver.listen_after_bind(); });
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  setenv("LANDFALL_TEST_HOOK", (base + "/env/T0/SECRET").c_str(), 1);
  std::ofstream(dir_ + "/hook") << "  " << base << "/file/T0/SECRET\n";
  Land("src", "p");
  Start("exit 1", {"--exit-when-idle", "300ms", "--alert-webhook-env",
                   "LANDFALL_TEST_HOOK", "--alert-webhook-file", dir_ + "/hook",
                   "--alert-check-interval", "100ms"});
  const int status = Wait();
  unsetenv("LANDFALL_TEST_HOOK");
  receiver.stop();
  serving.join();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << Output();
  std::lock_guard<std::mutex> lock(mu);
  // a, b and c die (e is blocked): each told once to each URL.
  EXPECT_EQ(dead_alerts["/env/T0/SECRET"], 3) << Output();
  EXPECT_EQ(dead_alerts["/file/T0/SECRET"], 3) << Output();
  EXPECT_THAT(Output(), ::testing::Not(::testing::HasSubstr("SECRET")));
}

TEST_F(RunWebhookTest, AMissingVariableOrEmptyFileIsAUsageErrorNamingIt) {
  unsetenv("LANDFALL_TEST_NO_HOOK");
  Start("true", {"--alert-webhook-env", "LANDFALL_TEST_NO_HOOK"});
  int status = Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << Output();
  EXPECT_THAT(Output(),
              ::testing::HasSubstr("--alert-webhook-env: environment variable "
                                   "LANDFALL_TEST_NO_HOOK is not set"));
  EXPECT_FALSE(fs::exists(State())) << "a refused run made a state";

  // A value that is no URL is named by its variable, never shown.
  setenv("LANDFALL_TEST_NO_HOOK", "hooks.example/T0/SECRET", 1);
  Start("true", {"--alert-webhook-env", "LANDFALL_TEST_NO_HOOK"});
  status = Wait();
  unsetenv("LANDFALL_TEST_NO_HOOK");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << Output();
  EXPECT_THAT(Output(), ::testing::HasSubstr("LANDFALL_TEST_NO_HOOK does not "
                                             "hold an http:// or https:// "
                                             "URL"));
  EXPECT_THAT(Output(), ::testing::Not(::testing::HasSubstr("SECRET")));

  std::ofstream(dir_ + "/empty-hook") << " \n";
  for (const std::string& file : {dir_ + "/empty-hook", dir_ + "/no-hook"}) {
    Start("true", {"--alert-webhook-file", file});
    status = Wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << Output();
    EXPECT_THAT(Output(), ::testing::HasSubstr("--alert-webhook-file: "));
    EXPECT_THAT(Output(), ::testing::HasSubstr(file));
  }
  EXPECT_THAT(Output(), ::testing::HasSubstr("is empty"));
}

}  // namespace
}  // namespace landfall
