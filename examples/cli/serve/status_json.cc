#include "examples/cli/serve/status_json.h"

#include <string>
#include <vector>

#include "lib/capi/records_json.h"
#include "lib/runtime/json_lines.h"
#include "lib/runtime/json_object.h"

namespace landfall::cli {
namespace {

using capi::EntryJson;
using capi::StatusJson;
using internal::JsonArray;
using internal::JsonObject;
using internal::JsonString;

template <typename Counts>
std::string CountsJson(const Counts& counts) {
  JsonObject o;
  for (const auto& [name, n] : counts) o.Int(name, n);
  return o.str();
}

std::string StringsJson(const std::vector<std::string>& texts) {
  std::vector<std::string> items;
  for (const std::string& t : texts) items.push_back(JsonString(t));
  return JsonArray(items);
}

JsonObject RowObject(const TableRow& r, const Pipeline& pipeline) {
  const Freshness& f = r.freshness;
  JsonObject o;
  o.Str("name", r.table->name)
      .Bool("source", r.table->source)
      .Str("class", pipeline.priority_classes()[r.table->priority_class].name)
      .Str("state", GraphStateName(r.state))
      .Str("latest_partition", r.latest_partition)
      .Raw("latest_task", r.has_task ? StatusJson(r.latest) : "null")
      .Time("last_update", f.last_update)
      .Raw("max_lag_seconds",
           f.max_lag == absl::InfiniteDuration()
               ? "null"
               : absl::StrCat(absl::ToInt64Seconds(f.max_lag)))
      .Bool("stale", f.stale);
  return o;
}

}  // namespace

std::string SummaryJson(const StatusSummary& s) {
  std::vector<std::string> pools, classes, dead;
  for (const PoolRow& p : s.pools) {
    pools.push_back(
        JsonObject()
            .Str("name", p.name)
            .Raw("slots", p.slots == kUnlimitedSlots ? std::string("null")
                                                     : absl::StrCat(p.slots))
            .Int("slots_used", p.slots_used)
            .Int("running", p.running)
            .Int("queued", p.queued)
            .Int("longest_wait_seconds", absl::ToInt64Seconds(p.longest_wait))
            .str());
  }
  for (const ClassRow& c : s.classes) {
    classes.push_back(JsonObject()
                          .Str("name", c.name)
                          .Raw("by_state", CountsJson(c.by_state))
                          .str());
  }
  for (const DeadRow& d : s.dead) {
    dead.push_back(JsonObject()
                       .Raw("task", StatusJson(d.status))
                       .Raw("explain", StringsJson(d.reasons))
                       .str());
  }
  return JsonObject()
      .Str("pipeline", s.pipeline)
      .Int("last_seq", s.last_seq)
      .Time("at", s.now)
      .Int("tables", s.tables)
      .Int("tasks", s.tasks)
      .Raw("by_state", CountsJson(s.by_state))
      .Raw("pools", JsonArray(pools))
      .Raw("classes", JsonArray(classes))
      .Int("dead_total", s.dead_total)
      .Raw("dead", JsonArray(dead))
      .str();
}

std::string TablesJson(const TableRows& tables, const Pipeline& pipeline) {
  std::vector<std::string> rows;
  for (const TableRow& r : tables.rows) {
    rows.push_back(RowObject(r, pipeline).str());
  }
  return JsonObject()
      .Int("matched", tables.matched)
      .Raw("tables", JsonArray(rows))
      .str();
}

std::string TableDetailJson(const TableDetail& d, const Pipeline& pipeline) {
  std::vector<std::string> tasks;
  for (const TaskStatus& t : d.tasks) tasks.push_back(StatusJson(t));
  return RowObject(d.row, pipeline)
      .Raw("tasks", JsonArray(tasks))
      .Raw("last_arrival", d.arrival_found ? EntryJson(d.last_arrival) : "null")
      .Raw("explain", StringsJson(d.reasons))
      .str();
}

std::string HistoryJson(const HistoryPage& page) {
  std::vector<std::string> entries;
  for (const HistoryEntry& h : page.entries) entries.push_back(EntryJson(h));
  return JsonObject()
      .Raw("entries", JsonArray(entries))
      .Int("next", page.next_seq)
      .str();
}

}  // namespace landfall::cli
