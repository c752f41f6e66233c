#include "landfall/pipeline.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/pipeline/pipeline_rep.h"
#include "lib/pipeline/spec_reader.h"

namespace landfall {
namespace {

absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

// Every table reachable from `start` through `next(t)` (a span of table
// ids), `start` excluded, sorted.
template <typename Next>
std::vector<TableId> Reachable(int table_count, TableId start, Next next) {
  std::vector<bool> seen(table_count, false);
  std::vector<TableId> found;
  seen[start] = true;
  std::vector<TableId> queue = {start};
  for (size_t head = 0; head < queue.size(); ++head) {
    for (TableId t : next(queue[head])) {
      if (seen[t]) continue;
      seen[t] = true;
      found.push_back(t);
      queue.push_back(t);
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

std::string SpecProblem::ToString() const {
  const std::string file = where.file.empty() ? "<spec>" : where.file;
  if (where.line <= 0) return absl::StrCat(file, ": ", message);
  if (where.column <= 0) {
    return absl::StrCat(file, ":", where.line, ": ", message);
  }
  return absl::StrCat(file, ":", where.line, ":", where.column, ": ", message);
}

absl::StatusOr<std::shared_ptr<const Pipeline>> Pipeline::FromFile(
    const std::string& path, SpecFormat format,
    std::vector<SpecProblem>* problems) {
  absl::StatusOr<std::string> text = internal::ReadSpecFile(path);
  if (!text.ok()) return text.status();
  return FromText(*text, format, path, problems);
}

absl::StatusOr<std::shared_ptr<const Pipeline>> Pipeline::FromText(
    std::string_view text, SpecFormat format, std::string_view file,
    std::vector<SpecProblem>* problems) {
  absl::StatusOr<internal::ParsedSpec> parsed =
      internal::ParseSpecText(AsAbsl(text), format, AsAbsl(file), problems);
  if (!parsed.ok()) return parsed.status();
  return PipelineBuilder::Build(std::move(parsed->spec), *parsed->locator,
                                problems);
}

absl::StatusOr<std::shared_ptr<const Pipeline>> Pipeline::FromSpec(
    const PipelineSpec& spec, std::vector<SpecProblem>* problems) {
  const std::string file =
      spec.name().empty() ? "<spec>" : absl::StrCat("<spec ", spec.name(), ">");
  std::vector<SpecProblem> not_utf8;
  internal::FindNonUtf8Strings(spec, nullptr, SpecLocation{file, 0, 0},
                               &not_utf8);
  if (!not_utf8.empty()) {
    if (problems != nullptr) {
      problems->insert(problems->end(), not_utf8.begin(), not_utf8.end());
    }
    return internal::ProblemsToStatus(not_utf8);
  }
  auto locator = internal::MakeNullLocator(file);
  return PipelineBuilder::Build(spec, *locator, problems);
}

Pipeline::Pipeline(std::unique_ptr<internal::PipelineRep> rep)
    : rep_(std::move(rep)) {}
Pipeline::~Pipeline() = default;

const std::string& Pipeline::name() const { return rep_->name; }
PriorityGate Pipeline::priority_gate() const { return rep_->gate; }
const absl::TimeZone& Pipeline::time_zone() const { return rep_->time_zone; }
const PipelineSpec& Pipeline::spec() const {
  absl::call_once(rep_->spec_once, [this] {
    rep_->spec = std::make_unique<PipelineSpec>();
    // Cannot fail: the bytes are this binary's serialization of the spec.
    (void)rep_->spec->ParseFromString(rep_->spec_bytes);
    internal::RestoreStrippedSpec(*rep_, rep_->spec.get());
  });
  return *rep_->spec;
}
absl::Span<const SpecProblem> Pipeline::warnings() const {
  return rep_->warnings;
}

PipelineSummary Pipeline::Summary() const {
  PipelineSummary s;
  s.tables = table_count();
  for (const Table& t : rep_->tables) (t.source ? s.sources : s.derived)++;
  s.edges = static_cast<int>(rep_->upstream_ids.size());
  s.classes = static_cast<int>(rep_->classes.size());
  s.pools = static_cast<int>(rep_->pools.size());
  for (const Table& t : rep_->tables) {
    s.longest_path = std::max(s.longest_path, t.longest_downstream_path);
  }
  return s;
}

int Pipeline::table_count() const {
  return static_cast<int>(rep_->tables.size());
}
const Table& Pipeline::table(TableId id) const { return rep_->tables[id]; }
absl::Span<const Table> Pipeline::tables() const { return rep_->tables; }

std::optional<TableId> Pipeline::FindTable(std::string_view name) const {
  auto it = rep_->table_ids.find(AsAbsl(name));
  if (it == rep_->table_ids.end()) return std::nullopt;
  return *it;
}

absl::Span<const PriorityClass> Pipeline::priority_classes() const {
  return rep_->classes;
}
std::optional<ClassId> Pipeline::FindPriorityClass(
    std::string_view name) const {
  auto it = rep_->class_ids.find(AsAbsl(name));
  if (it == rep_->class_ids.end()) return std::nullopt;
  return it->second;
}

absl::Span<const Pool> Pipeline::pools() const { return rep_->pools; }
std::optional<PoolId> Pipeline::FindPool(std::string_view name) const {
  auto it = rep_->pool_ids.find(AsAbsl(name));
  if (it == rep_->pool_ids.end()) return std::nullopt;
  return it->second;
}

absl::Span<const Sink> Pipeline::sinks() const { return rep_->sinks; }

const Sink* Pipeline::FindSink(std::string_view name) const {
  for (const Sink& sink : rep_->sinks) {
    if (sink.name == name) return &sink;
  }
  return nullptr;
}

absl::Span<const TableId> Pipeline::Upstreams(TableId id) const {
  const int32_t begin = rep_->upstream_begin[id];
  return absl::MakeConstSpan(rep_->upstream_ids.data() + begin,
                             rep_->upstream_begin[id + 1] - begin);
}

absl::Span<const Input> Pipeline::Inputs(TableId id) const {
  const int32_t begin = rep_->input_begin[id];
  return absl::MakeConstSpan(rep_->inputs.data() + begin,
                             rep_->input_begin[id + 1] - begin);
}

absl::Span<const TableId> Pipeline::Downstreams(TableId id) const {
  const int32_t begin = rep_->downstream_begin[id];
  return absl::MakeConstSpan(rep_->downstream_ids.data() + begin,
                             rep_->downstream_begin[id + 1] - begin);
}

std::vector<TableId> Pipeline::Ancestors(TableId id) const {
  return Reachable(table_count(), id,
                   [this](TableId t) { return Upstreams(t); });
}

std::vector<TableId> Pipeline::Descendants(TableId id) const {
  return Reachable(table_count(), id,
                   [this](TableId t) { return Downstreams(t); });
}

absl::Span<const TableId> Pipeline::TopologicalOrder() const {
  return rep_->topological_order;
}

int Pipeline::TopologicalPosition(TableId id) const {
  return rep_->topological_position[id];
}

int Pipeline::LongestDownstreamPath(TableId id) const {
  return rep_->tables[id].longest_downstream_path;
}

}  // namespace landfall
