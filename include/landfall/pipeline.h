// Pipeline: a validated, immutable pipeline spec with its table graph.
//
// A Pipeline is loaded from a spec (text format, JSON, or a PipelineSpec
// message), validated as a whole, and then never changes. It is cheap to share
// between threads through std::shared_ptr<const Pipeline>; every const method
// is thread-safe.
//
// Tables get dense integer ids in spec order (the first table listed is id 0),
// so the spec order doubles as the scheduler's last tie-breaker. Edges run from
// upstream to downstream.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "landfall/export.h"
#include "landfall/optional_box.h"
#include "landfall/partition_window.h"
#include "landfall/pipeline.pb.h"

namespace landfall {
namespace internal {
struct PipelineRep;
}  // namespace internal

using TableId = int32_t;
using PoolId = int32_t;
using ClassId = int32_t;  // 0 is the highest priority class.

// Pool slot count of the implicit "default" pool: no limit.
inline constexpr int kUnlimitedSlots = std::numeric_limits<int>::max();

enum class Trigger { kAll, kAny };
enum class PriorityGate { kPool, kPipeline, kOff };

// A table's resolved retry policy (spec values merged over the defaults).
// Its fields are ordered by size, largest first, so that it holds no
// padding; brace-initialize it by field name, not by position.
struct RetryPolicy {
  absl::Duration initial_backoff = absl::Seconds(30);
  absl::Duration max_backoff = absl::Minutes(15);
  double multiplier = 2.0;
  int max_attempts = 3;
  bool jitter = false;
};

// Where something was written in a spec. line and column count from 1; 0
// means unknown (a spec built in memory, or JSON where the position could not
// be recovered).
struct SpecLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

// One problem found while loading a spec.
struct SpecProblem {
  SpecLocation where;
  std::string message;

  // "file:line:column: message", the form compilers and editors use.
  LANDFALL_EXPORT std::string ToString() const;
};

// One bound parameter of a SQL statement. Every value is bound as text;
// the SQL casts it where it needs another type ({partition}::date).
struct SqlParameter {
  enum class Kind {
    kPartition,  // {partition}: the task's partition key ("" unpartitioned).
    kTable,      // {table}: the table's name.
    kAttempt,    // {attempt}: the attempt number, in decimal.
    kInput,      // {input:NAME}: the version of upstream NAME the attempt
                 // consumes, in decimal (several partitions of NAME: their
                 // versions joined by "," in the claim's order).
  };
  Kind kind = Kind::kPartition;
  std::string input;  // kInput: the upstream's name.
};

// One statement of a table's `sql` with its placeholders replaced by $1,
// $2, ... (one number per distinct placeholder, in order of first use).
// A table in a BigQuery sink has one: its whole `sql` as a script, each
// placeholder replaced by a named parameter (@partition, @table,
// @attempt, @input_NAME with NAME's characters outside [A-Za-z0-9_] as
// "_").
struct SqlStatement {
  std::string text;
  // Distinct, in order of first use: parameters[i] is $(i + 1) (PostgreSQL).
  std::vector<SqlParameter> parameters;
};

// A declared sink (`sink { ... }`) with its durations resolved.
struct Sink {
  enum class Kind {
    kHost,      // Neither postgres nor bigquery: the host binds an executor.
    kPostgres,  // PostgreSQL or Redshift over libpq.
    kBigQuery,  // BigQuery over its REST API.
  };
  std::string name;
  Kind kind = Kind::kHost;
  SinkSpec spec;  // As written.
  // postgres.statement_timeout; absl::InfiniteDuration() when unset.
  absl::Duration statement_timeout = absl::InfiniteDuration();
  // postgres.connect_timeout. Default 30 seconds.
  absl::Duration connect_timeout = absl::Seconds(30);
  // bigquery.job_timeout. Default 6 hours.
  absl::Duration job_timeout = absl::Hours(6);
  SpecLocation defined_at;
};

// A table's resolved freshness deadline (FreshnessSpec.deadline): the
// partition of date D is due by `hour`:`minute` local time in `zone` on day
// D + `days`. A local time a daylight-saving change skips is the instant
// of the change (02:30 on a spring-forward night is 03:00 after it); a
// repeated one is its first occurrence (absl::FromCivil's rule).
struct FreshnessDeadline {
  int hour = 0;
  int minute = 0;
  int days = 1;
  // As written, else the pipeline's time_zone, else "UTC".
  std::string zone_name = "UTC";
  absl::TimeZone zone = absl::UTCTimeZone();
};

// One input edge of a table: the upstream, and how the table's partitions
// map to the upstream's (see landfall/partition_window.h).
struct Input {
  TableId table = 0;
  PartitionMapping mapping = PartitionMapping::kIdentity;
};

// A table with every default resolved; brace-initialize it by field name,
// not by position. A Pipeline keeps one per table: past the name, its
// fields are ordered by size (the 4-byte ones and the flags first) to hold
// little padding. Cache-line aligned, the name right after the id: the
// scheduler copies the names of the tasks it makes ready, table after table,
// and a stride of whole lines keeps that copy prefetched (FanOut of 100k
// tasks: 121 against 134 ns a task with the 312-byte stride unaligned).
struct alignas(64) Table {
  TableId id = 0;
  std::string name;
  Trigger trigger = Trigger::kAll;
  ClassId priority_class = 0;
  PoolId pool = -1;  // -1 for source tables, which run nothing.
  int pool_slots = 1;
  // The form of its partition keys as declared (partition_format); kOpaque
  // for none. A windowed edge needs both its tables to declare one.
  PartitionFormat partition_format = PartitionFormat::kOpaque;
  // Edges on the longest path from this table down to one with no
  // downstreams; the scheduler runs longer paths first.
  int longest_downstream_path = 0;
  bool source = false;
  bool partitioned = true;
  // Whether some input maps partitions other than IDENTITY.
  bool windowed = false;
  RetryPolicy retry;
  absl::Duration lease = absl::Minutes(10);
  // absl::InfiniteDuration() when the table has no freshness policy.
  absl::Duration max_lag = absl::InfiniteDuration();
  // The table's statement_timeout, else its sink's; infinite when neither
  // sets one.
  absl::Duration statement_timeout = absl::InfiniteDuration();
  // The table's freshness deadline; none when it has no `deadline`. Boxed:
  // one pointer wide where a std::optional would take 64 bytes, and few
  // tables have one. Reads as a std::optional (see landfall/optional_box.h).
  OptionalBox<FreshnessDeadline> deadline;
  std::string sink;
  // The table's `sql`, split into statements; empty when it has none.
  std::vector<SqlStatement> sql;
  std::map<std::string, std::string> labels;
  SpecLocation defined_at;
};

struct Pool {
  PoolId id = 0;
  std::string name;
  int slots = kUnlimitedSlots;
};

struct PriorityClass {
  ClassId id = 0;  // Rank: 0 is the highest.
  std::string name;
  // Whether its tasks waiting to retry hold lower classes back (the gate).
  bool gate_holds_retrying = true;
  // A task of it READY this long (since its ready time) is claimable
  // despite the gate, after every claimable task of a higher class; pool
  // limits still hold. Infinite: never.
  absl::Duration max_gate_wait = absl::InfiniteDuration();
};

// Counts that `landfall validate` prints.
struct PipelineSummary {
  int tables = 0;
  int sources = 0;
  int derived = 0;
  int edges = 0;
  int classes = 0;
  int pools = 0;
  int longest_path = 0;  // Edges on the longest upstream-to-downstream path.
};

enum class SpecFormat {
  kAuto,       // By file extension: .json is JSON, .yaml and .yml YAML,
               // anything else text format.
  kTextProto,  // Protobuf text format.
  kJson,       // Protobuf's JSON mapping.
  kYaml,       // YAML, mapped onto the schema as the JSON mapping is.
};

class LANDFALL_EXPORT Pipeline {
 public:
  // Reads and validates the spec file at `path`. Errors:
  //   NotFound / PermissionDenied / Unavailable: the file cannot be read.
  //   InvalidArgument: the spec is wrong; the message holds every problem,
  //     one per line as SpecProblem::ToString().
  // When `problems` is not null it receives the same problems one by one.
  static absl::StatusOr<std::shared_ptr<const Pipeline>> FromFile(
      const std::string& path, SpecFormat format = SpecFormat::kAuto,
      std::vector<SpecProblem>* problems = nullptr);

  // As FromFile, for spec text already in memory. `file` names it in errors.
  static absl::StatusOr<std::shared_ptr<const Pipeline>> FromText(
      std::string_view text, SpecFormat format, std::string_view file,
      std::vector<SpecProblem>* problems = nullptr);

  // Validates a spec built in memory; problems carry no line numbers.
  static absl::StatusOr<std::shared_ptr<const Pipeline>> FromSpec(
      const PipelineSpec& spec, std::vector<SpecProblem>* problems = nullptr);

  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  ~Pipeline();

  const std::string& name() const;
  PriorityGate priority_gate() const;
  // The zone of local days and hours for partition windows (`time_zone`,
  // default UTC).
  const absl::TimeZone& time_zone() const;
  // The spec as written (defaults not applied).
  const PipelineSpec& spec() const;
  // What the spec says that loads but likely is not meant, in spec order:
  // a retry.initial_backoff above retry.max_backoff (every retry then
  // waits max_backoff). Each message begins with "warning: ", so that
  // ToString() reads "file:line:column: warning: ...". Hosts should show
  // them to whoever wrote the spec; `landfall` prints them on stderr.
  absl::Span<const SpecProblem> warnings() const;
  PipelineSummary Summary() const;

  int table_count() const;
  // REQUIRES: 0 <= id < table_count().
  const Table& table(TableId id) const;
  // Every table, indexed by id.
  absl::Span<const Table> tables() const;
  std::optional<TableId> FindTable(std::string_view name) const;

  // Highest first; a spec without classes has one class named "default".
  absl::Span<const PriorityClass> priority_classes() const;
  std::optional<ClassId> FindPriorityClass(std::string_view name) const;
  // Declared pools in spec order, then the implicit unlimited "default" pool
  // if some derived table names no pool.
  absl::Span<const Pool> pools() const;
  std::optional<PoolId> FindPool(std::string_view name) const;
  // Declared sinks in spec order.
  absl::Span<const Sink> sinks() const;
  // The declared sink `name`, or null.
  const Sink* FindSink(std::string_view name) const;

  // Direct upstreams in the order the spec lists them (`upstream`, then
  // `input`), each once.
  absl::Span<const TableId> Upstreams(TableId id) const;
  // Every input edge with its mapping, in the same order; an upstream read
  // through several mappings is listed once per mapping.
  absl::Span<const Input> Inputs(TableId id) const;
  // Direct downstreams in id order.
  absl::Span<const TableId> Downstreams(TableId id) const;
  // Every table `id` depends on, transitively, in id order.
  std::vector<TableId> Ancestors(TableId id) const;
  // Every table that depends on `id`, transitively, in id order.
  std::vector<TableId> Descendants(TableId id) const;
  // Every table, each after all of its upstreams.
  absl::Span<const TableId> TopologicalOrder() const;
  // Where table `id` is in TopologicalOrder().
  int TopologicalPosition(TableId id) const;
  // Edges on the longest path from `id` down to a table with no downstreams
  // (0 for such a table). The scheduler runs longer paths first.
  int LongestDownstreamPath(TableId id) const;

  // Graphviz DOT: one node per table filled by priority class, sources as
  // cylinders, derived tables as boxes labelled with their pool; edges run
  // upstream to downstream.
  std::string ToDot() const;

 private:
  explicit Pipeline(std::unique_ptr<internal::PipelineRep> rep);
  friend class PipelineBuilder;

  std::unique_ptr<internal::PipelineRep> rep_;
};

}  // namespace landfall
