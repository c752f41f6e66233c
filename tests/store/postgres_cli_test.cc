// `landfall run` as two real processes (two "hosts") sharing one PostgreSQL
// schema and one landing tree: both ingest every landed file (the second
// delivery is a duplicate), both claim, and each task is built exactly once.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "landfall/scheduler.h"
#include "lib/testing/history.h"
#include "tests/store/postgres_test_env.h"

namespace landfall::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kSpec[] = R"(
pool { name: "wh" slots: 3 }
defaults { pool: "wh" lease: "5s" retry { max_attempts: 3 initial_backoff: "300ms" } }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
table { name: "b" upstream: "src" }
table { name: "c" upstream: "a" upstream: "b" }
)";
constexpr int kPartitions = 8;
constexpr int kTasks = 3 * kPartitions;

// The password of the test server's URI, or "" when it has none.
std::string Password() {
  const std::string server = TestPostgres();
  const size_t at = server.find('@');
  const size_t colon = server.rfind(':', at);
  if (at == std::string::npos || colon == std::string::npos ||
      colon < server.find("://") + 3) {
    return "";
  }
  return server.substr(colon + 1, at - colon - 1);
}

// What `landfall ARGS` prints (stdout and stderr).
std::string RunCli(const std::string& args) {
  FILE* out =
      popen(absl::StrCat(LANDFALL_CLI, " ", args, " 2>&1").c_str(), "r");
  std::string text;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), out))
    text.append(buffer, n);
  pclose(out);
  return text;
}

class PostgresCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LANDFALL_REQUIRE_POSTGRES();
    schema_ = NewTestSchema();
    fs::create_directories(dir_ + "/landing");
    std::ofstream(dir_ + "/spec.textproto") << kSpec;
  }
  void TearDown() override {
    for (pid_t pid : pids_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    fs::remove_all(dir_);
    if (!schema_.empty()) {
      EXPECT_EQ(DropTestSchema(schema_), "");
    }
  }

  std::string State() const {
    const std::string server = TestPostgres();
    return absl::StrCat(server,
                        server.find('?') == std::string::npos ? "?" : "&",
                        "schema=", schema_);
  }

  // Starts `landfall run` as host `name`: each attempt appends a line
  // "table partition host" to built.log.
  void StartHost(const std::string& name) {
    std::vector<std::string> args = {
        LANDFALL_CLI,
        "run",
        dir_ + "/spec.textproto",
        "--state",
        State(),
        "--landing",
        dir_ + "/landing",
        "--logs",
        dir_ + "/logs-" + name,
        "--shell",
        "--exec",
        absl::StrCat("sleep 0.05; echo {table} {partition} ", name, " >> ",
                     dir_, "/built.log")};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string out = dir_ + "/out-" + name + ".log";
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = -1;
    ASSERT_EQ(
        posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    pids_.push_back(pid);
  }

  void Land(const std::string& partition) {
    const std::string dir = dir_ + "/landing/src/" + partition;
    fs::create_directories(dir);
    std::ofstream(dir + "/.part-0.tmp") << partition;
    fs::rename(dir + "/.part-0.tmp", dir + "/part-0");
  }

  std::vector<std::string> Built() {
    std::ifstream in(dir_ + "/built.log");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  std::string Output() {
    std::string all;
    for (const char* name : {"one", "two"}) {
      std::ifstream in(dir_ + "/out-" + name + ".log");
      absl::StrAppend(&all, name, ":\n",
                      std::string(std::istreambuf_iterator<char>(in), {}));
    }
    return all;
  }

  std::string schema_;
  std::string dir_ =
      ::testing::TempDir() + "landfall-pg-run-" + std::to_string(getpid());
  std::vector<pid_t> pids_;
};

TEST_F(PostgresCliTest, TwoRunsOnOneDatabaseAndLandingTreeBuildEachTaskOnce) {
  StartHost("one");
  StartHost("two");
  for (int p = 0; p < kPartitions; ++p) Land(absl::StrCat("2018-11-0", p + 1));
  // Bounded: all built, or 60 seconds.
  std::vector<std::string> built;
  for (int i = 0; i < 600; ++i) {
    built = Built();
    if (built.size() >= static_cast<size_t>(kTasks)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // A moment more: a task built twice would show now.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  built = Built();
  for (pid_t pid : pids_) kill(pid, SIGTERM);
  for (pid_t pid : pids_) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Output();
  }
  pids_.clear();

  // What they print never shows the password.
  if (!Password().empty()) {
    EXPECT_THAT(Output(), ::testing::Not(::testing::HasSubstr(Password())));
  }

  std::map<std::string, int> times;
  std::map<std::string, int> by_host;
  for (const std::string& line : built) {
    std::vector<std::string> words = absl::StrSplit(line, ' ');
    ASSERT_EQ(words.size(), 3u) << line;
    ++times[words[0] + "/" + words[1]];
    ++by_host[words[2]];
  }
  EXPECT_EQ(times.size(), static_cast<size_t>(kTasks)) << Output();
  for (const auto& [task, n] : times) EXPECT_EQ(n, 1) << task;

  auto store = OpenStateStore(State());
  ASSERT_TRUE(store.ok()) << store.status();
  auto scheduler = Scheduler::Open(*store);
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  int succeeded = 0, arrivals = 0;
  for (const HistoryEntry& e : History(**scheduler, 1, 100000)) {
    succeeded += e.kind == EntryKind::kSucceeded ? 1 : 0;
    arrivals += e.kind == EntryKind::kArrival ? 1 : 0;
  }
  EXPECT_EQ(succeeded, kTasks);
  EXPECT_EQ(arrivals,
            kPartitions);  // The second delivery of each: a duplicate.
  std::cout << "[ two runs ] host one built " << by_host["one"]
            << ", host two built " << by_host["two"] << " of " << kTasks
            << " tasks\n";
}

TEST_F(PostgresCliTest, CommandsNeverPrintThePassword) {
  const std::string password = Password();
  if (password.empty()) GTEST_SKIP() << "the test server's URI has no password";
  const std::string state = absl::StrCat("--state '", State(), "'");
  std::string printed =
      RunCli(absl::StrCat("init ", dir_, "/spec.textproto ", state));
  EXPECT_THAT(printed, ::testing::HasSubstr("schema \"" + schema_ + "\""));
  printed += RunCli(absl::StrCat(
      "ingest --table src --partition 2018-11-01 --event-id e1 ", state));
  printed += RunCli(absl::StrCat("claim --worker w ", state));
  printed += RunCli(absl::StrCat("status ", state));
  printed += RunCli(absl::StrCat("history ", state));
  std::string wrong = State();
  wrong.replace(wrong.find(password), password.size(), "not-" + password);
  printed += RunCli(absl::StrCat("status --state '", wrong, "'"));
  EXPECT_THAT(printed, ::testing::HasSubstr("authentication failed"));
  EXPECT_THAT(printed, ::testing::Not(::testing::HasSubstr(password)));
}

// `landfall run` builds a table of the spec's postgres sink without --exec:
// the sink's conninfo names no password (PGPASSWORD gives it), and the
// table's sql runs with the partition bound.
TEST_F(PostgresCliTest, RunBuildsASpecSinkTableWithoutACommand) {
  const std::string password = Password();
  std::string conninfo = TestPostgres();
  if (!password.empty()) {
    const size_t at = conninfo.find(":" + password + "@");
    ASSERT_NE(at, std::string::npos);
    conninfo.erase(at, password.size() + 1);
  }
  ASSERT_EQ(ExecOnTestServer(absl::StrCat("CREATE SCHEMA ", schema_,
                                          "; CREATE TABLE ", schema_,
                                          ".built (p text)")),
            "");
  std::ofstream(dir_ + "/sink.textproto") << absl::StrCat(
      "sink { name: \"pg\" postgres { conninfo: \"", conninfo, "\" } }\n",
      "table { name: \"src\" source: true }\n",
      "table { name: \"load\" upstream: \"src\" sink: \"pg\"\n",
      "  sql: \"INSERT INTO ", schema_, ".built VALUES ({partition})\" }\n");
  fs::create_directories(dir_ + "/landing/src/2018-11-03");
  std::ofstream(dir_ + "/landing/src/2018-11-03/part-0") << "x";
  // The password reaches libpq through the environment, as in production.
  setenv("PGPASSWORD", password.c_str(), 1);
  const std::string printed = RunCli(absl::StrCat(
      "run ", dir_, "/sink.textproto --state ", dir_, "/state.db --landing ",
      dir_, "/landing --exit-when-idle 500ms"));
  unsetenv("PGPASSWORD");
  EXPECT_THAT(printed, ::testing::HasSubstr("1 task: 1 SUCCEEDED")) << printed;
  EXPECT_EQ(QueryTestServer(absl::StrCat("SELECT p FROM ", schema_, ".built")),
            "2018-11-03");
  if (!password.empty()) {
    EXPECT_THAT(printed, ::testing::Not(::testing::HasSubstr(password)));
  }
}

}  // namespace
}  // namespace landfall::testing
