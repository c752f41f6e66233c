// The writers' queue of the SQLite store: turns in the order they were
// asked for, and no turn left held by a writer that gave up or died.
#include "lib/store/write_queue.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "tests/store/store_test_base.h"

namespace landfall::internal {
namespace {

using ::landfall::testing::TempPath;

class WriteQueueTest : public ::testing::Test {
 protected:
  void TearDown() override { unlink((path_ + "-queue").c_str()); }

  WriteQueue Open() {
    absl::StatusOr<WriteQueue> queue = WriteQueue::Open(path_);
    EXPECT_TRUE(queue.ok()) << queue.status();
    return *std::move(queue);
  }
  static absl::Time Soon() { return absl::Now() + absl::Milliseconds(50); }
  // Two writers: the second's turn comes when the first leaves, not before.
  void ExpectSecondWaitsForFirst() {
    WriteQueue first = Open(), second = Open();
    EXPECT_TRUE(first.Join(Soon()).ok());
    EXPECT_TRUE(absl::IsDeadlineExceeded(second.Join(Soon())));
    first.Leave();
    EXPECT_TRUE(second.Join(Soon()).ok());
  }

  std::string path_ = TempPath("state.db");
};

TEST_F(WriteQueueTest, WriterWaitsForTheOneBeforeUntilItLeaves) {
  ExpectSecondWaitsForFirst();
}

TEST_F(WriteQueueTest, WriterThatGaveUpDoesNotHoldUpTheNext) {
  WriteQueue first = Open(), quitter = Open(), third = Open();
  ASSERT_TRUE(first.Join(Soon()).ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(quitter.Join(Soon())));
  first.Leave();
  EXPECT_TRUE(third.Join(Soon()).ok());
}

TEST_F(WriteQueueTest, ClosedQueueLeavesItsTurn) {
  WriteQueue second = Open();
  {
    WriteQueue first = Open();
    ASSERT_TRUE(first.Join(Soon()).ok());
  }  // As a process's death closes its files.
  EXPECT_TRUE(second.Join(Soon()).ok());
}

TEST_F(WriteQueueTest, WriterAskingAgainGoesAfterThoseAlreadyWaiting) {
  WriteQueue a = Open(), b = Open();
  ASSERT_TRUE(a.Join(Soon()).ok());
  absl::Status b_joined;
  std::thread waiter(
      [&] { b_joined = b.Join(absl::Now() + absl::Seconds(10)); });
  // b is in line once it has drawn its ticket: the counter says 2.
  const int fd = open((path_ + "-queue").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 1000; ++i) {
    char counter = 0;
    if (pread(fd, &counter, 1, 0) == 1 && counter == 2) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  close(fd);
  a.Leave();
  // A writer that just left and asks again, as a committer beginning its
  // next transaction does, waits for b instead of taking the turn back.
  EXPECT_TRUE(
      absl::IsDeadlineExceeded(a.Join(absl::Now() + absl::Milliseconds(200))));
  waiter.join();
  EXPECT_TRUE(b_joined.ok()) << b_joined;
  b.Leave();
  EXPECT_TRUE(a.Join(Soon()).ok());
}

TEST_F(WriteQueueTest, GarbledCounterStillGivesTurns) {
  const int fd = open((path_ + "-queue").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "\xff\xff\xff\xff\xff\xff\xff\xff", 8), 8);
  close(fd);
  ExpectSecondWaitsForFirst();
}

TEST_F(WriteQueueTest, QueueFileGetsTheStateFilesPermissions) {
  const int state = open(path_.c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(state, 0);
  ASSERT_EQ(fchmod(state, 0664), 0);  // Group-writable, past the umask.
  close(state);
  Open();
  struct stat queue;
  ASSERT_EQ(stat((path_ + "-queue").c_str(), &queue), 0);
  EXPECT_EQ(queue.st_mode & 0777, 0664u);
  unlink(path_.c_str());
}

TEST_F(WriteQueueTest, QueueFileThatCannotBeOpenedIsAnErrorNamingIt) {
  absl::StatusOr<WriteQueue> queue =
      WriteQueue::Open("/nonexistent-dir/state.db");
  ASSERT_FALSE(queue.ok());
  EXPECT_THAT(std::string(queue.status().message()),
              ::testing::HasSubstr("/nonexistent-dir/state.db-queue"));
}

}  // namespace
}  // namespace landfall::internal
