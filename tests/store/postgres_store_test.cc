// The PostgreSQL store's own behaviour: its URIs, schemas kept apart,
// schemas that are not what they should be, faults on the connection (all
// Unavailable, nothing half-applied, the next call reconnects), a commit
// whose acknowledgement was lost, and the watch of other hosts' commits.
#include "lib/store/postgres_store.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "landfall/history.h"
#include "landfall/scheduler.h"
#include "lib/testing/forwarding_store.h"
#include "lib/testing/history.h"
#include "tests/store/postgres_test_env.h"

namespace landfall::testing {
namespace {

using Access = StateStore::Access;
using ::testing::HasSubstr;
using ::testing::Not;

JournalEntry Entry(int64_t seq) {
  JournalEntry e;
  e.set_seq(seq);
  e.set_at_ns(seq);
  e.set_table("t");
  e.set_partition("p");
  return e;
}

// `uri` with one more query parameter.
std::string WithParam(const std::string& uri, const std::string& param) {
  return absl::StrCat(uri, uri.find('?') == std::string::npos ? "?" : "&",
                      param);
}

constexpr char kSpec[] = R"(
name: "pg"
defaults { lease: "60s" retry { max_attempts: 3 initial_backoff: "1s" } }
table { name: "src" source: true }
table { name: "a" upstream: "src" }
)";

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LANDFALL_REQUIRE_POSTGRES();
    schemas_.push_back(NewTestSchema());
    // Connections of this test, by name, for pg_terminate_backend.
    app_ = schemas_.back();
    uri_ = WithParam(TestPostgres(), "application_name=" + app_);
  }
  void TearDown() override {
    for (const std::string& schema : schemas_) {
      EXPECT_EQ(DropTestSchema(schema), "");
    }
  }

  std::shared_ptr<StateStore> Open(const std::string& schema,
                                   PostgresStoreOptions options = {}) {
    options.schema = schema;
    auto store = OpenPostgresStore(uri_, options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *store : nullptr;
  }
  std::shared_ptr<StateStore> Open() { return Open(schemas_[0]); }
  std::string OtherSchema() {
    schemas_.push_back(NewTestSchema());
    return schemas_.back();
  }

  static absl::Status Append(StateStore& store, int64_t from, int64_t to) {
    std::vector<JournalEntry> entries;
    for (int64_t seq = from; seq <= to; ++seq) entries.push_back(Entry(seq));
    if (absl::Status s = store.Begin(Access::kWrite); !s.ok()) return s;
    if (absl::Status s = store.AppendEntries(entries); !s.ok()) {
      store.Rollback();
      return s;
    }
    return store.Commit();
  }
  static int64_t Last(StateStore& store) {
    EXPECT_TRUE(store.Begin(Access::kRead).ok());
    absl::StatusOr<int64_t> last = store.LastSequence();
    store.Rollback();
    EXPECT_TRUE(last.ok()) << last.status();
    return last.value_or(-1);
  }
  // The statuses of opening the test's schema to write, then read-only.
  std::vector<absl::Status> OpenBothWays() {
    std::vector<absl::Status> statuses;
    for (bool read_only : {false, true}) {
      PostgresStoreOptions options;
      options.schema = schemas_[0];
      options.read_only = read_only;
      statuses.push_back(OpenPostgresStore(uri_, options).status());
    }
    return statuses;
  }
  // Makes the test's schema another application's: a table of its own.
  void MakeForeignSchema() {
    ASSERT_EQ(ExecOnTestServer(absl::StrCat("CREATE SCHEMA \"", schemas_[0],
                                            "\"; CREATE TABLE \"", schemas_[0],
                                            "\".orders (id int)")),
              "");
  }
  // Sets the test's store to schema version `v`, as a newer library would.
  void SetSchemaVersion(int v) {
    ASSERT_EQ(ExecOnTestServer(absl::StrCat("UPDATE \"", schemas_[0],
                                            "\".schema_info SET "
                                            "schema_version = ",
                                            v)),
              "");
  }
  // Ends every connection of this test's stores.
  int TerminateConnections() {
    std::string n = QueryTestServer(absl::StrCat(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = '",
        app_, "'"));
    return std::atoi(n.c_str());
  }

  std::vector<std::string> schemas_;
  std::string app_;
  std::string uri_;
};

TEST_F(PostgresStoreTest, OpenStateStoreTakesUriAndKeyValueFormsWithSchema) {
  auto store = Open();
  ASSERT_TRUE(Append(*store, 1, 2).ok());
  const std::string u = TestPostgres();
  // postgres:// and postgresql:// URIs, the schema a query parameter.
  for (const char* prefix : {"postgresql://", "postgres://"}) {
    const std::string uri =
        WithParam(std::string(prefix) + u.substr(u.find("://") + 3),
                  absl::StrCat("schema=", schemas_[0], "&lock_timeout=5s"));
    auto opened = OpenStateStore(uri);
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(Last(**opened), 2);
  }
  // key=value pairs; the password from PGPASSWORD-like places is libpq's
  // business, here it is in the pairs.
  const std::string pairs = QueryTestServer(
      "SELECT 'host=127.0.0.1 port=' || current_setting('port') || "
      "' dbname=landfall user=landfall'");
  const std::string password =
      u.substr(u.find(':', 13) + 1, u.find('@') - u.find(':', 13) - 1);
  auto opened =
      OpenStateStore(absl::StrCat("postgresql:", pairs, " password='", password,
                                  "' schema = ", schemas_[0]));
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(Last(**opened), 2);
  EXPECT_EQ(OpenStateStore(WithParam(u, "lock_timeout=soon")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PostgresStoreTest, ErrorsShowTheConninfoWithoutItsPassword) {
  const std::string secret = "s3cret-never-shown";
  // A port nothing listens on, and a wrong password.
  for (const std::string& uri :
       {absl::StrCat("postgresql://landfall:", secret, "@127.0.0.1:1/db"),
        absl::StrCat("postgresql:host=127.0.0.1 port=1 password=", secret),
        absl::StrCat("postgresql://landfall:", secret, "@",
                     TestPostgres().substr(TestPostgres().find('@') + 1))}) {
    auto store =
        OpenStateStore(uri + (uri.find('?') == std::string::npos &&
                                      uri.find("://") != std::string::npos
                                  ? "?connect_timeout=2"
                                  : ""));
    ASSERT_FALSE(store.ok());
    EXPECT_THAT(std::string(store.status().message()), Not(HasSubstr(secret)));
    EXPECT_THAT(std::string(store.status().message()), HasSubstr("127.0.0.1"));
  }
  // A mistyped scheme is not echoed with its password either.
  auto store = OpenStateStore(absl::StrCat("postgresq://u:", secret, "@h/db"));
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(store.status().message()), Not(HasSubstr(secret)));
}

TEST_F(PostgresStoreTest, TwoSchemasOfOneDatabaseShareNothing) {
  auto one = Open();
  auto two = Open(OtherSchema());
  ASSERT_TRUE(Append(*one, 1, 5).ok());
  EXPECT_EQ(Last(*two), 0);
  ASSERT_TRUE(Append(*two, 1, 1).ok());
  EXPECT_EQ(Last(*one), 5);
  EXPECT_EQ(Last(*two), 1);
  // Their writers do not wait for each other either.
  ASSERT_TRUE(one->Begin(Access::kWrite).ok());
  EXPECT_TRUE(Append(*two, 2, 2).ok());
  one->Rollback();
}

TEST_F(PostgresStoreTest, MissingSchemaIsNotFoundWhenNotCreating) {
  PostgresStoreOptions options;
  options.schema = schemas_[0];
  options.create = false;
  auto store = OpenPostgresStore(uri_, options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kNotFound)
      << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(schemas_[0]));
}

TEST_F(PostgresStoreTest, SchemaOfAnotherApplicationIsRefusedAndLeftAlone) {
  MakeForeignSchema();
  for (const absl::Status& s : OpenBothWays()) {
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("not a landfall store"));
  }
  EXPECT_EQ(QueryTestServer(absl::StrCat(
                "SELECT count(*) FROM pg_tables WHERE schemaname = '",
                schemas_[0], "'")),
            "1");
}

TEST_F(PostgresStoreTest, SchemaMigratedByANewerLibraryIsRefusedEvenWhenOpen) {
  auto store = Open();
  ASSERT_TRUE(Append(*store, 1, 1).ok());
  SetSchemaVersion(99);
  absl::Status s = store->Begin(Access::kWrite);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("newer landfall"));
  EXPECT_TRUE(IsWrittenByNewerLandfall(s));
  PostgresStoreOptions options;
  options.schema = schemas_[0];
  EXPECT_EQ(OpenPostgresStore(uri_, options).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PostgresStoreTest, OpeningANewerSchemaIsRefusedNamingBothVersions) {
  ASSERT_NE(Open(), nullptr);
  SetSchemaVersion(99);
  for (const absl::Status& s : OpenBothWays()) {
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(std::string(s.message()),
                HasSubstr("schema version 99 by a newer landfall (this one "
                          "reads up to 1)"));
  }
  EXPECT_EQ(QueryTestServer(absl::StrCat("SELECT schema_version FROM \"",
                                         schemas_[0], "\".schema_info")),
            "99");
}

TEST_F(PostgresStoreTest, WriterWaitingPastLockTimeoutIsUnavailable) {
  auto holder = Open();
  PostgresStoreOptions options;
  options.lock_timeout = absl::Milliseconds(200);
  auto waiter = Open(schemas_[0], options);
  ASSERT_TRUE(holder->Begin(Access::kWrite).ok());
  const absl::Time start = absl::Now();
  absl::Status s = waiter->Begin(Access::kWrite);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // Readers do not wait for the writer.
  EXPECT_EQ(Last(*waiter), 0);
  holder->Rollback();
  EXPECT_TRUE(Append(*waiter, 1, 1).ok());
}

TEST_F(PostgresStoreTest, ConnectionKilledMidTransactionKeepsNothing) {
  auto store = Open();
  ASSERT_TRUE(Append(*store, 1, 2).ok());
  ASSERT_TRUE(store->Begin(Access::kWrite).ok());
  std::vector<JournalEntry> more = {Entry(3), Entry(4)};
  ASSERT_TRUE(store->AppendEntries(more).ok());
  ASSERT_GE(TerminateConnections(), 1);
  absl::Status s = store->Commit();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  // The next call reconnects; nothing of the transaction was kept.
  EXPECT_EQ(Last(*store), 2);
  EXPECT_TRUE(Append(*store, 3, 3).ok());
  EXPECT_EQ(Last(*Open()), 3);
}

TEST_F(PostgresStoreTest, ConnectionLostWhileIdleIsReplacedByTheNextBegin) {
  auto store = Open();
  ASSERT_TRUE(Append(*store, 1, 1).ok());
  ASSERT_GE(TerminateConnections(), 1);
  // Nothing was under way: Begin reconnects without bothering the caller.
  EXPECT_TRUE(Append(*store, 2, 2).ok());
  EXPECT_EQ(Last(*store), 2);
}

// Forwards to a store; the commits it is told to lose the acknowledgement
// of are made, then reported Unavailable, as when the connection drops
// between the server's commit and its reply.
class AckLosingStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  int lose_next_acks = 0;

  absl::Status Commit() override {
    absl::Status s = inner().Commit();
    if (s.ok() && lose_next_acks > 0) {
      --lose_next_acks;
      return absl::UnavailableError(
          "the acknowledgement of the commit was lost");
    }
    return s;
  }
};

int Count(const std::vector<HistoryEntry>& history, EntryKind kind) {
  int n = 0;
  for (const HistoryEntry& e : history) n += e.kind == kind ? 1 : 0;
  return n;
}

// A commit whose acknowledgement was lost may have happened: the caller
// sees Unavailable and retries. The fencing and the event-id dedup make the
// retry safe: an arrival applies once (the retry is a duplicate), a
// completion is recorded once (the same outcome again is accepted), and a
// claim's attempt stays held until its lease ends (the retry claims none).
TEST_F(PostgresStoreTest, RetryAfterALostCommitAcknowledgementAppliesOnce) {
  auto pipeline = Pipeline::FromText(kSpec, SpecFormat::kTextProto, "pg");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  auto store = std::make_shared<AckLosingStore>(Open());
  auto opened = Scheduler::Open(*pipeline, store);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Scheduler& s = **opened;
  Arrival a;
  a.set_event_id("e1");
  a.set_table("src");
  a.set_partition("2018-11-03");
  store->lose_next_acks = 1;
  EXPECT_EQ(s.Ingest(a).status().code(), absl::StatusCode::kUnavailable);
  auto again = s.Ingest(a);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate);

  store->lose_next_acks = 1;
  EXPECT_EQ(s.Claim("w", 1).status().code(), absl::StatusCode::kUnavailable);
  auto claimed = s.Claim("w", 1);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_TRUE(claimed->empty());  // Attempt 1 runs, unknown to its worker.

  const TaskKey task{"a", "2018-11-03"};
  store->lose_next_acks = 1;
  EXPECT_EQ(s.Complete(task, 1, Outcome::SUCCEEDED).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(s.Complete(task, 1, Outcome::SUCCEEDED).ok());

  const std::vector<HistoryEntry> history = History(s, 1, 1000);
  EXPECT_EQ(Count(history, EntryKind::kArrival), 1);
  EXPECT_EQ(Count(history, EntryKind::kDuplicate), 1);
  EXPECT_EQ(Count(history, EntryKind::kClaimed), 1);
  EXPECT_EQ(Count(history, EntryKind::kSucceeded), 1);
}

TEST_F(PostgresStoreTest, WatchWakesForOtherHandlesCommitsOnly) {
  auto mine = Open();
  auto theirs = Open();
  auto elsewhere = Open(OtherSchema());
  std::unique_ptr<StoreWatch> watch = mine->Watch();
  ASSERT_NE(watch, nullptr);
  // The first wait connects and listens.
  EXPECT_FALSE(*watch->Wait(absl::Milliseconds(10)));
  ASSERT_TRUE(Append(*mine, 1, 1).ok());
  ASSERT_TRUE(Append(*elsewhere, 1, 1).ok());
  EXPECT_FALSE(*watch->Wait(absl::Milliseconds(200)));
  ASSERT_TRUE(Append(*theirs, 2, 2).ok());
  const absl::Time start = absl::Now();
  auto woke = watch->Wait(absl::Seconds(10));
  ASSERT_TRUE(woke.ok()) << woke.status();
  EXPECT_TRUE(*woke);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));  // Milliseconds, unloaded.
  // A read or a write that appended nothing tells no one.
  ASSERT_TRUE(theirs->Begin(Access::kWrite).ok());
  ASSERT_TRUE(theirs->Commit().ok());
  EXPECT_FALSE(*watch->Wait(absl::Milliseconds(200)));
  // Interrupt ends a wait at once.
  watch->Interrupt();
  EXPECT_FALSE(*watch->Wait(absl::Seconds(10)));
  // A lost connection: Unavailable or a wake-up (commits may have been
  // missed), and the watch works again.
  ASSERT_GE(TerminateConnections(), 1);
  for (int i = 0; i < 3; ++i) {
    auto after = watch->Wait(absl::Milliseconds(500));
    if (after.ok() && *after) break;
  }
  ASSERT_TRUE(Append(*theirs, 3, 3).ok());
  EXPECT_TRUE(watch->Wait(absl::Seconds(10)).value_or(false));
}

TEST(StateStoreUriTest, LandfallParametersAreTakenOutOfTheConninfo) {
  auto uri = internal::ParsePostgresUri(
      "postgresql://u@h:5432/db?sslmode=disable&schema=my%20pipeline&"
      "lock_timeout=2s&statement_timeout=1m&synchronous_commit=local");
  ASSERT_TRUE(uri.ok()) << uri.status();
  EXPECT_EQ(uri->first, "postgresql://u@h:5432/db?sslmode=disable");
  EXPECT_EQ(uri->second.schema, "my pipeline");
  EXPECT_EQ(uri->second.lock_timeout, absl::Seconds(2));
  EXPECT_EQ(uri->second.statement_timeout, absl::Minutes(1));
  EXPECT_EQ(uri->second.synchronous_commit,
            PostgresStoreOptions::SynchronousCommit::kLocal);
  auto pairs = internal::ParsePostgresUri(
      "postgresql:host=h dbname = 'my db' password='it\\'s' schema=s2");
  ASSERT_TRUE(pairs.ok()) << pairs.status();
  EXPECT_EQ(pairs->first, "host=h dbname = 'my db' password='it\\'s'");
  EXPECT_EQ(pairs->second.schema, "s2");
  EXPECT_EQ(internal::ParsePostgresUri("postgres://h/db?lock_timeout=x")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(internal::ParsePostgresUri("postgresql:host").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(StateStoreUriTest, ShownStoreUriHidesThePassword) {
  const std::string shown =
      ShownStoreUri("postgresql://etl:s3cret@db:5433/wh?schema=recruit");
  EXPECT_THAT(shown, Not(HasSubstr("s3cret")));
  EXPECT_THAT(shown, HasSubstr("host=db"));
  EXPECT_THAT(shown, HasSubstr("port=5433"));
  EXPECT_THAT(shown, HasSubstr("schema \"recruit\""));
  EXPECT_THAT(ShownStoreUri("postgresql:host=db password=s3cret"),
              Not(HasSubstr("s3cret")));
  // Every option libpq marks secret, not only the password.
  EXPECT_THAT(ShownStoreUri("postgresql:host=db sslpassword=k3y-secret"),
              Not(HasSubstr("k3y-secret")));
  EXPECT_EQ(ShownStoreUri("sqlite:/tmp/x.db"), "sqlite:/tmp/x.db");
}

TEST(StateStoreUriTest, MemoryAndSqliteStoresHaveNoWatch) {
  auto store = OpenStateStore("memory:");
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Watch(), nullptr);
}

}  // namespace
}  // namespace landfall::testing
