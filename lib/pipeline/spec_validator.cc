// Validation of a PipelineSpec into a Pipeline: every default resolved, every
// name checked, the graph built and proven acyclic. Every problem is reported,
// not only the first. The graph's half is in spec_validator_graph.cc.
#include "lib/pipeline/spec_validator.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "lib/pipeline/durations.h"
#include "lib/pipeline/freshness_deadline.h"
#include "lib/pipeline/internal/suggest.h"
#include "lib/pipeline/pipeline_rep.h"
#include "lib/pipeline/sink_validator.h"
#include "lib/pipeline/spec_reader.h"
#include "lib/pipeline/window_validator.h"

namespace landfall {
namespace {

constexpr char kImplicitName[] = "default";

// C0 controls, DEL, and C1 controls (U+0080 to U+009F, as UTF-8).
bool HasControlCharacter(absl::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < text.size() &&
        (static_cast<unsigned char>(text[i + 1]) & 0xe0) == 0x80) {
      return true;
    }
  }
  return false;
}

}  // namespace

namespace internal {

std::vector<SpecProblem> Validator::Run() {
  // Proto3 enums keep unknown numbers: refuse them, not read them as one.
  if (!PipelineSpec::PriorityGate_IsValid(spec_.priority_gate())) {
    Problem(locator_.Find({{"priority_gate"}}),
            UnknownEnum("priority_gate", spec_.priority_gate(),
                        PipelineSpec::PriorityGate_descriptor()));
  }
  rep_->gate = static_cast<PriorityGate>(spec_.priority_gate());
  ResolveClasses();
  ResolvePools();
  internal::ResolveSinks(locator_, rep_, &problems_);
  ResolveDefaults();
  if (spec_.table_size() == 0) {
    Problem(locator_.Find({}), "empty spec: it defines no tables");
  }
  ResolveTables();
  internal::ResolveTableSinks(locator_, rep_, &problems_);
  ResolveUpstreams();
  internal::ResolveWindows(locator_, inputs_, rep_, &problems_);
  CheckCycles();  // On the edges that resolved, whatever else is wrong.
  if (problems_.empty()) BuildGraphViews();
  SortBySpecOrder(problems_);
  SortBySpecOrder(rep_->warnings);
  return std::move(problems_);
}

void Validator::SortBySpecOrder(std::vector<SpecProblem>& problems) {
  std::stable_sort(problems.begin(), problems.end(),
                   [](const SpecProblem& a, const SpecProblem& b) {
                     return std::make_pair(a.where.line, a.where.column) <
                            std::make_pair(b.where.line, b.where.column);
                   });
}

std::string Validator::UnknownEnum(absl::string_view field, int value,
                                   const google::protobuf::EnumDescriptor* e) {
  std::vector<std::string> names;
  for (int i = 0; i < e->value_count(); ++i) {
    names.push_back(e->value(i)->name());
  }
  return absl::StrCat(field, ": unknown value ", value, " (",
                      absl::StrJoin(names, ", "), ")");
}

void Validator::Problem(SpecLocation where, std::string message) {
  problems_.push_back(SpecProblem{std::move(where), std::move(message)});
}

void Validator::Warning(SpecLocation where, absl::string_view message) {
  rep_->warnings.push_back(
      SpecProblem{std::move(where), absl::StrCat("warning: ", message)});
}

void Validator::CheckNameText(const std::string& name, absl::string_view kind,
                              SpecLocation where) {
  if (HasControlCharacter(name)) {
    Problem(std::move(where),
            absl::StrCat(kind, " name \"", absl::CEscape(name),
                         "\" holds a control character"));
  }
}

void Validator::ResolveClasses() {
  for (int i = 0; i < spec_.priority_class_size(); ++i) {
    const std::string& name = spec_.priority_class(i).name();
    const SpecLocation where = locator_.Find({{"priority_class", i}});
    if (name.empty()) {
      Problem(where, absl::StrCat("priority class #", i + 1, " has no name"));
      continue;
    }
    CheckNameText(name, "priority class",
                  locator_.Find({{"priority_class", i}, {"name"}}));
    const ClassId id = static_cast<ClassId>(rep_->classes.size());
    if (auto [it, added] = rep_->class_ids.emplace(name, id); !added) {
      Problem(where, absl::StrCat("duplicate priority class \"", name, "\"",
                                  FirstDefined("priority_class", it->second)));
      continue;
    }
    PriorityClass& cls = rep_->classes.emplace_back(PriorityClass{id, name});
    const PriorityClassSpec& spec = spec_.priority_class(i);
    if (spec.has_gate_holds_retrying()) {
      cls.gate_holds_retrying = spec.gate_holds_retrying();
    }
    ResolveDuration(spec.max_gate_wait(), &cls.max_gate_wait,
                    absl::StrCat("priority class \"", name, "\""),
                    "max_gate_wait",
                    locator_.Find({{"priority_class", i}, {"max_gate_wait"}}));
  }
  if (spec_.priority_class_size() == 0) {
    rep_->class_ids.emplace(kImplicitName, 0);
    rep_->classes.push_back(PriorityClass{0, kImplicitName});
  }
}

void Validator::ResolvePools() {
  for (int i = 0; i < spec_.pool_size(); ++i) {
    const PoolSpec& pool = spec_.pool(i);
    const SpecLocation where = locator_.Find({{"pool", i}});
    if (pool.name().empty()) {
      Problem(where, absl::StrCat("pool #", i + 1, " has no name"));
      continue;
    }
    CheckNameText(pool.name(), "pool", locator_.Find({{"pool", i}, {"name"}}));
    const PoolId id = static_cast<PoolId>(rep_->pools.size());
    if (auto [it, added] = rep_->pool_ids.emplace(pool.name(), id); !added) {
      Problem(where, absl::StrCat("duplicate pool \"", pool.name(), "\"",
                                  FirstDefined("pool", it->second)));
      continue;
    }
    if (pool.slots() < 1) {
      Problem(locator_.Find({{"pool", i}, {"slots"}}),
              absl::StrCat("pool \"", pool.name(),
                           "\": slots must be at least 1 (got ", pool.slots(),
                           ")"));
    }
    rep_->pools.push_back(Pool{id, pool.name(), pool.slots()});
  }
}

void Validator::ResolveDefaults() {
  const TableDefaultsSpec& d = spec_.defaults();
  const std::string context = "defaults";
  if (!d.priority_class().empty()) {
    defaults_.priority_class =
        ClassByName(d.priority_class(), context,
                    locator_.Find({{"defaults"}, {"priority_class"}}));
  }
  if (!d.pool().empty()) {
    defaults_.pool = d.pool();
    PoolByName(d.pool(), context, locator_.Find({{"defaults"}, {"pool"}}));
  }
  if (d.has_pool_slots()) {
    defaults_.pool_slots = d.pool_slots();
    CheckPoolSlots(d.pool_slots(), context,
                   locator_.Find({{"defaults"}, {"pool_slots"}}));
  }
  defaults_.retry =
      MergeRetry(d.retry(), defaults_.retry, context, {"defaults"}, -1);
  ResolveDuration(d.lease(), &defaults_.lease, context, "lease",
                  locator_.Find({{"defaults"}, {"lease"}}));
  ResolveDuration(d.freshness().max_lag(), &defaults_.max_lag, context,
                  "freshness.max_lag",
                  locator_.Find({{"defaults"}, {"freshness"}, {"max_lag"}}));
  defaults_.deadline = d.freshness().deadline();
  if (d.freshness().has_deadline_days()) {
    defaults_.deadline_days = d.freshness().deadline_days();
  }
  defaults_.sink = d.sink();
  CheckNameText(d.sink(), "sink", locator_.Find({{"defaults"}, {"sink"}}));
}

void Validator::ResolveTables() {
  rep_->tables.resize(spec_.table_size());
  rep_->table_ids.reserve(spec_.table_size());
  for (int i = 0; i < spec_.table_size(); ++i) {
    const TableSpec& t = spec_.table(i);
    Table& table = rep_->tables[i];
    table.id = i;
    table.name = t.name();
    table.defined_at = locator_.Find({{"table", i}});
    const std::string context = absl::StrCat("table \"", t.name(), "\"");
    if (t.name().empty()) {
      Problem(table.defined_at, absl::StrCat("table #", i + 1, " has no name"));
    } else if (auto [it, added] = rep_->table_ids.insert(i); !added) {
      Problem(table.defined_at, absl::StrCat("duplicate table \"", t.name(),
                                             "\"", FirstDefined("table", *it)));
    }
    CheckNameText(t.name(), "table", locator_.Find({{"table", i}, {"name"}}));
    table.source = t.source();
    table.partitioned = !t.has_partitioned() || t.partitioned();
    if (!TableSpec::Trigger_IsValid(t.trigger())) {
      Problem(locator_.Find({{"table", i}, {"trigger"}}),
              absl::StrCat(context, ": ",
                           UnknownEnum("trigger", t.trigger(),
                                       TableSpec::Trigger_descriptor())));
    }
    table.trigger =
        t.trigger() == TableSpec::ANY ? Trigger::kAny : Trigger::kAll;
    table.priority_class = defaults_.priority_class;
    if (!t.priority_class().empty()) {
      table.priority_class =
          ClassByName(t.priority_class(), context,
                      locator_.Find({{"table", i}, {"priority_class"}}));
    }
    table.pool_slots = defaults_.pool_slots;
    if (t.has_pool_slots()) {
      table.pool_slots = t.pool_slots();
      CheckPoolSlots(t.pool_slots(), context,
                     locator_.Find({{"table", i}, {"pool_slots"}}));
    }
    if (!table.source) {
      table.pool = ResolveTablePool(
          t.pool().empty() ? defaults_.pool : t.pool(), table, context, i);
    } else if (!t.pool().empty()) {  // Unused, but a typo is still wrong.
      PoolByName(t.pool(), context, locator_.Find({{"table", i}, {"pool"}}));
    }
    table.retry = MergeRetry(t.retry(), defaults_.retry, context, {"table"}, i);
    table.lease = defaults_.lease;
    ResolveDuration(t.lease(), &table.lease, context, "lease",
                    locator_.Find({{"table", i}, {"lease"}}));
    table.max_lag = defaults_.max_lag;
    ResolveDuration(t.freshness().max_lag(), &table.max_lag, context,
                    "freshness.max_lag",
                    locator_.Find({{"table", i}, {"freshness"}, {"max_lag"}}));
    ResolveDeadline(t.freshness(), &table, context, i);
    table.sink = t.sink().empty() ? defaults_.sink : t.sink();
    CheckNameText(t.sink(), "sink", locator_.Find({{"table", i}, {"sink"}}));
    table.labels.insert(t.labels().begin(), t.labels().end());
  }
}

PoolId Validator::ResolveTablePool(const std::string& name, const Table& table,
                                   const std::string& context, int index) {
  PoolId pool;
  if (name.empty()) {
    pool = ImplicitPool();
  } else {
    pool =
        PoolByName(name, context, locator_.Find({{"table", index}, {"pool"}}));
    if (pool < 0) return pool;
  }
  const int slots = rep_->pools[pool].slots;
  if (slots >= 1 && table.pool_slots > slots) {
    Problem(table.defined_at,
            absl::StrCat(context, ": pool_slots ", table.pool_slots,
                         " exceeds the ", slots, " slots of pool \"",
                         rep_->pools[pool].name, "\""));
  }
  return pool;
}

PoolId Validator::ImplicitPool() {
  if (auto it = rep_->pool_ids.find(kImplicitName);
      it != rep_->pool_ids.end()) {
    return it->second;
  }
  const PoolId id = static_cast<PoolId>(rep_->pools.size());
  rep_->pool_ids.emplace(kImplicitName, id);
  rep_->pools.push_back(Pool{id, kImplicitName, kUnlimitedSlots});
  return id;
}

std::string Validator::FirstDefined(absl::string_view field, int index) const {
  const SpecLocation first = locator_.Find({{field, index}});
  if (first.line == 0) return "";
  return absl::StrCat(" (first defined at line ", first.line, ")");
}

ClassId Validator::ClassByName(const std::string& name,
                               const std::string& context, SpecLocation where) {
  return IdByName(rep_->class_ids, rep_->classes, "priority class", ClassId{0},
                  name, context, std::move(where));
}

PoolId Validator::PoolByName(const std::string& name,
                             const std::string& context, SpecLocation where) {
  return IdByName(rep_->pool_ids, rep_->pools, "pool", PoolId{-1}, name,
                  context, std::move(where));
}

template <typename Id, typename Named>
Id Validator::IdByName(const absl::flat_hash_map<std::string, Id>& ids,
                       const std::vector<Named>& all, absl::string_view kind,
                       Id missing, const std::string& name,
                       const std::string& context, SpecLocation where) {
  if (auto it = ids.find(name); it != ids.end()) return it->second;
  std::vector<std::string> known;
  for (const Named& named : all) known.push_back(named.name);
  Problem(std::move(where), UnknownName(context, kind, name, known));
  return missing;
}

std::string Validator::UnknownName(const std::string& context,
                                   absl::string_view kind,
                                   const std::string& name,
                                   const std::vector<std::string>& known) {
  std::string hint = internal::DidYouMean(name, known);
  if (hint.empty() && !known.empty()) {
    hint = absl::StrCat(" (known: ", absl::StrJoin(known, ", "), ")");
  }
  return absl::StrCat(context, ": unknown ", kind, " \"", name, "\"", hint);
}

void Validator::CheckPoolSlots(int slots, const std::string& context,
                               SpecLocation where) {
  if (slots < 1) {
    Problem(std::move(where),
            absl::StrCat(context, ": pool_slots must be at least 1 (got ",
                         slots, ")"));
  }
}

void Validator::ResolveDuration(const std::string& text, absl::Duration* out,
                                const std::string& context,
                                absl::string_view field, SpecLocation where) {
  if (text.empty()) return;
  absl::StatusOr<absl::Duration> d = internal::ParseSpecDuration(text);
  if (!d.ok()) {
    Problem(std::move(where),
            absl::StrCat(context, ": ", field, ": ", d.status().message()));
    return;
  }
  *out = *d;
}

void Validator::ResolveDeadline(const FreshnessSpec& spec, Table* table,
                                const std::string& context, int index) {
  const bool own = !spec.deadline().empty();
  const std::string& text = own ? spec.deadline() : defaults_.deadline;
  const int days =
      spec.has_deadline_days() ? spec.deadline_days() : defaults_.deadline_days;
  auto where = [&](bool table_field, absl::string_view field) {
    return table_field
               ? locator_.Find({{"table", index}, {"freshness"}, {field}})
               : locator_.Find({{"defaults"}, {"freshness"}, {field}});
  };
  if (text.empty()) {
    if (spec.has_deadline_days()) {
      Problem(where(true, "deadline_days"),
              absl::StrCat(context,
                           ": freshness.deadline_days without a deadline"));
    }
    return;
  }
  absl::StatusOr<FreshnessDeadline> d =
      internal::ParseFreshnessDeadline(text, days, spec_.time_zone());
  if (!d.ok()) {
    const bool days_wrong = days < 0 || days > 366;
    Problem(days_wrong ? where(spec.has_deadline_days(), "deadline_days")
                       : where(own, "deadline"),
            absl::StrCat(context, ": freshness.",
                         days_wrong ? "deadline_days" : "deadline", ": ",
                         d.status().message()));
    return;
  }
  table->deadline = *std::move(d);
}

RetryPolicy Validator::MergeRetry(const RetryPolicySpec& retry,
                                  RetryPolicy base, const std::string& context,
                                  absl::string_view owner, int index) {
  auto where = [&](absl::string_view field) {
    return locator_.Find({{owner, index}, {"retry"}, {field}});
  };
  if (retry.has_max_attempts()) {
    base.max_attempts = retry.max_attempts();
    if (base.max_attempts < 1) {
      Problem(
          where("max_attempts"),
          absl::StrCat(context, ": retry.max_attempts must be at least 1 (got ",
                       base.max_attempts, ")"));
    }
  }
  if (retry.has_multiplier()) {
    base.multiplier = retry.multiplier();
    if (!(base.multiplier >= 1.0)) {
      Problem(
          where("multiplier"),
          absl::StrCat(context, ": retry.multiplier must be at least 1 (got ",
                       base.multiplier, ")"));
    }
  }
  if (retry.has_initial_backoff()) {
    ResolveDuration(retry.initial_backoff(), &base.initial_backoff, context,
                    "retry.initial_backoff", where("initial_backoff"));
  }
  if (retry.has_max_backoff()) {
    ResolveDuration(retry.max_backoff(), &base.max_backoff, context,
                    "retry.max_backoff", where("max_backoff"));
  }
  if (retry.has_jitter()) base.jitter = retry.jitter();
  // Said where the clash is written: a table inheriting it says nothing.
  if ((retry.has_initial_backoff() || retry.has_max_backoff()) &&
      base.initial_backoff > base.max_backoff) {
    const std::string max = absl::FormatDuration(base.max_backoff);
    Warning(
        where(retry.has_initial_backoff() ? "initial_backoff" : "max_backoff"),
        absl::StrCat(context, ": retry.initial_backoff (",
                     absl::FormatDuration(base.initial_backoff),
                     ") exceeds retry.max_backoff (", max,
                     "): every retry waits ", max));
  }
  return base;
}

}  // namespace internal

absl::StatusOr<std::shared_ptr<const Pipeline>> PipelineBuilder::Build(
    PipelineSpec spec, const internal::SpecLocator& locator,
    std::vector<SpecProblem>* problems) {
  auto rep = std::make_unique<internal::PipelineRep>();
  rep->spec = std::make_unique<PipelineSpec>(std::move(spec));
  std::vector<SpecProblem> found =
      internal::Validator(locator, rep.get()).Run();
  if (!found.empty()) {
    if (problems != nullptr) {
      problems->insert(problems->end(), found.begin(), found.end());
    }
    return internal::ProblemsToStatus(found);
  }
  rep->name = rep->spec->name();
  rep->spec_bytes = internal::SerializeStrippedSpec(*rep);
  rep->spec.reset();
  return std::shared_ptr<const Pipeline>(new Pipeline(std::move(rep)));
}

}  // namespace landfall
