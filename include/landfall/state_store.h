// StateStore: where a durable scheduler keeps its journal.
//
// The history is the journal: a store holds the entries in sequence order,
// snapshots of the state at some sequence numbers, and the pipeline spec the
// state was built with. A scheduler opened on a store (Scheduler::Open) runs
// every operation as one write transaction: it catches up on the entries
// other schedulers appended, applies the operation, appends its own entries
// and commits before it returns. Several schedulers, in one process or in
// many, can therefore share one store and see one history.
//
// Implementations: memory (one process; for tests and hosts that need no
// durability), SQLite (one file, any number of processes on a machine) and
// PostgreSQL (one schema of a database, any number of hosts).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "landfall/export.h"
#include "landfall/records.pb.h"

namespace landfall {

// Tells of commits that other handles on a store made, so that a host can
// start the work they added at once instead of at its next idle poll.
class LANDFALL_EXPORT StoreWatch {
 public:
  virtual ~StoreWatch();
  // Waits up to `timeout` for another handle's commit. True when one came,
  // or may have come unseen (after a reconnect); false on timeout or
  // Interrupt. Unavailable when the server cannot be reached: the next call
  // reconnects.
  virtual absl::StatusOr<bool> Wait(absl::Duration timeout) = 0;
  // Makes a Wait in another thread return now. Thread-safe.
  virtual void Interrupt() = 0;
};

struct StoredSnapshot {
  int64_t seq = 0;    // The last entry the state includes.
  std::string bytes;  // The scheduler's own format.
};

class LANDFALL_EXPORT StateStore {
 public:
  virtual ~StateStore();

  enum class Access {
    kRead,   // Sees the committed state as of Begin; writes nothing.
    kWrite,  // Holds the store's write lock until Commit or Rollback.
  };
  // Starts a transaction; one at a time per StateStore object. Writers wait
  // for each other (up to the store's timeout, then Unavailable).
  virtual absl::Status Begin(Access access) = 0;
  // Makes the transaction's writes durable and visible, and ends it. On
  // error nothing of it is kept and the transaction is over.
  virtual absl::Status Commit() = 0;
  // Drops the transaction's writes, if one is open.
  virtual void Rollback() = 0;

  // Inside a transaction.
  // Appends to `out` up to `max` entries with seq > after_seq, in order.
  virtual absl::Status ReadEntries(int64_t after_seq, size_t max,
                                   std::vector<JournalEntry>* out) = 0;
  // The last entry's seq (0 when there is none).
  virtual absl::StatusOr<int64_t> LastSequence() = 0;
  // Appends entries numbered LastSequence() + 1, + 2, ... in order;
  // FailedPrecondition (appending nothing) for any other numbering.
  virtual absl::Status AppendEntries(
      absl::Span<const JournalEntry> entries) = 0;
  // The newest snapshot, if any.
  virtual absl::StatusOr<std::optional<StoredSnapshot>>
  ReadLatestSnapshot() = 0;
  // Keeps a snapshot; older ones but the one before are dropped.
  virtual absl::Status WriteSnapshot(const StoredSnapshot& snapshot) = 0;
  // The pipeline spec (a serialized PipelineSpec), once written.
  virtual absl::StatusOr<std::optional<std::string>> ReadSpec() = 0;
  virtual absl::Status WriteSpec(std::string_view spec) = 0;
  // Drops entries with seq < before_seq, but none after the newest snapshot
  // (opening needs them). Returns how many it dropped.
  virtual absl::StatusOr<int64_t> PruneHistory(int64_t before_seq) = 0;

  // Outside a transaction. A watch of other handles' commits, on a
  // connection of its own; null when the store cannot tell (memory and
  // SQLite: their users poll).
  virtual std::unique_ptr<StoreWatch> Watch();
};

// A store in this process's memory, shared by the schedulers given it.
LANDFALL_EXPORT std::shared_ptr<StateStore> NewMemoryStore();

struct SqliteStoreOptions {
  // FULL: a commit survives power loss. NORMAL: a commit survives the
  // process crashing, but the last commits before a power loss or an OS
  // crash may be lost (the file stays consistent); faster.
  enum class Synchronous { kFull, kNormal };
  Synchronous synchronous = Synchronous::kFull;
  // How long Begin(kWrite) waits for the writers before it, in this
  // process or others, which take the lock in the order they asked for it.
  absl::Duration lock_timeout = absl::Seconds(30);
  // Create the file if missing; else NotFound.
  bool create = true;
  // Only read: the file is opened SQLITE_OPEN_READONLY and never created,
  // migrated or written (`create` and `synchronous` do not apply). A file of
  // an older schema version is read as it is. Begin(kWrite) is
  // PermissionDenied. The file's bytes and mtime stay as they were; SQLite's
  // WAL mode has every reader share the -shm index of the -wal log, so a
  // read-only open creates those two side files when no other connection
  // has (and leaves them: a read-only connection cannot remove them; the
  // next writer uses and removes them).
  bool read_only = false;
};

// A store in the SQLite file at `path` (WAL mode). Writers queue for the
// write lock in `path`-queue, a side file created beside it with the state
// file's permissions (when it cannot be opened or locked, they go
// unordered, as SQLite alone lets them). Errors name the path:
// NotFound (missing, create off), FailedPrecondition (another application's
// SQLite file, one written by a newer landfall naming both schema versions,
// or, read-only, an empty file), DataLoss (not SQLite, or corrupt; from any
// call), PermissionDenied (a read-only file opened to write; Begin(kWrite)
// of a store opened read_only), Unavailable (locked past the timeout).
LANDFALL_EXPORT absl::StatusOr<std::shared_ptr<StateStore>> OpenSqliteStore(
    const std::string& path,
    const SqliteStoreOptions& options = SqliteStoreOptions());

struct PostgresStoreOptions {
  // The schema holding the store's tables, created when missing (with
  // `create`): pipelines on different schemas of one database share
  // nothing.
  std::string schema = "landfall";
  // How long connecting waits, per host (libpq rounds it up to whole
  // seconds, at least 2). A connect_timeout in the conninfo overrides it.
  absl::Duration connect_timeout = absl::Seconds(10);
  // How long Begin(kWrite) waits for another writer's transaction.
  absl::Duration lock_timeout = absl::Seconds(30);
  // How long one statement may run; also how long a transaction may sit
  // idle before the server ends it (a host that hung while holding the
  // write lock then releases it).
  absl::Duration statement_timeout = absl::Seconds(60);
  // When a commit returns. kServer: as the server's synchronous_commit says
  // (on by default: flushed to the server's disk, and to its synchronous
  // standbys when it has some). kLocal: flushed to the server's disk, not
  // waiting for standbys. kOff: before the flush; a server crash may lose
  // the last commits (never half of one).
  enum class SynchronousCommit { kServer, kLocal, kOff };
  SynchronousCommit synchronous_commit = SynchronousCommit::kServer;
  // Create the schema and its tables when missing; else NotFound.
  bool create = true;
  // Only read: never creates, migrates or writes anything (`create` does
  // not apply): a schema without a store is NotFound and is not created, a
  // store of an older schema version is read as it is, transactions are the
  // server's READ ONLY ones and Begin(kWrite) is PermissionDenied.
  bool read_only = false;
};

// A store in a PostgreSQL database. `conninfo` is libpq's: a URI
// (postgresql://user@host:port/dbname?sslmode=require) or key=value pairs
// (host=db1,db2 dbname=etl target_session_attrs=read-write); credentials
// come from libpq's own places (PGPASSWORD, ~/.pgpass, service files) or the
// conninfo. Errors show the conninfo without its password. A lost
// connection, a server restart or failover, a lock or statement timeout is
// Unavailable, with nothing of the transaction kept; the next Begin
// reconnects. NotFound (schema missing, create off), FailedPrecondition
// (a schema that is not a landfall store, or written by a newer landfall:
// the message names both schema versions), PermissionDenied (privileges
// missing; Begin(kWrite) of a store opened read_only).
LANDFALL_EXPORT absl::StatusOr<std::shared_ptr<StateStore>> OpenPostgresStore(
    const std::string& conninfo,
    const PostgresStoreOptions& options = PostgresStoreOptions());

// "memory:", "sqlite:PATH", or a PostgreSQL URI: postgresql://... or
// postgres://... (libpq's URI), or postgresql:KEY=VALUE ... (libpq's
// key=value form). The PostgreSQL forms may add landfall's own parameters,
// which libpq does not see: schema=NAME, lock_timeout=, statement_timeout=
// (absl durations: 30s, 2m) and synchronous_commit=server|local|off; as
// query parameters of a URI, or pairs of the key=value form.
// InvalidArgument for any other form.
LANDFALL_EXPORT absl::StatusOr<std::shared_ptr<StateStore>> OpenStateStore(
    std::string_view uri);

// How OpenStateStore opens a store, whatever its kind.
struct StoreOpenOptions {
  // Create a missing store (a file; a schema and its tables); otherwise a
  // missing one is NotFound. Default: create.
  bool create = true;
  // Only read an existing store: never create, migrate or write it (the
  // read_only of SqliteStoreOptions and PostgresStoreOptions). A store that
  // is missing is NotFound: a missing file, a schema without one (which is
  // not created either); "memory:", always new and empty, is
  // InvalidArgument. Default: read and write, creating a missing store.
  bool read_only = false;
};

// As above, opened as `options` say.
LANDFALL_EXPORT absl::StatusOr<std::shared_ptr<StateStore>> OpenStateStore(
    std::string_view uri, const StoreOpenOptions& options);

// A store URI as it may be shown (in messages and logs): a PostgreSQL one
// as its connection parameters without the password, and its schema.
LANDFALL_EXPORT std::string ShownStoreUri(std::string_view uri);

// True when `status` (FailedPrecondition) says that a store holds what a
// newer landfall wrote: a schema version, an entry kind or a snapshot format
// this one does not know, or a pipeline spec (the store's, or a deploy
// entry's) with a field or an enum value it does not know. Opening it needs
// that landfall or a later one; deploying with this one cannot help.
LANDFALL_EXPORT bool IsWrittenByNewerLandfall(const absl::Status& status);

}  // namespace landfall
