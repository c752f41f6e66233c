#include "lib/capi/records_json.h"

#include <cstdint>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "lib/core/rfc3339.h"
#include "lib/runtime/json_object.h"

namespace landfall::capi {
namespace {

using internal::JsonArray;
using internal::JsonString;
using Object = internal::JsonObject;

std::string TaskJson(const TaskKey& task) {
  return Object()
      .Str("table", task.table)
      .Str("partition", task.partition)
      .str();
}

}  // namespace

std::string EntryJson(const HistoryEntry& h) {
  Object json;
  json.Int("seq", h.seq).Time("at", h.at).Str("kind", EntryKindName(h.kind));
  if (!h.table.empty()) {
    json.Str("table", h.table).Str("partition", h.partition);
  }
  if (h.attempt > 0) json.Int("attempt", h.attempt);
  if (!h.worker.empty()) json.Str("worker", h.worker);
  if (!h.event_id.empty()) json.Str("event_id", h.event_id);
  if (!h.origin.empty()) json.Str("origin", h.origin);
  if (!h.attributes.empty()) {
    Object attributes;
    for (const auto& [key, value] : h.attributes) attributes.Str(key, value);
    json.Raw("attributes", attributes.str());
  }
  if (h.kind == EntryKind::kRetryScheduled || h.kind == EntryKind::kDead) {
    json.Str("outcome", Outcome_Name(h.outcome));
  }
  if (!h.detail.empty()) json.Str("detail", h.detail);
  if (h.until != absl::InfinitePast()) {
    // An arrival's `until` is when the data landed.
    json.Time(h.kind == EntryKind::kArrival ? "landed_at" : "until", h.until);
  }
  if (!h.priority_class.empty()) json.Str("class", h.priority_class);
  if (!h.pool.empty()) json.Str("pool", h.pool).Int("slots", h.slots);
  // What times a queue wait and an attempt without state per task.
  if (h.ready_at != absl::InfinitePast()) json.Time("ready_at", h.ready_at);
  if (h.claim_seq != 0) json.Int("claim_seq", h.claim_seq);
  auto names = [](const std::vector<std::string>& tables) {
    std::vector<std::string> quoted;
    for (const std::string& t : tables) quoted.push_back(JsonString(t));
    return JsonArray(quoted);
  };
  if (!h.adopted.empty()) json.Raw("adopted", names(h.adopted));
  if (!h.rebuilt.empty()) json.Raw("rebuilt", names(h.rebuilt));
  return json.str();
}

std::string DeployPlanJson(const DeployPlan& plan, bool dry_run) {
  std::vector<std::string> changes, ready;
  for (const std::string& c : plan.changes) changes.push_back(JsonString(c));
  for (const TaskKey& t : plan.made_ready) ready.push_back(TaskJson(t));
  return Object()
      .Bool("dry_run", dry_run)
      .Bool("changed", plan.changed)
      .Str("summary", plan.summary)
      .Raw("changes", JsonArray(changes))
      .Raw("made_ready", JsonArray(ready))
      .str();
}

std::string StatusJson(const TaskStatus& t) {
  return Object()
      .Str("table", t.task.table)
      .Str("partition", t.task.partition)
      .Str("state", TaskStateName(t.state))
      .Int("attempt", t.attempt)
      .Int("run_attempts", t.run_attempts)
      .Int("version", t.version)
      .Time("deadline", t.deadline)
      .Time("last_success", t.last_success)
      .Str("worker", t.worker)
      .Str("last_error", t.last_error)
      .str();
}

std::string IngestResultJson(const std::string& event_id,
                             const IngestResult& result) {
  std::vector<std::string> ready;
  for (const TaskKey& t : result.made_ready) ready.push_back(TaskJson(t));
  return Object()
      .Str("event_id", event_id)
      .Bool("duplicate", result.duplicate)
      .Raw("made_ready", JsonArray(ready))
      .str();
}

std::string InputsJson(absl::Span<const InputVersion> inputs) {
  std::vector<std::string> items;
  for (const InputVersion& in : inputs) {
    std::vector<std::string> origins;
    for (const std::string& origin : in.origins) {
      origins.push_back(internal::JsonString(origin));
    }
    items.push_back(Object()
                        .Str("table", in.table)
                        .Str("partition", in.partition)
                        .Int("version", in.version)
                        .Raw("origins", JsonArray(origins))
                        .Bool("origins_complete", in.origins_complete)
                        .str());
  }
  return JsonArray(items);
}

}  // namespace landfall::capi
