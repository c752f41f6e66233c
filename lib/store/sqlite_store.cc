// The SQLite store: one file in WAL mode, shared by any number of processes.
//
// BEGIN IMMEDIATE takes SQLite's write lock, which is the store's write lock:
// a writer catches up, appends and commits while no other process can.
// Writers ask for it in turn, through a queue in a side file
// (lib/store/write_queue.h): SQLite's own busy wait lets a writer that just
// committed take the lock again before writers that have waited long. The
// schema keeps the columns a query filters on in plain SQL types, so that its
// meaning carries over to other SQL databases, and the rest of each entry in
// a protobuf body (lib/store/journal_row.h).
#include <sqlite3.h>
#include <sys/stat.h>

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "landfall/history.h"
#include "landfall/state_store.h"
#include "lib/core/entry.h"
#include "lib/store/append_check.h"
#include "lib/store/journal_row.h"
#include "lib/store/write_queue.h"

namespace landfall {
namespace {

// PRAGMA application_id of a landfall state file: "LNDF".
constexpr int32_t kApplicationId = 0x4c4e4446;
// PRAGMA user_version: the schema this library writes. Opening migrates an
// older file step by step and refuses a newer one.
//   1: meta, history (indexed by table), snapshots.
//   2: history without the per-table index, which slowed every append
//      and served no read.
//   3: history bodies without the fields the row has columns for (seq,
//      at_ns, table_name, partition_key), a third smaller. Bodies of
//      version 2 still read the same.
constexpr int kSchemaVersion = 3;

constexpr const char* kCreateSchema = R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
CREATE TABLE history (
  seq INTEGER PRIMARY KEY,
  at_ns INTEGER NOT NULL,
  kind TEXT NOT NULL,
  table_name TEXT NOT NULL,
  partition_key TEXT NOT NULL,
  body BLOB NOT NULL
);
CREATE TABLE snapshots (
  seq INTEGER PRIMARY KEY,
  body BLOB NOT NULL
);
)sql";

// A prepared statement, reset after each use so that it can be reused.
class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  int Prepare(sqlite3* db, const char* sql) {
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_,
                              nullptr);
  }
  sqlite3_stmt* get() { return stmt_; }
  void BindInt(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindText(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_STATIC);
  }
  void BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_STATIC);
  }
  int Step() { return sqlite3_step(stmt_); }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  // A BLOB or TEXT column.
  std::string_view Blob(int col) {
    const void* data = sqlite3_column_blob(stmt_, col);
    const int size = sqlite3_column_bytes(stmt_, col);
    return data == nullptr
               ? std::string_view()
               : std::string_view(static_cast<const char*>(data), size);
  }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteStore : public StateStore {
 public:
  SqliteStore(std::string path, sqlite3* db, bool read_only,
              std::optional<internal::WriteQueue> queue)
      : path_(std::move(path)),
        read_only_(read_only),
        db_(db),
        queue_(std::move(queue)) {}
  ~SqliteStore() override {
    Rollback();
    // Statements first: a connection with live statements does not close.
    append_.reset();
    append_many_.reset();
    version_.reset();
    read_.reset();
    last_.reset();
    sqlite3_close_v2(db_);
  }

  // Sets the connection up and brings the schema to kSchemaVersion; read
  // only, checks that it can read the schema.
  absl::Status Init(const SqliteStoreOptions& options) {
    lock_timeout_ = options.lock_timeout;
    SetBusyTimeout(lock_timeout_);
    sqlite3_extended_result_codes(db_, 1);
    if (!read_only_) {
      if (absl::Status s = SetUpWriting(options); !s.ok()) return s;
    }
    if (absl::Status s = Begin(read_only_ ? Access::kRead : Access::kWrite);
        !s.ok()) {
      return s;
    }
    absl::Status s = Migrate();
    if (s.ok()) s = Commit();
    if (!s.ok()) {
      Rollback();
      return s;
    }
    return PrepareStatements();
  }

  // WAL mode and the synchronous setting: both write the file, so a
  // read-only store sets neither (it reads the file in the mode it has).
  absl::Status SetUpWriting(const SqliteStoreOptions& options) {
    if (sqlite3_db_readonly(db_, "main") == 1) {
      return absl::PermissionDeniedError(
          absl::StrCat(path_, ": the state file is read-only"));
    }
    if (absl::Status s = Exec("PRAGMA journal_mode=WAL", "set WAL mode");
        !s.ok()) {
      return s;
    }
    return Exec(options.synchronous == SqliteStoreOptions::Synchronous::kFull
                    ? "PRAGMA synchronous=FULL"
                    : "PRAGMA synchronous=NORMAL",
                "set synchronous");
  }

  // Schedulers of this process sharing the object take turns on mu_; other
  // processes' writers wait in the queue, then on SQLite's lock, within one
  // lock timeout in all.
  absl::Status Begin(Access access) override {
    if (access == Access::kWrite && read_only_) {
      return absl::PermissionDeniedError(absl::StrCat(
          path_, ": the state file was opened read-only: cannot write"));
    }
    mu_.Lock();
    absl::Status s;
    if (access == Access::kWrite) {
      const absl::Time deadline = absl::Now() + lock_timeout_;
      if (queue_) s = queue_->Join(deadline);
      if (absl::IsDeadlineExceeded(s)) {
        s = Error(SQLITE_BUSY, "begin a transaction",
                  sqlite3_errstr(SQLITE_BUSY));
      }
      // SQLite's lock is normally free by now; it still waits for writers
      // that are not in the queue (one that gave up its place, or a library
      // without it) until the deadline.
      if (s.ok()) {
        SetBusyTimeout(deadline - absl::Now());
        s = Exec("BEGIN IMMEDIATE", "begin a transaction");
        SetBusyTimeout(lock_timeout_);  // For what the transaction does.
      }
    } else {
      s = Exec("BEGIN", "begin a transaction");
    }
    if (!s.ok()) {
      if (queue_) queue_->Leave();
      mu_.Unlock();
      return s;
    }
    open_ = true;
    if (s = CheckSchemaVersion(); !s.ok()) Rollback();
    return s;
  }
  absl::Status Commit() override {
    absl::Status s = Exec("COMMIT", "commit");
    if (!s.ok()) {
      Rollback();
      return s;
    }
    open_ = false;
    if (queue_) queue_->Leave();
    mu_.Unlock();
    return s;
  }
  void Rollback() override {
    if (!open_) return;
    // A failed statement may have ended the transaction already.
    if (sqlite3_get_autocommit(db_) == 0) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    open_ = false;
    if (queue_) queue_->Leave();
    mu_.Unlock();
  }

  absl::Status ReadEntries(int64_t after_seq, size_t max,
                           std::vector<JournalEntry>* out) override {
    read_->BindInt(1, after_seq);
    read_->BindInt(2, static_cast<int64_t>(std::min<size_t>(max, INT64_MAX)));
    int rc;
    absl::Status status;
    while ((rc = read_->Step()) == SQLITE_ROW) {
      JournalEntry entry;
      if (!internal::ParseJournalRow(read_->Blob(0), read_->Int(1),
                                     read_->Int(2), read_->Blob(3),
                                     read_->Blob(4), &entry)) {
        status = absl::DataLossError(absl::StrCat(
            path_, ": history entry ", read_->Int(1), " cannot be read"));
        break;
      }
      out->push_back(std::move(entry));
    }
    if (status.ok() && rc != SQLITE_DONE) status = Error(rc, "read history");
    read_->Reset();
    return status;
  }

  absl::StatusOr<int64_t> LastSequence() override {
    const int rc = last_->Step();
    const int64_t last = rc == SQLITE_ROW ? last_->Int(0) : 0;
    last_->Reset();
    if (rc != SQLITE_ROW) return Error(rc, "read the last sequence number");
    return last;
  }

  absl::Status AppendEntries(absl::Span<const JournalEntry> entries) override {
    absl::StatusOr<int64_t> last = LastSequence();
    if (!last.ok()) return last.status();
    if (absl::Status s = internal::CheckAppend(*last, entries); !s.ok()) {
      return s;
    }
    // kRowsPerInsert rows at a time while there are that many: one
    // statement per row costs about a third more per row.
    while (!entries.empty()) {
      const bool many = entries.size() >= kRowsPerInsert;
      Statement& insert = many ? *append_many_ : *append_;
      const size_t rows = many ? kRowsPerInsert : 1;
      for (size_t i = 0; i < rows; ++i) {
        const JournalEntry& e = entries[i];
        std::string& body = bodies_[i];
        internal::SerializeJournalBody(e, &body);
        // "unknown" for a kind this library does not know.
        const char* kind = EntryKindName(static_cast<EntryKind>(e.kind()));
        const int column = static_cast<int>(i) * 6;
        insert.BindInt(column + 1, e.seq());
        insert.BindInt(column + 2, e.at_ns());
        insert.BindText(column + 3, kind);
        insert.BindText(column + 4, e.table());
        insert.BindText(column + 5, e.partition());
        insert.BindBlob(column + 6, body);
      }
      const int rc = insert.Step();
      insert.Reset();
      if (rc != SQLITE_DONE) return Error(rc, "append history");
      entries.remove_prefix(rows);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<StoredSnapshot>> ReadLatestSnapshot() override {
    Statement q;
    if (int rc = q.Prepare(
            db_, "SELECT seq, body FROM snapshots ORDER BY seq DESC LIMIT 1");
        rc != SQLITE_OK) {
      return Error(rc, "read a snapshot");
    }
    const int rc = q.Step();
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) return Error(rc, "read a snapshot");
    return StoredSnapshot{q.Int(0), std::string(q.Blob(1))};
  }

  absl::Status WriteSnapshot(const StoredSnapshot& snapshot) override {
    Statement insert;
    int rc = insert.Prepare(
        db_, "INSERT OR REPLACE INTO snapshots (seq, body) VALUES (?, ?)");
    if (rc == SQLITE_OK) {
      insert.BindInt(1, snapshot.seq);
      insert.BindBlob(2, snapshot.bytes);
      rc = insert.Step();
    }
    if (rc != SQLITE_DONE && rc != SQLITE_OK) {
      return Error(rc, "write a snapshot");
    }
    return Exec(
        "DELETE FROM snapshots WHERE seq < (SELECT seq FROM snapshots "
        "ORDER BY seq DESC LIMIT 1 OFFSET 1)",
        "drop old snapshots");
  }

  absl::StatusOr<std::optional<std::string>> ReadSpec() override {
    Statement q;
    int rc = q.Prepare(db_, "SELECT value FROM meta WHERE key = 'spec'");
    if (rc == SQLITE_OK) rc = q.Step();
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) return Error(rc, "read the spec");
    return std::string(q.Blob(0));
  }

  absl::Status WriteSpec(std::string_view spec) override {
    Statement q;
    int rc = q.Prepare(
        db_, "INSERT OR REPLACE INTO meta (key, value) VALUES ('spec', ?)");
    if (rc == SQLITE_OK) {
      q.BindBlob(1, spec);
      rc = q.Step();
    }
    if (rc != SQLITE_DONE) return Error(rc, "write the spec");
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> PruneHistory(int64_t before_seq) override {
    Statement q;
    int rc = q.Prepare(db_,
                       "DELETE FROM history WHERE seq < ? AND seq <= "
                       "coalesce((SELECT max(seq) FROM snapshots), 0)");
    if (rc == SQLITE_OK) {
      q.BindInt(1, before_seq);
      rc = q.Step();
    }
    if (rc != SQLITE_DONE) return Error(rc, "prune history");
    return sqlite3_changes64(db_);
  }

 private:
  void SetBusyTimeout(absl::Duration timeout) {
    sqlite3_busy_timeout(db_, static_cast<int>(std::max<int64_t>(
                                  0, absl::ToInt64Milliseconds(timeout))));
  }

  absl::Status Exec(const char* sql, absl::string_view what) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return Error(rc, what);
    return absl::OkStatus();
  }

  // A status naming the file, what was being done and SQLite's reason.
  absl::Status Error(int rc, absl::string_view what) const {
    return Error(rc, what, sqlite3_errmsg(db_));
  }
  absl::Status Error(int rc, absl::string_view what,
                     absl::string_view reason) const {
    const std::string message = absl::StrCat(
        path_, ": cannot ", what, ": ", reason, " (", sqlite3_errstr(rc), ")");
    switch (rc & 0xff) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return absl::UnavailableError(
            absl::StrCat(message, ": another process holds the state file"));
      case SQLITE_READONLY:
      case SQLITE_PERM:
        return absl::PermissionDeniedError(message);
      case SQLITE_CORRUPT:
      case SQLITE_NOTADB:
        return absl::DataLossError(
            absl::StrCat(message, ": not a landfall state file, or corrupt"));
      case SQLITE_FULL:
        return absl::ResourceExhaustedError(message);
      case SQLITE_CANTOPEN:
        return absl::NotFoundError(message);
      default:
        return absl::InternalError(message);
    }
  }

  // Inside a write transaction; read only, inside a read transaction,
  // checking the schema without creating or migrating it.
  absl::Status Migrate() {
    Statement q;
    int rc = q.Prepare(db_, "PRAGMA user_version");
    if (rc == SQLITE_OK) rc = q.Step();
    if (rc != SQLITE_ROW) return Error(rc, "read the schema version");
    const int64_t version = q.Int(0);
    Statement app;
    rc = app.Prepare(db_, "PRAGMA application_id");
    if (rc == SQLITE_OK) rc = app.Step();
    if (rc != SQLITE_ROW) return Error(rc, "read the application id");
    const int64_t application = app.Int(0);
    // Done reading: a statement left stepping would lock out schema changes.
    q.Reset();
    app.Reset();
    if (version > kSchemaVersion) {
      return internal::MarkedNewer(absl::FailedPreconditionError(absl::StrCat(
          path_, ": written by a newer landfall (schema version ", version,
          "; this one reads up to ", kSchemaVersion, ")")));
    }
    if (version == 0) {
      Statement tables;
      rc = tables.Prepare(db_, "SELECT count(*) FROM sqlite_master");
      if (rc == SQLITE_OK) rc = tables.Step();
      if (rc != SQLITE_ROW) return Error(rc, "read the schema");
      if (tables.Int(0) != 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            path_, ": an SQLite file, but not a landfall state file"));
      }
      if (read_only_) {
        return absl::FailedPreconditionError(
            absl::StrCat(path_, ": an empty file, not a landfall state file"));
      }
      if (absl::Status s = Exec(kCreateSchema, "create the schema"); !s.ok()) {
        return s;
      }
      return Exec(absl::StrCat("PRAGMA application_id=", kApplicationId,
                               "; PRAGMA user_version=", kSchemaVersion)
                      .c_str(),
                  "write the schema version");
    }
    if (application != kApplicationId) {
      return absl::FailedPreconditionError(absl::StrCat(
          path_, ": an SQLite file, but not a landfall state file"));
    }
    // An older schema reads as the current one (see kSchemaVersion): read
    // only, it is left as it is.
    if (read_only_) return absl::OkStatus();
    // Migrations from older schema versions, one step each.
    if (version < 2) {
      absl::Status s =
          Exec("DROP INDEX IF EXISTS history_by_table; PRAGMA user_version=2",
               "migrate the schema to version 2");
      if (!s.ok()) return s;
    }
    if (version < 3) {
      absl::Status s =
          Exec("PRAGMA user_version=3", "migrate the schema to version 3");
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // Inside a transaction: a newer library may have migrated the file since
  // this one opened it (several processes share it); then this one must
  // stop writing, not misread the new schema.
  absl::Status CheckSchemaVersion() {
    if (version_ == nullptr) return absl::OkStatus();  // Still opening.
    const int rc = version_->Step();
    const int64_t version = rc == SQLITE_ROW ? version_->Int(0) : 0;
    version_->Reset();
    if (rc != SQLITE_ROW) return Error(rc, "read the schema version");
    if (version > kSchemaVersion) {
      return internal::MarkedNewer(absl::FailedPreconditionError(absl::StrCat(
          path_, ": migrated to schema version ", version,
          " by a newer landfall while open here (this one reads up to ",
          kSchemaVersion, "): restart with the newer library")));
    }
    return absl::OkStatus();
  }

  absl::Status PrepareStatements() {
    append_ = std::make_unique<Statement>();
    append_many_ = std::make_unique<Statement>();
    version_ = std::make_unique<Statement>();
    read_ = std::make_unique<Statement>();
    last_ = std::make_unique<Statement>();
    const auto insert = [](size_t rows) {
      std::string sql =
          "INSERT INTO history (seq, at_ns, kind, table_name, partition_key, "
          "body) VALUES (?, ?, ?, ?, ?, ?)";
      for (size_t i = 1; i < rows; ++i) sql += ", (?, ?, ?, ?, ?, ?)";
      return sql;
    };
    int rc = append_->Prepare(db_, insert(1).c_str());
    if (rc == SQLITE_OK) {
      rc = append_many_->Prepare(db_, insert(kRowsPerInsert).c_str());
    }
    if (rc == SQLITE_OK) rc = version_->Prepare(db_, "PRAGMA user_version");
    if (rc == SQLITE_OK) {
      rc = read_->Prepare(
          db_,
          "SELECT body, seq, at_ns, table_name, partition_key FROM history "
          "WHERE seq > ? ORDER BY seq LIMIT ?");
    }
    if (rc == SQLITE_OK) {
      rc = last_->Prepare(
          db_,
          "SELECT max(coalesce((SELECT max(seq) FROM history), 0), "
          "coalesce((SELECT max(seq) FROM snapshots), 0))");
    }
    if (rc != SQLITE_OK) return Error(rc, "prepare statements");
    return absl::OkStatus();
  }

  const std::string path_;
  const bool read_only_;
  absl::Mutex mu_;  // Held while a transaction is open.
  bool open_ = false;
  sqlite3* db_;
  // In its turn while a write is open. None when its file cannot be
  // opened (a directory this process may not write, say): writers then go
  // unordered, as SQLite alone lets them.
  std::optional<internal::WriteQueue> queue_;
  absl::Duration lock_timeout_;
  std::unique_ptr<Statement> append_;
  std::unique_ptr<Statement> read_;
  std::unique_ptr<Statement> last_;
  static constexpr size_t kRowsPerInsert = 16;
  std::unique_ptr<Statement> append_many_;  // kRowsPerInsert rows.
  std::unique_ptr<Statement> version_;
  std::string bodies_[kRowsPerInsert];  // Reused between appends.
};

}  // namespace

absl::StatusOr<std::shared_ptr<StateStore>> OpenSqliteStore(
    const std::string& path, const SqliteStoreOptions& options) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 && (!options.create || options.read_only)) {
    return absl::NotFoundError(absl::StrCat(
        path, ": no such state file (create it with landfall init)"));
  }
  sqlite3* db = nullptr;
  const int flags =
      SQLITE_OPEN_NOMUTEX |
      (options.read_only
           ? SQLITE_OPEN_READONLY
           : SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0));
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string reason =
        db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open the state file: ", reason));
  }
  // A reader never writes, so it neither queues nor creates the queue file.
  std::optional<internal::WriteQueue> queue;
  if (!options.read_only) {
    absl::StatusOr<internal::WriteQueue> opened =
        internal::WriteQueue::Open(path);
    if (opened.ok()) queue.emplace(*std::move(opened));
  }
  auto store = std::make_shared<SqliteStore>(path, db, options.read_only,
                                             std::move(queue));
  if (absl::Status s = store->Init(options); !s.ok()) return s;
  return store;
}

}  // namespace landfall
