// IngestEventsFile: a file of arrivals recorded in bounded batches, checked
// whole before the first, and safe to ingest again after a failure.
#include "landfall/ingest_file.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "landfall/state_store.h"
#include "lib/testing/forwarding_store.h"

namespace landfall {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kSpec[] = R"(
table { name: "src" source: true }
table { name: "a" upstream: "src" }
)";

// A store whose commits fail once `commits_left` is down to 0, as a
// server that went away; counts the commits it let through.
class FailingStore : public testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  absl::Status Commit() override {
    if (commits_left == 0) {
      inner().Rollback();
      return absl::UnavailableError("the store went away");
    }
    if (commits_left > 0) --commits_left;
    ++commits;
    return inner().Commit();
  }
  int commits_left = -1;  // -1: no limit.
  int commits = 0;
};

class IngestFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pipeline = Pipeline::FromText(kSpec, SpecFormat::kTextProto, "spec");
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    const std::string db = TestFile(".db");
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::remove((db + suffix).c_str());
    }
    auto inner = OpenStateStore("sqlite:" + db);
    ASSERT_TRUE(inner.ok()) << inner.status();
    store_ = std::make_shared<FailingStore>(*inner);
    auto scheduler = Scheduler::Open(*pipeline, store_);
    ASSERT_TRUE(scheduler.ok()) << scheduler.status();
    scheduler_ = *std::move(scheduler);
    store_->commits = 0;
  }

  // Writes the events file: an arrival of src per partition, a blank line
  // for "".
  void WriteEvents(const std::vector<std::string>& partitions) {
    std::ofstream file(path_, std::ios::binary | std::ios::trunc);
    int id = 0;
    for (const std::string& p : partitions) {
      if (!p.empty()) {
        file << R"({"event_id":"e)" << ++id << R"(","table":"src",)"
             << R"("partition":")" << p << R"("})";
      }
      file << "\n";
    }
  }

  // Ingests the events file in batches of 2; `recorded` receives
  // "EVENT_ID duplicate|new" per arrival recorded.
  absl::Status Ingest(std::vector<std::string>* recorded) {
    IngestFileOptions options;
    options.batch_size = 2;
    return IngestEventsFile(*scheduler_, path_, options,
                            [&](const Arrival& a, const IngestResult& r) {
                              recorded->push_back(absl::StrCat(
                                  a.event_id(), r.duplicate ? " dup" : " new"));
                            });
  }

  // A file of this test's own: ctest runs tests side by side.
  static std::string TestFile(absl::string_view suffix) {
    return absl::StrCat(
        ::testing::TempDir(), "ingest-file-",
        ::testing::UnitTest::GetInstance()->current_test_info()->name(),
        suffix);
  }

  const std::string path_ = TestFile(".jsonl");
  std::shared_ptr<FailingStore> store_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(IngestFileTest, RecordsTheArrivalsInFileOrderOneBatchATransaction) {
  WriteEvents({"p1", "", "p2", "p3", "p2", "p4"});
  std::vector<std::string> recorded;
  ASSERT_TRUE(Ingest(&recorded).ok());
  EXPECT_THAT(recorded,
              ElementsAre("e1 new", "e2 new", "e3 new", "e4 new", "e5 new"));
  EXPECT_EQ(store_->commits, 3);
  EXPECT_EQ(scheduler_->List().tasks.size(), 4u);
}

TEST_F(IngestFileTest, ABadLineAnywhereRecordsNothing) {
  const int64_t before = scheduler_->LastSequence();
  for (const std::string& bad :
       {std::string(R"({"event_id":"x","table":"srx","partition":"p"})"),
        std::string(R"({"event_id":"x","table":"src","partition":"p")")}) {
    WriteEvents({"p1", "p2", "p3"});
    std::ofstream(path_, std::ios::app) << bad << "\n";
    std::vector<std::string> recorded;
    const absl::Status status = Ingest(&recorded);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(std::string(status.message()), StartsWith(path_ + ":4: "));
    EXPECT_THAT(recorded, ElementsAre());
    EXPECT_EQ(scheduler_->LastSequence(), before);
  }
}

TEST_F(IngestFileTest, AStoreGoneMidFileIsUnavailableAndARerunRecordsTheRest) {
  WriteEvents({"p1", "p2", "", "p3", "p4", "p5"});
  store_->commits_left = 1;
  std::vector<std::string> recorded;
  const absl::Status status = Ingest(&recorded);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(status.message(),
            absl::StrCat(path_,
                         ": stopped at line 4: the store went away; the 2 "
                         "arrivals before it are recorded, and ingesting the "
                         "file again records them as duplicates"));
  EXPECT_THAT(recorded, ElementsAre("e1 new", "e2 new"));

  store_->commits_left = -1;
  recorded.clear();
  ASSERT_TRUE(Ingest(&recorded).ok());
  EXPECT_THAT(recorded,
              ElementsAre("e1 dup", "e2 dup", "e3 new", "e4 new", "e5 new"));
}

TEST_F(IngestFileTest, AFileChangedAfterItsCheckIsDataLoss) {
  // Lines longer than a read, so that the file changes under a line read
  // in part.
  const std::string origin(40000, 'o');
  {
    std::ofstream file(path_, std::ios::binary | std::ios::trunc);
    for (int i = 1; i <= 3; ++i) {
      file << R"({"event_id":"e)" << i << R"(","table":"src","partition":"p)"
           << i << R"(","origin":")" << origin << "\"}\n";
    }
  }
  std::vector<std::string> recorded;
  IngestFileOptions options;
  options.batch_size = 1;
  const absl::Status status = IngestEventsFile(
      *scheduler_, path_, options, [&](const Arrival& a, const IngestResult&) {
        recorded.push_back(a.event_id());
        WriteEvents({"p1"});
      });
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("changed while it was ingested"));
  EXPECT_THAT(recorded, ElementsAre("e1"));
}

TEST_F(IngestFileTest, LinesAppendedAfterTheCheckAreNotRecorded) {
  WriteEvents({"p1", "p2"});
  std::vector<std::string> recorded;
  IngestFileOptions options;
  options.batch_size = 1;
  bool appended = false;
  const absl::Status status = IngestEventsFile(
      *scheduler_, path_, options, [&](const Arrival& a, const IngestResult&) {
        recorded.push_back(a.event_id());
        if (!appended) {
          appended = true;
          std::ofstream(path_, std::ios::app)
              << R"({"event_id":"late","table":"src","partition":"p3"})"
              << "\n";
        }
      });
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("the 2 arrivals before it are recorded"));
  EXPECT_THAT(recorded, ElementsAre("e1", "e2"));
}

}  // namespace
}  // namespace landfall
