// A token_command that hangs is stopped at its time limit, or when its
// attempt is given up: the command and what it started are killed, and the
// message names its first word only.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/sinks/bigquery/command_output.h"
#include "lib/sinks/bigquery/token_source.h"

namespace landfall::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

namespace fs = std::filesystem;

// Whether process `pid` has ended (a zombie waiting for its reaper counts),
// within two seconds.
bool Ended(pid_t pid) {
  for (int i = 0; i < 100; ++i) {
    std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
    std::string id, name, state;
    if (!(stat >> id >> name >> state) || state == "Z") return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

class TokenCommandTest : public ::testing::Test {
 protected:
  void TearDown() override { fs::remove(pid_file_); }
  // A command that prints a secret, starts `sleep 30` in the background
  // (writing its pid) and waits for it.
  std::string HangingCommand() const {
    return absl::StrCat("echo SECRET-OUTPUT; sleep 30 & echo $! > ",
                        pid_file_.string(), "; wait");
  }
  pid_t SleepPid() const {
    pid_t pid = 0;
    std::ifstream(pid_file_) >> pid;
    return pid;
  }
  const fs::path pid_file_ =
      fs::temp_directory_path() /
      absl::StrCat("landfall-token-command-", getpid(), ".pid");
};

TEST_F(TokenCommandTest, AHungCommandIsKilledAtItsTimeLimit) {
  auto tokens = NewCommandTokenSource("sleep 30", absl::Milliseconds(300));
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> token = tokens->Get(false, nullptr);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  ASSERT_TRUE(absl::IsUnavailable(token.status())) << token.status();
  EXPECT_EQ(token.status().message(),
            "token_command `sleep` did not finish within 300ms; stopped");
}

TEST_F(TokenCommandTest, ItsProcessGroupIsKilledAndItsOutputNeverShown) {
  auto tokens = NewCommandTokenSource(HangingCommand(), absl::Seconds(1));
  absl::StatusOr<std::string> token = tokens->Get(false, nullptr);
  ASSERT_TRUE(absl::IsUnavailable(token.status())) << token.status();
  EXPECT_THAT(token.status().message(), HasSubstr("token_command `echo`"));
  EXPECT_THAT(token.status().message(), Not(HasSubstr("SECRET")));
  EXPECT_THAT(token.status().message(), Not(HasSubstr("sleep")));
  const pid_t sleeper = SleepPid();
  ASSERT_GT(sleeper, 0);
  EXPECT_TRUE(Ended(sleeper)) << "the command's child outlived it";
}

TEST_F(TokenCommandTest, AnEnvironmentSetBeforeTheCommandIsNeverShown) {
  auto tokens =
      NewCommandTokenSource("GOOGLE_TOKEN=ya29.SECRET false", absl::Seconds(5));
  absl::StatusOr<std::string> token = tokens->Get(false, nullptr);
  ASSERT_FALSE(token.ok());
  EXPECT_THAT(token.status().message(), HasSubstr("token_command `false`"));
  EXPECT_THAT(token.status().message(), Not(HasSubstr("SECRET")));
}

TEST_F(TokenCommandTest, AGivenUpAttemptStopsItsCommandAtOnce) {
  auto tokens = NewCommandTokenSource(HangingCommand(), absl::Seconds(30));
  std::atomic<bool> abort{false};
  std::thread stopper([&] {
    absl::SleepFor(absl::Milliseconds(300));
    abort.store(true);
  });
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> token = tokens->Get(false, &abort);
  stopper.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  ASSERT_TRUE(absl::IsUnavailable(token.status())) << token.status();
  EXPECT_THAT(token.status().message(), HasSubstr("cancelled"));
}

TEST_F(TokenCommandTest, AQuickCommandsOutputAndStatusAreKept) {
  absl::StatusOr<CommandOutput> out =
      RunForOutput("printf 'a b'; exit 4", "test", absl::Seconds(10), nullptr);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->out, "a b");
  EXPECT_TRUE(WIFEXITED(out->wait_status));
  EXPECT_EQ(WEXITSTATUS(out->wait_status), 4);
  EXPECT_EQ(CommandName("  gcloud auth print-access-token"), "gcloud");
  EXPECT_EQ(CommandName("\tfetch-token\t--key=SECRET"), "fetch-token");
  EXPECT_EQ(CommandName("GOOGLE_TOKEN=SECRET KEY=S2 fetch --x"), "fetch");
  EXPECT_EQ(CommandName("TOKEN=SECRET"), "(command)");
}

}  // namespace
}  // namespace landfall::internal
