#include "lib/pipeline/window_validator.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace landfall::internal {
namespace {

// `"%Y-%m-%d"`, or `none` for an opaque format.
std::string Quoted(PartitionFormat format) {
  if (format == PartitionFormat::kOpaque) return "none";
  return absl::StrCat("\"", PartitionFormatText(format), "\"");
}

// The formats `mapping` needs of the upstream and of the downstream, given
// the downstream's; kOpaque where it needs none in particular.
std::pair<PartitionFormat, PartitionFormat> NeededFormats(
    PartitionMapping mapping, PartitionFormat down) {
  switch (mapping) {
    case PartitionMapping::kHourlyToDaily:
      return {PartitionFormat::kHourly, PartitionFormat::kDaily};
    case PartitionMapping::kDailyToMonthly:
      return {PartitionFormat::kDaily, PartitionFormat::kMonthly};
    case PartitionMapping::kPrevious:
    case PartitionMapping::kIdentity:
      break;
  }
  return {down, down};
}

void ResolveFormats(const SpecLocator& locator, PipelineRep* rep,
                    std::vector<SpecProblem>* problems) {
  for (int i = 0; i < rep->spec->table_size(); ++i) {
    const std::string& text = rep->spec->table(i).partition_format();
    if (text.empty()) continue;
    Table& table = rep->tables[i];
    const SpecLocation where =
        locator.Find({{"table", i}, {"partition_format"}});
    const std::string context = absl::StrCat("table \"", table.name, "\"");
    std::optional<PartitionFormat> format = ParsePartitionFormat(text);
    if (!format) {
      problems->push_back(
          {where, absl::StrCat(context, ": partition_format \"", text,
                               "\" is not one of \"%Y-%m-%dT%H\" (hourly), "
                               "\"%Y-%m-%d\" (daily), \"%Y-%m\" (monthly)")});
    } else if (!table.partitioned) {
      problems->push_back(
          {where, absl::StrCat(context,
                               ": partition_format needs a partitioned table "
                               "(it sets `partitioned: false`)")});
    } else {
      table.partition_format = *format;
    }
  }
}

void CheckEdge(const LocatedInput& edge, const Table& down, const Table& up,
               std::vector<SpecProblem>* problems) {
  const PartitionMapping mapping = edge.input.mapping;
  const auto [up_needs, down_needs] =
      NeededFormats(mapping, down.partition_format);
  const std::string context =
      absl::StrCat("table \"", down.name, "\": input \"", up.name,
                   "\" with mapping ", PartitionMappingName(mapping));
  if (mapping == PartitionMapping::kIdentity) {
    // Either side unpartitioned, or no format downstream: keys pass as
    // they are.
    if (!up.partitioned || !down.partitioned ||
        down.partition_format == PartitionFormat::kOpaque ||
        up.partition_format == down.partition_format) {
      return;
    }
    problems->push_back(
        {edge.where,
         absl::StrCat(context, " needs partition_format ", Quoted(up_needs),
                      " on \"", up.name, "\", as on \"", down.name,
                      "\" (it has ", Quoted(up.partition_format), ")")});
    return;
  }
  if (down_needs == PartitionFormat::kOpaque ||
      down.partition_format != down_needs) {
    problems->push_back(
        {edge.where,
         down_needs == PartitionFormat::kOpaque
             ? absl::StrCat(context, " needs a partition_format on \"",
                            down.name, "\"")
             : absl::StrCat(context, " needs partition_format ",
                            Quoted(down_needs), " on \"", down.name,
                            "\" (it has ", Quoted(down.partition_format),
                            ")")});
    return;
  }
  if (up.partition_format != up_needs) {
    problems->push_back(
        {edge.where,
         absl::StrCat(context, " needs partition_format ", Quoted(up_needs),
                      " on \"", up.name, "\" (it has ",
                      Quoted(up.partition_format), ")")});
  }
}

}  // namespace

void ResolveWindows(const SpecLocator& locator,
                    const std::vector<std::vector<LocatedInput>>& inputs,
                    PipelineRep* rep, std::vector<SpecProblem>* problems) {
  const std::string& zone = rep->spec->time_zone();
  if (!zone.empty() && !absl::LoadTimeZone(zone, &rep->time_zone)) {
    problems->push_back(
        {locator.Find({{"time_zone"}}),
         absl::StrCat("time_zone: unknown time zone \"", zone,
                      "\" (not in the system's tz database; for example "
                      "\"Asia/Tokyo\", \"America/New_York\", \"UTC\")")});
  }
  ResolveFormats(locator, rep, problems);
  for (size_t d = 0; d < inputs.size(); ++d) {
    for (const LocatedInput& edge : inputs[d]) {
      rep->tables[d].windowed |=
          edge.input.mapping != PartitionMapping::kIdentity;
    }
  }
  for (size_t d = 0; d < inputs.size(); ++d) {
    for (const LocatedInput& edge : inputs[d]) {
      CheckEdge(edge, rep->tables[d], rep->tables[edge.input.table], problems);
    }
  }
}

}  // namespace landfall::internal
