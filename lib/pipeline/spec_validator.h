// PipelineBuilder's Validator, for its two halves: spec_validator.cc
// resolves names, defaults and each table's own fields,
// spec_validator_graph.cc its upstreams and the graph they make.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "landfall/pipeline.h"
#include "lib/pipeline/pipeline_rep.h"
#include "lib/pipeline/spec_locator.h"
#include "lib/pipeline/table_graph.h"
#include "lib/pipeline/window_validator.h"

namespace landfall::internal {

// What a table takes when it does not say: built-in values overridden by the
// spec's `defaults`.
struct TableDefaults {
  ClassId priority_class = 0;
  std::string pool;  // Empty: the implicit "default" pool.
  int pool_slots = 1;
  RetryPolicy retry;
  absl::Duration lease = absl::Minutes(10);
  absl::Duration max_lag = absl::InfiniteDuration();
  std::string deadline;
  int deadline_days = 1;
  std::string sink;
};

class Validator {
 public:
  Validator(const internal::SpecLocator& locator, internal::PipelineRep* rep)
      : locator_(locator), spec_(*rep->spec), rep_(rep) {}

  std::vector<SpecProblem> Run();

 private:
  static void SortBySpecOrder(std::vector<SpecProblem>& problems);

  // "FIELD: unknown value N (NAME, NAME, ...)".
  static std::string UnknownEnum(absl::string_view field, int value,
                                 const google::protobuf::EnumDescriptor* e);

  void Problem(SpecLocation where, std::string message);

  // Something that loads but likely does not mean what it says.
  void Warning(SpecLocation where, absl::string_view message);

  // A name with a control character cannot be typed or printed, and a NUL
  // cuts it short in C and on a command line: nothing could address it.
  // (Names that are not UTF-8 are refused when the spec is read.)
  void CheckNameText(const std::string& name, absl::string_view kind,
                     SpecLocation where);

  void ResolveClasses();
  void ResolvePools();
  void ResolveDefaults();
  void ResolveTables();

  // The pool a table runs in, checking its pool_slots against the pool size.
  PoolId ResolveTablePool(const std::string& name, const Table& table,
                          const std::string& context, int index);

  // The unlimited pool for tables that name none, created on first use
  // unless the spec declares a pool of that name itself.
  PoolId ImplicitPool();

  void ResolveUpstreams();

  // An upstream as written: `upstream: NAME` or `input { ... }`.
  struct WrittenInput {
    std::string table;
    PartitionMapping mapping;
    SpecLocation where;
  };

  // Table `i`'s `upstream` names, then its `input`s (those with a table and
  // a known mapping; the others are reported).
  std::vector<WrittenInput> WrittenInputs(int i);

  std::vector<std::string> AllTableNames() const;

  void CheckCycles();
  void BuildGraphViews();

  static void Flatten(const std::vector<std::vector<TableId>>& lists,
                      std::vector<int32_t>* begin, std::vector<TableId>* ids);

  // " (first defined at line N)" for the earlier entry of a repeated field.
  std::string FirstDefined(absl::string_view field, int index) const;

  ClassId ClassByName(const std::string& name, const std::string& context,
                      SpecLocation where);
  PoolId PoolByName(const std::string& name, const std::string& context,
                    SpecLocation where);
  // Their part: the id `ids` gives `name`, else a problem naming the `kind`
  // and the names in `all`, and `missing`.
  template <typename Id, typename Named>
  Id IdByName(const absl::flat_hash_map<std::string, Id>& ids,
              const std::vector<Named>& all, absl::string_view kind, Id missing,
              const std::string& name, const std::string& context,
              SpecLocation where);

  static std::string UnknownName(const std::string& context,
                                 absl::string_view kind,
                                 const std::string& name,
                                 const std::vector<std::string>& known);

  void CheckPoolSlots(int slots, const std::string& context,
                      SpecLocation where);

  void ResolveDuration(const std::string& text, absl::Duration* out,
                       const std::string& context, absl::string_view field,
                       SpecLocation where);

  // The table's freshness deadline over the defaults'. A problem is placed
  // where the deadline was written: the table's, else `defaults`.
  void ResolveDeadline(const FreshnessSpec& spec, Table* table,
                       const std::string& context, int index);

  // `retry` over `base`. `owner` is the path of the message holding `retry`
  // ("defaults", or "table" with `index`).
  RetryPolicy MergeRetry(const RetryPolicySpec& retry, RetryPolicy base,
                         const std::string& context, absl::string_view owner,
                         int index);

  const internal::SpecLocator& locator_;
  const PipelineSpec& spec_;
  internal::PipelineRep* rep_;
  TableDefaults defaults_;
  std::vector<std::vector<TableId>> upstreams_;
  std::vector<std::vector<internal::LocatedInput>> inputs_;
  // Built to validate, and dropped with the validator.
  internal::TableGraph graph_;
  std::vector<SpecProblem> problems_;
};

}  // namespace landfall::internal
