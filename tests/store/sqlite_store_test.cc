// The SQLite store's own behaviour: files that are not what they should be,
// locks held by others, and its settings.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "landfall/history.h"
#include "landfall/scheduler.h"
#include "tests/file_state.h"
#include "tests/store/store_test_base.h"

namespace landfall::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

JournalEntry SampleEntry() {
  JournalEntry entry;
  entry.set_seq(1);
  entry.set_at_ns(1541206800000000000);
  entry.set_kind(static_cast<int32_t>(EntryKind::kClaimed));
  entry.set_table("sales.orders");
  entry.set_partition("2018-11-03");
  entry.set_attempt(2);
  entry.set_worker("loader-1");
  entry.set_until_ns(1541206830000000000);
  return entry;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm", "-queue"}) {
      unlink((path_ + suffix).c_str());
    }
  }
  // Runs `sql` on the file with SQLite directly.
  void Exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  // The first row `sql` gives on the file, with SQLite directly: each
  // column's bytes.
  std::vector<std::string> FirstRow(const std::string& sql) {
    std::vector<std::string> row;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    if (sqlite3_step(q) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(q); ++i) {
        const void* bytes = sqlite3_column_blob(q, i);
        row.emplace_back(static_cast<const char*>(bytes),
                         bytes == nullptr ? 0 : sqlite3_column_bytes(q, i));
      }
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return row;
  }
  // A file as schema version 1 left it: an index, and bodies holding every
  // field. Returns the body of its one entry, SampleEntry().
  std::string WriteVersion1File() {
    EXPECT_TRUE(OpenSqliteStore(path_).ok());
    const JournalEntry entry = SampleEntry();
    const std::string body = entry.SerializeAsString();
    Exec(absl::StrCat(
        "CREATE INDEX history_by_table ON history (table_name, seq); "
        "INSERT INTO history VALUES (1, ",
        entry.at_ns(), ", 'claimed', 'sales.orders', '2018-11-03', x'",
        absl::BytesToHexString(body), "'); PRAGMA user_version=1"));
    return body;
  }
  // Every entry `store` holds.
  static std::vector<JournalEntry> ReadAll(StateStore& store) {
    std::vector<JournalEntry> entries;
    EXPECT_TRUE(store.Begin(StateStore::Access::kRead).ok());
    EXPECT_TRUE(store.ReadEntries(0, 1000, &entries).ok());
    store.Rollback();
    return entries;
  }
  static SqliteStoreOptions ReadOnly() {
    SqliteStoreOptions options;
    options.read_only = true;
    return options;
  }
  void Expect(absl::StatusCode code, const std::string& text,
              SqliteStoreOptions options = {}) {
    auto store = OpenSqliteStore(path_, options);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), code) << store.status();
    EXPECT_THAT(std::string(store.status().message()), HasSubstr(path_));
    EXPECT_THAT(std::string(store.status().message()), HasSubstr(text));
  }

  std::string path_ = TempPath("state.db");
};

TEST_F(SqliteStoreTest, MissingFileIsNotFoundWhenNotCreating) {
  SqliteStoreOptions options;
  options.create = false;
  Expect(absl::StatusCode::kNotFound, "no such state file", options);
}

TEST_F(SqliteStoreTest, FileOfOtherBytesIsRefused) {
  std::ofstream(path_) << std::string(8192, 'x');
  Expect(absl::StatusCode::kDataLoss, "not a landfall state file");
}

TEST_F(SqliteStoreTest, OtherSqliteDatabaseIsRefusedAndLeftAlone) {
  Exec("CREATE TABLE orders (id INTEGER)");
  Expect(absl::StatusCode::kFailedPrecondition,
         "an SQLite file, but not a landfall state file");
  Exec("INSERT INTO orders VALUES (1)");  // Still the host's own table.
}

TEST_F(SqliteStoreTest, FileOfANewerSchemaIsRefusedNamingBothVersions) {
  ASSERT_TRUE(OpenSqliteStore(path_).ok());
  Exec("PRAGMA user_version=99");
  Expect(absl::StatusCode::kFailedPrecondition,
         "newer landfall (schema version 99; this one reads up to 3)");
  const FileState before = AgedState(path_);
  Expect(absl::StatusCode::kFailedPrecondition,
         "newer landfall (schema version 99; this one reads up to 3)",
         ReadOnly());
  EXPECT_TRUE(StateOf(path_) == before);
  EXPECT_TRUE(IsWrittenByNewerLandfall(OpenSqliteStore(path_).status()));
}

TEST_F(SqliteStoreTest, ReadOnlyOpenOfAMissingFileCreatesNothing) {
  Expect(absl::StatusCode::kNotFound, "no such state file", ReadOnly());
  struct stat st;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    EXPECT_NE(stat((path_ + suffix).c_str(), &st), 0) << suffix;
  }
}

TEST_F(SqliteStoreTest, ReadOnlyOpenOfAnEmptyFileIsRefusedLeavingItEmpty) {
  std::ofstream(path_).close();
  const FileState before = AgedState(path_);
  Expect(absl::StatusCode::kFailedPrecondition,
         "an empty file, not a landfall state file", ReadOnly());
  EXPECT_TRUE(StateOf(path_) == before);
  EXPECT_EQ(StateOf(path_).bytes, "");
}

TEST_F(SqliteStoreTest, ReadOnlyOpenOfATextFileIsRefusedLeavingItAlone) {
  std::ofstream(path_) << "a text file\n";
  const FileState before = AgedState(path_);
  Expect(absl::StatusCode::kDataLoss, "not a landfall state file", ReadOnly());
  EXPECT_TRUE(StateOf(path_) == before);
}

TEST_F(SqliteStoreTest, ReadOnlyOpenOfAnotherSqliteFileIsRefusedLeavingIt) {
  Exec("CREATE TABLE orders (id INTEGER)");
  const FileState before = AgedState(path_);
  Expect(absl::StatusCode::kFailedPrecondition,
         "an SQLite file, but not a landfall state file", ReadOnly());
  EXPECT_TRUE(StateOf(path_) == before);
}

TEST_F(SqliteStoreTest, ReadOnlyStoreReadsLeavingTheFileAsItWas) {
  {
    auto writer = *OpenSqliteStore(path_);
    ASSERT_TRUE(writer->Begin(StateStore::Access::kWrite).ok());
    ASSERT_TRUE(writer->AppendEntries({SampleEntry()}).ok());
    ASSERT_TRUE(writer->Commit().ok());
  }
  const FileState before = AgedState(path_);
  auto store = OpenSqliteStore(path_, ReadOnly());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(ReadAll(**store).size(), 1u);
  const absl::Status write = (*store)->Begin(StateStore::Access::kWrite);
  EXPECT_EQ(write.code(), absl::StatusCode::kPermissionDenied) << write;
  EXPECT_THAT(std::string(write.message()), HasSubstr(path_));
  store->reset();
  EXPECT_TRUE(StateOf(path_) == before);
}

TEST_F(SqliteStoreTest, FileMigratedByANewerLibraryWhileOpenIsRefused) {
  auto store = *OpenSqliteStore(path_);
  ASSERT_TRUE(store->Begin(StateStore::Access::kRead).ok());
  store->Rollback();
  Exec("PRAGMA user_version=99");  // Another process, a newer library.
  for (auto access : {StateStore::Access::kRead, StateStore::Access::kWrite}) {
    const absl::Status s = store->Begin(access);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("by a newer landfall"));
  }
}

TEST_F(SqliteStoreTest, FileOfAnOlderSchemaIsMigratedKeepingItsHistory) {
  const std::string body = WriteVersion1File();
  auto store = OpenSqliteStore(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<JournalEntry> entries = ReadAll(**store);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].SerializeAsString(), body);
  EXPECT_THAT(FirstRow("SELECT (SELECT count(*) FROM sqlite_master WHERE "
                       "name = 'history_by_table'), user_version FROM "
                       "pragma_user_version"),
              ElementsAre("0", "3"));
}

TEST_F(SqliteStoreTest, ReadOnlyOpenOfAnOlderSchemaReadsItWithoutMigrating) {
  const std::string body = WriteVersion1File();
  const FileState before = AgedState(path_);
  auto store = OpenSqliteStore(path_, ReadOnly());
  ASSERT_TRUE(store.ok()) << store.status();
  const std::vector<JournalEntry> entries = ReadAll(**store);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].SerializeAsString(), body);
  store->reset();
  EXPECT_TRUE(StateOf(path_) == before);
  EXPECT_THAT(FirstRow("SELECT (SELECT count(*) FROM sqlite_master WHERE "
                       "name = 'history_by_table'), user_version FROM "
                       "pragma_user_version"),
              ElementsAre("1", "1"));
}

TEST_F(SqliteStoreTest, RowKeepsItsColumnsOutOfTheBody) {
  const JournalEntry entry = SampleEntry();
  {
    auto store = *OpenSqliteStore(path_);
    ASSERT_TRUE(store->Begin(StateStore::Access::kWrite).ok());
    ASSERT_TRUE(store->AppendEntries({entry}).ok());
    ASSERT_TRUE(store->Commit().ok());
    const std::vector<JournalEntry> entries = ReadAll(*store);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].SerializeAsString(), entry.SerializeAsString());
  }
  const std::vector<std::string> row = FirstRow(
      "SELECT seq, at_ns, kind, table_name, partition_key, body FROM history");
  ASSERT_EQ(row.size(), 6u);
  EXPECT_THAT(absl::MakeConstSpan(row).subspan(0, 5),
              ElementsAre("1", absl::StrCat(entry.at_ns()), "claimed",
                          "sales.orders", "2018-11-03"));
  JournalEntry rest = entry;
  rest.clear_seq();
  rest.clear_at_ns();
  rest.clear_table();
  rest.clear_partition();
  EXPECT_EQ(row[5], rest.SerializeAsString());
}

TEST_F(SqliteStoreTest, BatchesOfAnySizeReadBackInOrder) {
  // Rows go in many to a statement: sizes around that many, and over.
  auto store = *OpenSqliteStore(path_);
  std::vector<JournalEntry> written;
  for (int batch : {1, 15, 16, 17, 37}) {
    std::vector<JournalEntry> entries;
    for (int i = 0; i < batch; ++i) {
      JournalEntry e = SampleEntry();
      e.set_seq(static_cast<int64_t>(written.size() + entries.size()) + 1);
      e.set_at_ns(e.at_ns() + e.seq());
      e.set_table(absl::StrCat("t", e.seq()));
      e.set_detail(std::string(static_cast<size_t>(e.seq()), 'd'));
      entries.push_back(e);
    }
    ASSERT_TRUE(store->Begin(StateStore::Access::kWrite).ok());
    ASSERT_TRUE(store->AppendEntries(entries).ok());
    ASSERT_TRUE(store->Commit().ok());
    written.insert(written.end(), entries.begin(), entries.end());
  }
  const std::vector<JournalEntry> read = ReadAll(*store);
  ASSERT_EQ(read.size(), written.size());
  for (size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(read[i].SerializeAsString(), written[i].SerializeAsString())
        << "entry " << i + 1;
  }
}

TEST_F(SqliteStoreTest, TruncatedFileIsRefused) {
  {
    auto store = *OpenSqliteStore(path_);
    ASSERT_TRUE(store->Begin(StateStore::Access::kWrite).ok());
    ASSERT_TRUE(store->WriteSpec(std::string(100000, 's')).ok());
    ASSERT_TRUE(store->Commit().ok());
  }
  Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  ASSERT_EQ(truncate(path_.c_str(), 6000), 0);
  auto store = OpenSqliteStore(path_);
  absl::Status status = store.status();
  if (store.ok()) {  // The header survived: reading the rest fails.
    ASSERT_TRUE((*store)->Begin(StateStore::Access::kRead).ok());
    status = (*store)->ReadSpec().status();
    (*store)->Rollback();
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
}

TEST_F(SqliteStoreTest, ReadOnlyFileIsRefused) {
  if (geteuid() == 0) GTEST_SKIP() << "root writes read-only files";
  ASSERT_TRUE(OpenSqliteStore(path_).ok());
  ASSERT_EQ(chmod(path_.c_str(), 0444), 0);
  Expect(absl::StatusCode::kPermissionDenied, "read-only");
}

TEST_F(SqliteStoreTest, WriterWaitsForTheLockThenGivesUp) {
  auto holder = *OpenSqliteStore(path_);
  SqliteStoreOptions impatient;
  impatient.lock_timeout = absl::Milliseconds(100);
  auto waiter = *OpenSqliteStore(path_, impatient);
  ASSERT_TRUE(holder->Begin(StateStore::Access::kWrite).ok());
  absl::Status status = waiter->Begin(StateStore::Access::kWrite);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("another process"));
  // Readers are not held up by a writer.
  EXPECT_TRUE(waiter->Begin(StateStore::Access::kRead).ok());
  waiter->Rollback();
  ASSERT_TRUE(holder->Commit().ok());
  EXPECT_TRUE(waiter->Begin(StateStore::Access::kWrite).ok());
  waiter->Rollback();
}

TEST_F(SqliteStoreTest, WritersGoUnorderedWhereTheQueueFileCannotBeOpened) {
  const std::string queue = path_ + "-queue";
  ASSERT_EQ(mkdir(queue.c_str(), 0755), 0);  // Not a file: opening fails.
  absl::StatusOr<std::shared_ptr<StateStore>> store = OpenSqliteStore(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->Begin(StateStore::Access::kWrite).ok());
  EXPECT_TRUE((*store)->Commit().ok());
  rmdir(queue.c_str());
}

TEST_F(SqliteStoreTest, UriNamesTheStore) {
  EXPECT_TRUE(OpenStateStore("memory:").ok());
  EXPECT_TRUE(OpenStateStore("sqlite:" + path_).ok());
  auto bad = OpenStateStore("mysql://x");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("memory:, sqlite:PATH, postgresql://"));
}

// A scheduler on the file at path_, with `arrivals` arrivals ingested.
std::unique_ptr<Scheduler> SchedulerWithArrivals(const std::string& path,
                                                 int arrivals) {
  auto pipeline = Pipeline::FromText(
      R"(name: "p" table { name: "src" source: true }
         table { name: "d" upstream: "src" })",
      SpecFormat::kTextProto, "spec");
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  auto store = OpenSqliteStore(path);
  EXPECT_TRUE(store.ok()) << store.status();
  auto scheduler = Scheduler::Open(*pipeline, *store, SchedulerOptions());
  EXPECT_TRUE(scheduler.ok()) << scheduler.status();
  for (int i = 0; i < arrivals; ++i) {
    Arrival a;
    a.set_event_id(absl::StrCat("e", i));
    a.set_table("src");
    a.set_partition(absl::StrCat("p", i));
    EXPECT_TRUE((*scheduler)->Ingest(a).ok());
  }
  return *std::move(scheduler);
}

TEST_F(SqliteStoreTest, ReadHistoryFromBelowOneReadsFromOne) {
  std::unique_ptr<Scheduler> scheduler = SchedulerWithArrivals(path_, 2);
  absl::StatusOr<std::vector<HistoryEntry>> history =
      scheduler->ReadHistory(INT64_MIN, 100);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_FALSE(history->empty());
  EXPECT_EQ(history->front().seq, 1);
  EXPECT_EQ(history->back().seq, scheduler->LastSequence());
}

TEST_F(SqliteStoreTest, ReadHistoryReportsACorruptEntryAsDataLossNamingIt) {
  std::unique_ptr<Scheduler> scheduler = SchedulerWithArrivals(path_, 3);
  const int64_t last = scheduler->LastSequence();
  ASSERT_GT(last, 2);
  // Not a protobuf: field 0 of wire type 7.
  Exec(
      absl::StrCat("UPDATE history SET body = X'FFFF' WHERE seq = ", last - 1));
  for (int64_t from : {int64_t{1}, last - 1, INT64_MIN}) {
    absl::StatusOr<std::vector<HistoryEntry>> history =
        scheduler->ReadHistory(from, 100);
    ASSERT_FALSE(history.ok()) << "from " << from;
    EXPECT_EQ(history.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(history.status().message()),
                HasSubstr(absl::StrCat("history entry ", last - 1)));
  }
  // Entries before it still read.
  EXPECT_TRUE(scheduler->ReadHistory(1, last - 2).ok());
}

TEST_F(SqliteStoreTest, ReadHistoryReportsAMissingEntryAsDataLoss) {
  std::unique_ptr<Scheduler> scheduler = SchedulerWithArrivals(path_, 3);
  const int64_t last = scheduler->LastSequence();
  Exec(absl::StrCat("DELETE FROM history WHERE seq = ", last - 1));
  absl::StatusOr<std::vector<HistoryEntry>> history =
      scheduler->ReadHistory(1, 100);
  ASSERT_FALSE(history.ok());
  EXPECT_EQ(history.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(
      std::string(history.status().message()),
      HasSubstr(absl::StrCat("history entry ", last - 1, " is missing")));
}

}  // namespace
}  // namespace landfall::testing
