// Writers in several processes on one SQLite state file: each gets its
// turns at the write lock, and a writer killed while holding it leaves no
// lock behind. The binary forks its writers, so each test runs in a process
// of its own (as CTest runs them), with no other thread.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>
#include <string>

#include "gmock/gmock.h"
#include "landfall/state_store.h"
#include "lib/testing/write_contention.h"
#include "tests/store/store_test_base.h"

namespace landfall::testing {
namespace {

class WriteFairnessTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm", "-queue"}) {
      unlink((path_ + suffix).c_str());
    }
  }

  std::string path_ = TempPath("state.db");
};

// With SQLite's own busy wait, a writer that commits and begins again at
// once keeps the lock from writers polling for it: over a few seconds some
// of eight writers got nothing done and waited the whole run, while others
// waited microseconds. In turn, every writer gets about as many operations
// done, and while one waits each other writer goes first about once (a
// count, not a time, so that a loaded machine cannot break it; twice, for a
// writer preempted between reading the count and asking for the lock).
TEST_F(WriteFairnessTest, EveryWriterGetsItsTurnsAtTheLock) {
  WriteContentionOptions options;
  options.path = path_;
  options.processes = 8;
  options.duration = absl::Seconds(3);
  absl::StatusOr<WriteContentionReport> report = RunWriteContention(options);
  ASSERT_TRUE(report.ok()) << report.status();
  std::cout << report->Describe();
  EXPECT_GT(report->MinOperations(), 0);
  EXPECT_LE(report->OperationsRatio(), 3.0);
  EXPECT_LE(report->MaxOvertaken(), 2 * options.processes);
}

TEST_F(WriteFairnessTest, WriterKilledHoldingTheLockLeavesItFree) {
  SqliteStoreOptions impatient;
  impatient.lock_timeout = absl::Milliseconds(100);
  absl::StatusOr<std::shared_ptr<StateStore>> store =
      OpenSqliteStore(path_, impatient);
  ASSERT_TRUE(store.ok()) << store.status();
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t holder = fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    close(ready[0]);
    auto store = OpenSqliteStore(path_);
    if (store.ok() && (*store)->Begin(StateStore::Access::kWrite).ok()) {
      (void)!write(ready[1], "x", 1);
      for (int i = 0; i < 600; ++i) sleep(1);  // Until killed.
    }
    _exit(1);
  }
  close(ready[1]);
  pollfd p{ready[0], POLLIN, 0};
  char byte = 0;
  const bool holding = poll(&p, 1, 30000) == 1 && read(ready[0], &byte, 1) == 1;
  close(ready[0]);
  if (holding) {
    absl::Status held = (*store)->Begin(StateStore::Access::kWrite);
    EXPECT_TRUE(absl::IsUnavailable(held)) << held;
    (*store)->Rollback();
  }
  kill(holder, SIGKILL);
  int status;
  ASSERT_EQ(waitpid(holder, &status, 0), holder);
  ASSERT_TRUE(holding) << "the child did not take the lock";
  EXPECT_TRUE((*store)->Begin(StateStore::Access::kWrite).ok());
  (*store)->Rollback();
}

}  // namespace
}  // namespace landfall::testing
