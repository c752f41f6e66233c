// `landfall run --sqs` as a user runs it, against the emulator: S3
// notifications for a day of sources, each twice, a test event and a
// poison message; --exit-when-idle ends the run once everything is built
// and the queue is drained.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/sources/sqs_test_env.h"

namespace landfall {
namespace {

namespace fs = std::filesystem;

constexpr char kSpec[] = R"(
pool { name: "wh" slots: 4 }
defaults { pool: "wh" lease: "30s" }
table { name: "orders" source: true }
table { name: "users" source: true }
table { name: "dims" source: true partitioned: false }
table { name: "dwh.orders" upstream: "orders" }
table { name: "mart" upstream: ["dwh.orders", "users", "dims"] }
)";

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs the CLI with `args`; its exit status, stdout and stderr in `out`.
int RunCli(std::vector<std::string> args, const fs::path& out) {
  args.insert(args.begin(), LANDFALL_CLI);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SqsRunTest, RunBuildsEveryTableOnceFromNotificationsAndDrainsTheQueue) {
  LANDFALL_REQUIRE_SQS_EMULATOR();
  internal::SqsClient client = testing::EmulatorClient();
  const fs::path dir =
      fs::temp_directory_path() / absl::StrCat("landfall-sqs-run-", getpid());
  fs::create_directories(dir);
  std::ofstream(dir / "spec.textproto") << kSpec;
  const std::string url =
      client.CreateQueue(testing::NewQueueName("run"), {}).value();
  std::vector<std::string> bodies;
  int n = 0;
  for (const char* key :
       {"orders/2018-11-03/part-0.parquet", "orders/2018-11-04/part-0.parquet",
        "users/2018-11-03/part-0.parquet", "users/2018-11-04/part-0.parquet",
        "dims/dims.csv"}) {
    const std::string body =
        testing::S3Notification(key, absl::StrCat("seq", ++n));
    bodies.push_back(body);
    bodies.push_back(body);
  }
  bodies.push_back(R"({"Service":"Amazon S3","Event":"s3:TestEvent"})");
  bodies.push_back("this is not a notification");
  ASSERT_TRUE(
      client.SendBatch(url, {bodies.begin(), bodies.begin() + 10}).ok());
  ASSERT_TRUE(client.SendBatch(url, {bodies.begin() + 10, bodies.end()}).ok());

  const std::string builds = (dir / "builds.log").string();
  const int code =
      RunCli({"run", (dir / "spec.textproto").string(), "--state",
              (dir / "state.db").string(), "--sqs", url, "--sqs-endpoint",
              testing::TestSqsEndpoint(), "--sqs-region", "us-east-1",
              "--shell", "--exec", "echo {table}/{partition} >> " + builds,
              "--exit-when-idle", "1s"},
             dir / "out.log");
  const std::string out = ReadAll(dir / "out.log");
  EXPECT_EQ(code, 0) << out;
  std::map<std::string, int> built;
  std::istringstream lines(ReadAll(builds));
  for (std::string line; std::getline(lines, line);) ++built[line];
  const std::map<std::string, int> expected = {{"dwh.orders/2018-11-03", 1},
                                               {"dwh.orders/2018-11-04", 1},
                                               {"mart/2018-11-03", 1},
                                               {"mart/2018-11-04", 1}};
  EXPECT_EQ(built, expected) << out;
  EXPECT_NE(out.find("left to the queue's redrive policy"), std::string::npos)
      << out;
  EXPECT_NE(out.find("4 tasks: 4 SUCCEEDED"), std::string::npos) << out;
  // Everything but the poison message is deleted; it stays (in flight
  // until its visibility timeout ends).
  const std::pair<int, int> depth = testing::QueueDepth(client, url);
  EXPECT_EQ(depth.first + depth.second, 1);
  // The duplicates are in the history.
  ASSERT_EQ(RunCli({"history", "--state", (dir / "state.db").string()},
                   dir / "history.log"),
            0);
  const std::string history = ReadAll(dir / "history.log");
  int duplicates = 0;
  for (size_t at = 0; (at = history.find("duplicate", at)) != std::string::npos;
       ++at) {
    ++duplicates;
  }
  EXPECT_EQ(duplicates, 5) << history;
  fs::remove_all(dir);
}

TEST(SqsRunTest, RunWithoutLandingOrQueueIsAUsageError) {
  const fs::path dir =
      fs::temp_directory_path() / absl::StrCat("landfall-sqs-usage-", getpid());
  fs::create_directories(dir);
  std::ofstream(dir / "spec.textproto") << kSpec;
  EXPECT_EQ(RunCli({"run", (dir / "spec.textproto").string(), "--state",
                    (dir / "state.db").string(), "--exec", "true"},
                   dir / "out.log"),
            2);
  EXPECT_NE(ReadAll(dir / "out.log").find("--sqs"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "state.db")) << "a refused run made a state";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace landfall
