// The PostgreSQL store: the journal in one schema of a database, shared by
// any number of hosts.
//
// The write lock is a transaction-scoped advisory lock
// (pg_advisory_xact_lock), keyed by the schema, taken as the first
// statement of a READ COMMITTED transaction. Chosen over a locked head row
// because it writes nothing (no row version per operation for VACUUM to
// clean), needs no row to exist before the schema does (so creating the
// schema is serialized by it too), is released by the server whatever ends
// the transaction (commit, rollback, a lost connection), and obeys
// lock_timeout. A lock holder's commit is visible before its locks are
// released, and each READ COMMITTED statement takes a fresh snapshot, so a
// writer that got the lock reads every earlier writer's entries. Readers
// take no lock: a REPEATABLE READ READ ONLY transaction sees one commit's
// state throughout.
//
// After a commit that appended entries, pg_notify (inside the transaction,
// so sent only when it commits) tells watchers on other connections.
#include "lib/store/postgres_store.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "landfall/history.h"
#include "landfall/state_store.h"
#include "lib/store/append_check.h"
#include "lib/store/journal_row.h"
#include "lib/store/postgres_connection.h"
#include "lib/store/postgres_schema.h"

namespace landfall {
namespace internal {
namespace {

// The advisory lock's first key, "LNDF": landfall's locks stay apart from
// other applications' on the same database.
constexpr int32_t kLockClass = 0x4c4e4446;

// The second key: the schema's name hashed (FNV-1a). Two schemas with one
// hash would only take turns.
int32_t LockKey(const std::string& schema) {
  uint32_t h = 2166136261u;
  for (unsigned char c : schema) h = (h ^ c) * 16777619u;
  return static_cast<int32_t>(h);
}

std::string Millis(absl::Duration d) {
  return absl::StrCat(absl::ToInt64Milliseconds(d));
}

const char* SynchronousCommitName(
    PostgresStoreOptions::SynchronousCommit mode) {
  switch (mode) {
    case PostgresStoreOptions::SynchronousCommit::kLocal:
      return "local";
    case PostgresStoreOptions::SynchronousCommit::kOff:
      return "off";
    case PostgresStoreOptions::SynchronousCommit::kServer:
      break;
  }
  return nullptr;
}

// Identifies the commits of one store object in the notifications.
std::string NewToken() {
  static std::atomic<int64_t> counter{0};
  return absl::StrCat(getpid(), ".", ++counter);
}

class PostgresStore : public StateStore {
 public:
  PostgresStore(std::string conninfo, PostgresStoreOptions options)
      : target_{std::move(conninfo), std::move(options), ""},
        token_(NewToken()) {
    target_.label = absl::StrCat(RedactConninfo(target_.conninfo), " schema \"",
                                 target_.options.schema, "\"");
    const std::string s = QuoteIdentifier(target_.options.schema);
    lock_sql_ = absl::StrCat("SELECT pg_advisory_xact_lock(", kLockClass, ", ",
                             LockKey(target_.options.schema), ")");
    version_sql_ = SchemaVersionQuery(target_.options.schema);
    notify_sql_ =
        absl::StrCat("SELECT pg_notify(",
                     QuoteLiteral(NotifyChannel(target_.options.schema)), ", ",
                     QuoteLiteral(token_), ")");
    read_sql_ =
        absl::StrCat("SELECT body, seq, at_ns, table_name, partition_key FROM ",
                     s, ".history WHERE seq > $1 ORDER BY seq LIMIT $2");
    last_sql_ =
        absl::StrCat("SELECT greatest((SELECT max(seq) FROM ", s,
                     ".history), (SELECT max(seq) FROM ", s, ".snapshots), 0)");
    // One statement for any number of rows: each column is an array.
    append_sql_ = absl::StrCat(
        "INSERT INTO ", s,
        ".history (seq, at_ns, kind, table_name, partition_key, body) "
        "SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], "
        "$4::bytea[], $5::bytea[], $6::bytea[])");
    snapshot_read_sql_ = absl::StrCat("SELECT seq, body FROM ", s,
                                      ".snapshots ORDER BY seq DESC LIMIT 1");
    snapshot_write_sql_ =
        absl::StrCat("INSERT INTO ", s,
                     ".snapshots (seq, body) VALUES ($1, $2) ON CONFLICT "
                     "(seq) DO UPDATE SET body = excluded.body");
    snapshot_drop_sql_ = absl::StrCat(
        "DELETE FROM ", s, ".snapshots WHERE seq < (SELECT seq FROM ", s,
        ".snapshots ORDER BY seq DESC LIMIT 1 OFFSET 1)");
    spec_read_sql_ =
        absl::StrCat("SELECT value FROM ", s, ".meta WHERE key = 'spec'");
    spec_write_sql_ = absl::StrCat(
        "INSERT INTO ", s,
        ".meta (key, value) VALUES ('spec', $1) ON CONFLICT (key) DO "
        "UPDATE SET value = excluded.value");
    prune_sql_ = absl::StrCat("DELETE FROM ", s, ".history WHERE seq < $1 ",
                              "AND seq <= coalesce((SELECT max(seq) FROM ", s,
                              ".snapshots), 0)");
  }
  ~PostgresStore() override { Rollback(); }

  // Connects and brings the schema to the current version.
  absl::Status Init() {
    if (target_.options.schema.empty() || target_.options.schema.size() > 63 ||
        target_.options.schema.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          target_.label, ": a schema name is 1 to 63 bytes, without NUL"));
    }
    const PostgresStoreOptions& o = target_.options;
    // Read only: a READ ONLY transaction, in which nothing can be created.
    if (absl::Status s = Begin(o.read_only ? Access::kRead : Access::kWrite);
        !s.ok()) {
      return s;
    }
    absl::Status s =
        MigratePostgresSchema(*conn_, o.schema,
                              o.read_only ? SchemaChange::kNone
                              : o.create  ? SchemaChange::kCreateOrMigrate
                                          : SchemaChange::kMigrate);
    if (s.ok()) s = Commit();
    if (!s.ok()) {
      Rollback();
      return s;
    }
    initialized_ = true;
    return s;
  }

  absl::Status Begin(Access access) override {
    if (access == Access::kWrite && target_.options.read_only) {
      return absl::PermissionDeniedError(absl::StrCat(
          target_.label, ": the store was opened read-only: cannot write"));
    }
    mu_.Lock();
    std::string sql = access == Access::kWrite
                          ? absl::StrCat("BEGIN; ", lock_sql_)
                          : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    if (initialized_) absl::StrAppend(&sql, "; ", version_sql_);
    absl::Status status;
    // A connection that died while idle (a server restart, a failover) is
    // found out here, before anything was done: one more try, on a new one.
    for (int tries = 0; tries < 2; ++tries) {
      const bool fresh = conn_ == nullptr || conn_->broken();
      status = Connect();
      if (!status.ok()) break;
      open_ = true;
      absl::StatusOr<PgResult> r = conn_->Exec(sql, "begin a transaction");
      status = r.status();
      if (status.ok() && initialized_) {
        status = r->rows() == 1
                     ? CheckSchemaVersion(*conn_, std::string(r->bytes(0, 0)))
                     : absl::DataLossError(absl::StrCat(
                           target_.label, ": the schema version is missing"));
      }
      if (status.ok()) {
        wrote_ = false;
        return status;
      }
      const bool retry = !fresh && conn_->broken();
      EndTransaction();
      if (!retry) break;
    }
    mu_.Unlock();
    return status;
  }

  absl::Status Commit() override {
    if (!open_)
      return absl::FailedPreconditionError("no transaction to commit");
    // A write that appended tells the watchers, as part of the commit.
    const std::string sql =
        wrote_ ? absl::StrCat(notify_sql_, "; COMMIT") : "COMMIT";
    absl::StatusOr<PgResult> r = conn_->Exec(sql, "commit");
    absl::Status status = r.status();
    if (status.ok() && std::string_view(PQcmdStatus(r->get())) != "COMMIT") {
      // A transaction that failed earlier ends in a rollback.
      status = absl::AbortedError(absl::StrCat(
          target_.label, ": the transaction failed and was rolled back"));
    } else if (!status.ok() && conn_->broken()) {
      status = absl::UnavailableError(absl::StrCat(
          status.message(),
          ": the connection was lost during the commit, which may or may "
          "not have been applied (retrying the operation is safe: stale "
          "attempts are refused, repeated event ids are duplicates)"));
    }
    EndTransaction();
    mu_.Unlock();
    return status;
  }

  void Rollback() override {
    if (!open_) return;
    EndTransaction();
    mu_.Unlock();
  }

  absl::Status ReadEntries(int64_t after_seq, size_t max,
                           std::vector<JournalEntry>* out) override {
    PgParams params;
    params.Int8(after_seq);
    params.Int8(static_cast<int64_t>(std::min<size_t>(max, INT64_MAX)));
    absl::StatusOr<PgResult> r =
        conn_->Run("landfall_read", read_sql_, params, "read history");
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) {
      JournalEntry entry;
      if (!ParseJournalRow(r->bytes(i, 0), r->integer(i, 1), r->integer(i, 2),
                           r->bytes(i, 3), r->bytes(i, 4), &entry)) {
        return absl::DataLossError(
            absl::StrCat(target_.label, ": history entry ", r->integer(i, 1),
                         " cannot be read"));
      }
      out->push_back(std::move(entry));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> LastSequence() override {
    absl::StatusOr<PgResult> r =
        conn_->Run("landfall_last", last_sql_, PgParams(),
                   "read the last sequence number");
    if (!r.ok()) return r.status();
    return r->integer(0, 0);
  }

  absl::Status AppendEntries(absl::Span<const JournalEntry> entries) override {
    absl::StatusOr<int64_t> last = LastSequence();
    if (!last.ok()) return last.status();
    if (absl::Status s = CheckAppend(*last, entries); !s.ok()) return s;
    if (entries.empty()) return absl::OkStatus();
    for (PgArray* a :
         {&seqs_, &times_, &kinds_, &tables_, &partitions_, &bodies_}) {
      a->Clear();
    }
    for (const JournalEntry& e : entries) {
      SerializeJournalBody(e, &body_);
      seqs_.Int8(e.seq());
      times_.Int8(e.at_ns());
      // "unknown" for a kind this library does not know.
      kinds_.Bytes(EntryKindName(static_cast<EntryKind>(e.kind())));
      tables_.Bytes(e.table());
      partitions_.Bytes(e.partition());
      bodies_.Bytes(body_);
    }
    PgParams params;
    for (PgArray* a :
         {&seqs_, &times_, &kinds_, &tables_, &partitions_, &bodies_}) {
      params.Bytes(a->Finish());
    }
    absl::StatusOr<PgResult> r =
        conn_->Run("landfall_append", append_sql_, params, "append history");
    if (!r.ok()) return r.status();
    wrote_ = true;
    // Gives back what one large append made it hold.
    for (PgArray* a : {&tables_, &partitions_, &bodies_}) a->Shrink(1 << 20);
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<StoredSnapshot>> ReadLatestSnapshot() override {
    absl::StatusOr<PgResult> r =
        conn_->Run("landfall_snapshot_read", snapshot_read_sql_, PgParams(),
                   "read a snapshot");
    if (!r.ok()) return r.status();
    if (r->rows() == 0) return std::nullopt;
    return StoredSnapshot{r->integer(0, 0), std::string(r->bytes(0, 1))};
  }

  absl::Status WriteSnapshot(const StoredSnapshot& snapshot) override {
    PgParams params;
    params.Int8(snapshot.seq);
    params.Bytes(snapshot.bytes);
    absl::StatusOr<PgResult> r =
        conn_->Run("landfall_snapshot_write", snapshot_write_sql_, params,
                   "write a snapshot");
    if (r.ok()) {
      r = conn_->Run("landfall_snapshot_drop", snapshot_drop_sql_, PgParams(),
                     "drop old snapshots");
    }
    return r.status();
  }

  absl::StatusOr<std::optional<std::string>> ReadSpec() override {
    absl::StatusOr<PgResult> r = conn_->Run(
        "landfall_spec_read", spec_read_sql_, PgParams(), "read the spec");
    if (!r.ok()) return r.status();
    if (r->rows() == 0) return std::nullopt;
    return std::string(r->bytes(0, 0));
  }

  absl::Status WriteSpec(std::string_view spec) override {
    PgParams params;
    params.Bytes(spec);
    return conn_
        ->Run("landfall_spec_write", spec_write_sql_, params, "write the spec")
        .status();
  }

  absl::StatusOr<int64_t> PruneHistory(int64_t before_seq) override {
    PgParams params;
    params.Int8(before_seq);
    absl::StatusOr<PgResult> r =
        conn_->Run("landfall_prune", prune_sql_, params, "prune history");
    if (!r.ok()) return r.status();
    return std::strtoll(PQcmdTuples(r->get()), nullptr, 10);
  }

  std::unique_ptr<StoreWatch> Watch() override {
    return NewPostgresWatch(target_, token_);
  }

 private:
  // A connection set up for the store, unless one is open.
  absl::Status Connect() {
    if (conn_ != nullptr && !conn_->broken()) return absl::OkStatus();
    conn_.reset();
    absl::StatusOr<std::unique_ptr<PgConnection>> conn =
        ConnectPostgres(target_);
    if (!conn.ok()) return conn.status();
    conn_ = *std::move(conn);
    return absl::OkStatus();
  }

  // Ends the open transaction without keeping anything; a connection that
  // failed is dropped (the server rolls back what it had).
  void EndTransaction() {
    if (conn_ != nullptr && !conn_->broken() &&
        PQtransactionStatus(conn_->get()) != PQTRANS_IDLE) {
      PgResult r(PQexec(conn_->get(), "ROLLBACK"));
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) conn_.reset();
    }
    if (conn_ != nullptr && conn_->broken()) conn_.reset();
    open_ = false;
  }

  PostgresTarget target_;
  const std::string token_;
  absl::Mutex mu_;  // Held while a transaction is open.
  bool open_ = false;
  bool wrote_ = false;  // This transaction appended entries.
  bool initialized_ = false;
  std::unique_ptr<PgConnection> conn_;
  std::string lock_sql_, version_sql_, notify_sql_, read_sql_, last_sql_,
      append_sql_, snapshot_read_sql_, snapshot_write_sql_, snapshot_drop_sql_,
      spec_read_sql_, spec_write_sql_, prune_sql_;
  // Reused between appends.
  std::string body_;
  PgArray seqs_{PgArray::Type::kInt8}, times_{PgArray::Type::kInt8},
      kinds_{PgArray::Type::kText}, tables_{PgArray::Type::kBytea},
      partitions_{PgArray::Type::kBytea}, bodies_{PgArray::Type::kBytea};
};

}  // namespace

std::string NotifyChannel(const std::string& schema) {
  // A channel name is at most 63 bytes: a long schema name goes by its
  // hash.
  std::string channel = absl::StrCat("landfall:", schema);
  if (channel.size() > 63) {
    channel =
        absl::StrCat("landfall:#", static_cast<uint32_t>(LockKey(schema)));
  }
  return channel;
}

absl::StatusOr<std::unique_ptr<PgConnection>> ConnectPostgres(
    const PostgresTarget& target) {
  const PostgresStoreOptions& o = target.options;
  // libpq's connect_timeout is in whole seconds.
  const int64_t connect_s = std::max<int64_t>(
      1, absl::ToInt64Seconds(absl::Ceil(o.connect_timeout, absl::Seconds(1))));
  absl::StatusOr<std::unique_ptr<PgConnection>> conn =
      PgConnection::Connect(target.conninfo, target.label,
                            {{"connect_timeout", absl::StrCat(connect_s)},
                             {"fallback_application_name", "landfall"}});
  if (!conn.ok()) return conn.status();
  std::string settings =
      absl::StrCat("SET statement_timeout = ", Millis(o.statement_timeout),
                   "; SET lock_timeout = ", Millis(o.lock_timeout),
                   "; SET idle_in_transaction_session_timeout = ",
                   Millis(o.statement_timeout));
  if (const char* mode = SynchronousCommitName(o.synchronous_commit)) {
    absl::StrAppend(&settings, "; SET synchronous_commit = ", mode);
  }
  if (absl::Status s = (*conn)->Exec(settings, "set up the session").status();
      !s.ok()) {
    return s;
  }
  return conn;
}

}  // namespace internal

absl::StatusOr<std::shared_ptr<StateStore>> OpenPostgresStore(
    const std::string& conninfo, const PostgresStoreOptions& options) {
  auto store = std::make_shared<internal::PostgresStore>(conninfo, options);
  if (absl::Status s = store->Init(); !s.ok()) return s;
  return store;
}

}  // namespace landfall
