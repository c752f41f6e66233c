// A store opened read-only (StoreOpenOptions::read_only), on SQLite and on
// PostgreSQL: it reads what writers committed, refuses to write, and never
// creates a store that is missing.
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "landfall/scheduler.h"
#include "tests/store/store_test_base.h"

namespace landfall::testing {
namespace {

using Access = StateStore::Access;
using ::testing::HasSubstr;

constexpr char kSpec[] = R"(
name: "ro"
table { name: "src" source: true }
table { name: "d" upstream: "src" }
)";

Arrival NewArrival(const std::string& id, const std::string& partition) {
  Arrival a;
  a.set_event_id(id);
  a.set_table("src");
  a.set_partition(partition);
  return a;
}

class ReadOnlyStoreTest : public StoreTest {
 protected:
  // The store URI of the file or schema `name` (path_ or schema_ for the
  // test's own store).
  std::string Uri(const std::string& name) const {
    if (GetParam() == StoreKind::kSqlite) return "sqlite:" + name;
    const std::string server = TestPostgres();
    return absl::StrCat(server,
                        server.find('?') == std::string::npos ? "?" : "&",
                        "schema=", name);
  }
  std::string Uri() const {
    return Uri(GetParam() == StoreKind::kSqlite ? path_ : schema_);
  }
  static StoreOpenOptions ReadOnly() {
    StoreOpenOptions options;
    options.read_only = true;
    return options;
  }
  // A scheduler on the test's store (writing), after two arrivals.
  std::unique_ptr<Scheduler> Writer() {
    auto pipeline =
        Pipeline::FromText(kSpec, SpecFormat::kTextProto, "ro.textproto");
    EXPECT_TRUE(pipeline.ok()) << pipeline.status();
    auto scheduler = Scheduler::Open(*pipeline, store_, SchedulerOptions());
    EXPECT_TRUE(scheduler.ok()) << scheduler.status();
    for (const char* p : {"2018-11-03", "2018-11-04"}) {
      EXPECT_TRUE((*scheduler)->Ingest(NewArrival(p, p)).ok());
    }
    return *std::move(scheduler);
  }
};

TEST_P(ReadOnlyStoreTest, SchedulerAnswersQueriesAndRefusesEveryWrite) {
  std::unique_ptr<Scheduler> writer = Writer();
  const int64_t last = writer->LastSequence();
  auto store = OpenStateStore(Uri(), ReadOnly());
  ASSERT_TRUE(store.ok()) << store.status();
  auto reader = Scheduler::Open(*store, SchedulerOptions());
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->pipeline().name(), "ro");
  EXPECT_EQ((*reader)->List(ListFilter()).tasks.size(), 2u);
  absl::StatusOr<std::vector<HistoryEntry>> history =
      (*reader)->ReadHistory(1, 100);
  ASSERT_TRUE(history.ok()) << history.status();
  EXPECT_EQ(static_cast<int64_t>(history->size()), last);

  absl::StatusOr<IngestResult> refused =
      (*reader)->Ingest(NewArrival("e3", "2018-11-05"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied)
      << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("read-only"));
  EXPECT_EQ(writer->LastSequence(), last);  // Nothing was written.

  // What a writer commits later, the reader sees.
  ASSERT_TRUE(writer->Ingest(NewArrival("e4", "2018-11-06")).ok());
  EXPECT_EQ((*reader)->List(ListFilter()).tasks.size(), 3u);
}

TEST_P(ReadOnlyStoreTest, BeginToWriteIsPermissionDenied) {
  auto store = OpenStateStore(Uri(), ReadOnly());
  ASSERT_TRUE(store.ok()) << store.status();
  const absl::Status s = (*store)->Begin(Access::kWrite);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  // A read transaction still works, and the refusal left none open.
  ASSERT_TRUE((*store)->Begin(Access::kRead).ok());
  EXPECT_EQ((*store)->LastSequence().value_or(-1), 0);
  (*store)->Rollback();
}

TEST_P(ReadOnlyStoreTest, MissingStoreIsNotFoundAndNotCreated) {
  const std::string name = GetParam() == StoreKind::kSqlite
                               ? TempPath("missing.db")
                               : NewTestSchema() + "_typo";
  auto store = OpenStateStore(Uri(name), ReadOnly());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kNotFound)
      << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(name));
  if (GetParam() == StoreKind::kSqlite) {
    struct stat st;
    for (const char* suffix : {"", "-wal", "-shm"}) {
      EXPECT_NE(stat((name + suffix).c_str(), &st), 0) << name << suffix;
    }
  } else {
    EXPECT_THAT(std::string(store.status().message()),
                HasSubstr("no landfall store in schema"));
    EXPECT_EQ(
        QueryTestServer(absl::StrCat(
            "SELECT count(*) FROM pg_namespace WHERE nspname = '", name, "'")),
        "0");
  }
}

TEST_P(ReadOnlyStoreTest, StoreWithoutAPipelineCannotBeRun) {
  auto store = OpenStateStore(Uri(), ReadOnly());
  ASSERT_TRUE(store.ok()) << store.status();
  auto scheduler = Scheduler::Open(*store, SchedulerOptions());
  EXPECT_EQ(scheduler.status().code(), absl::StatusCode::kFailedPrecondition)
      << scheduler.status();
}

TEST(ReadOnlyMemoryStoreTest, IsRefusedForItIsAlwaysEmpty) {
  StoreOpenOptions options;
  options.read_only = true;
  auto store = OpenStateStore("memory:", options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument)
      << store.status();
}

INSTANTIATE_TEST_SUITE_P(Stores, ReadOnlyStoreTest,
                         ::testing::Values(StoreKind::kSqlite,
                                           StoreKind::kPostgres),
                         StoreKindName);

}  // namespace
}  // namespace landfall::testing
