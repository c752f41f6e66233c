// The C API: each function checks its required arguments, calls the C++ API
// and turns its Status into a code and a malloc'd message (lib/capi/call.h).
// The scheduler's functions are here, its claimed tasks' in capi_tasks.cc
// and its runners' in capi_runner.cc.
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "landfall/landfall.h"
#include "landfall/pipeline.h"
#include "landfall/scheduler.h"
#include "landfall/state_store.h"
#include "landfall/version.h"
#include "lib/capi/call.h"
#include "lib/capi/handles.h"
#include "lib/capi/records_json.h"

using landfall::capi::EntryJson;

namespace landfall::capi {
namespace {

absl::Status ParseArrival(const std::string& json, const std::string& where,
                          Arrival* arrival) {
  const auto status = google::protobuf::util::JsonStringToMessage(
      json, arrival, google::protobuf::util::JsonParseOptions());
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", status.message().as_string()));
  }
  return absl::OkStatus();
}

// Arrivals from a JSON array or from JSON lines.
absl::Status ParseArrivals(absl::string_view json,
                           std::vector<Arrival>* arrivals) {
  if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(json), "[")) {
    google::protobuf::ListValue list;
    const auto status = google::protobuf::util::JsonStringToMessage(
        std::string(json), &list, google::protobuf::util::JsonParseOptions());
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "not a JSON array of arrivals: ", status.message().as_string()));
    }
    for (int i = 0; i < list.values_size(); ++i) {
      // Each element goes back through JSON so that Arrival's own mapping
      // (timestamps, maps) applies.
      std::string element;
      if (!google::protobuf::util::MessageToJsonString(list.values(i), &element)
               .ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("element ", i + 1, ": not JSON"));
      }
      if (absl::Status s =
              ParseArrival(element, absl::StrCat("element ", i + 1),
                           &arrivals->emplace_back());
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(json, '\n')) {
    ++line_number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    if (absl::Status s =
            ParseArrival(std::string(line), absl::StrCat("line ", line_number),
                         &arrivals->emplace_back());
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status OpenScheduler(std::shared_ptr<const Pipeline> pipeline,
                           const char* store_uri, landfall_scheduler_t** out,
                           const StoreOpenOptions& store_options = {}) {
  absl::StatusOr<std::shared_ptr<StateStore>> store =
      OpenStateStore(store_uri, store_options);
  if (!store.ok()) return store.status();
  auto held = std::make_shared<Held>();
  SchedulerOptions options;
  options.observer = &held->subscriptions;
  absl::StatusOr<std::unique_ptr<Scheduler>> scheduler =
      pipeline == nullptr
          ? Scheduler::Open(*std::move(store), options)
          : Scheduler::Open(std::move(pipeline), *std::move(store), options);
  if (!scheduler.ok()) return scheduler.status();
  held->scheduler = *std::move(scheduler);
  held->pipeline_name = held->scheduler->pipeline().name();
  for (const SpecProblem& w : held->scheduler->pipeline().warnings()) {
    absl::StrAppend(&held->pipeline_warnings, w.ToString(), "\n");
  }
  *out = new landfall_scheduler_t{std::move(held)};
  return absl::OkStatus();
}

// Pipeline::FromFile, but a directory is the caller's mistake: reading one
// fails with EISDIR, which would read as "retry" (UNAVAILABLE).
absl::StatusOr<std::shared_ptr<const Pipeline>> SpecFromFile(const char* path) {
  struct stat info;
  if (stat(path, &info) == 0 && S_ISDIR(info.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("spec ", path, " is a directory, not a spec file"));
  }
  return Pipeline::FromFile(path);
}

// The pipeline loaded, or its error.
absl::Status OpenWith(absl::StatusOr<std::shared_ptr<const Pipeline>> pipeline,
                      const char* store_uri, landfall_scheduler_t** out) {
  if (!pipeline.ok()) return pipeline.status();
  return OpenScheduler(*std::move(pipeline), store_uri, out);
}

const char* const kCodeNames[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

}  // namespace
}  // namespace landfall::capi

using landfall::capi::Call;
using landfall::capi::CopyResult;

extern "C" {

const char* landfall_status_name(int code) {
  constexpr int kCount = sizeof(landfall::capi::kCodeNames) /
                         sizeof(landfall::capi::kCodeNames[0]);
  return code >= 0 && code < kCount ? landfall::capi::kCodeNames[code]
                                    : "UNRECOGNIZED";
}

void landfall_free(void* ptr) { std::free(ptr); }

const char* landfall_version(void) { return landfall::Version(); }

int landfall_scheduler_open(const char* spec_path, const char* store_uri,
                            landfall_scheduler_t** out, char** errmsg) {
  return Call(__func__, errmsg, {{"store_uri", store_uri}, {"out", out}}, [&] {
    if (spec_path == nullptr) {
      // A store made now would hold no pipeline to run.
      landfall::StoreOpenOptions options;
      options.create = false;
      return landfall::capi::OpenScheduler(nullptr, store_uri, out, options);
    }
    return landfall::capi::OpenWith(landfall::capi::SpecFromFile(spec_path),
                                    store_uri, out);
  });
}

int landfall_scheduler_open_read_only(const char* store_uri,
                                      landfall_scheduler_t** out,
                                      char** errmsg) {
  return Call(__func__, errmsg, {{"store_uri", store_uri}, {"out", out}}, [&] {
    landfall::StoreOpenOptions options;
    options.read_only = true;
    return landfall::capi::OpenScheduler(nullptr, store_uri, out, options);
  });
}

int landfall_scheduler_open_text(const char* spec, size_t spec_len,
                                 const char* spec_name, const char* store_uri,
                                 landfall_scheduler_t** out, char** errmsg) {
  return Call(
      __func__, errmsg,
      {{"spec", spec}, {"store_uri", store_uri}, {"out", out}}, [&] {
        return landfall::capi::OpenWith(
            landfall::Pipeline::FromText(
                std::string_view(spec, spec_len), landfall::SpecFormat::kAuto,
                spec_name == nullptr ? "<spec>" : spec_name),
            store_uri, out);
      });
}

int landfall_deploy(landfall_scheduler_t* s, const char* spec_path,
                    const char* const* adopt, size_t nadopt,
                    const char* const* rebuild, size_t nrebuild, int flags,
                    char** plan, char** errmsg) {
  return Call(
      __func__, errmsg,
      {{"s", s},
       {"spec_path", spec_path},
       {"plan", plan},
       {"adopt", nadopt == 0 ? "" : static_cast<const void*>(adopt)},
       {"rebuild", nrebuild == 0 ? "" : static_cast<const void*>(rebuild)}},
      [&] {
        landfall::DeployOptions options;
        for (size_t i = 0; i < nadopt + nrebuild; ++i) {
          const char* name = i < nadopt ? adopt[i] : rebuild[i - nadopt];
          if (name == nullptr) {
            return absl::InvalidArgumentError(absl::StrCat(
                "landfall_deploy: ", i < nadopt ? "adopt" : "rebuild", "[",
                i < nadopt ? i : i - nadopt, "] is NULL"));
          }
          (i < nadopt ? options.adopt : options.rebuild).emplace_back(name);
        }
        if ((flags & ~(LANDFALL_DEPLOY_FORCE | LANDFALL_DEPLOY_DRY_RUN)) != 0) {
          return absl::InvalidArgumentError(
              absl::StrCat("landfall_deploy: unknown flags ", flags));
        }
        options.force = (flags & LANDFALL_DEPLOY_FORCE) != 0;
        options.dry_run = (flags & LANDFALL_DEPLOY_DRY_RUN) != 0;
        absl::StatusOr<std::shared_ptr<const landfall::Pipeline>> next =
            landfall::capi::SpecFromFile(spec_path);
        if (!next.ok()) return next.status();
        absl::StatusOr<landfall::DeployPlan> done =
            s->scheduler().Deploy(*next, options);
        if (!done.ok()) return done.status();
        if (!options.dry_run) {
          s->held->pipeline_name = s->scheduler().pipeline().name();
        }
        *plan =
            CopyResult(landfall::capi::DeployPlanJson(*done, options.dry_run));
        return absl::OkStatus();
      });
}

void landfall_scheduler_close(landfall_scheduler_t* s) {
  if (s == nullptr) return;
  s->held->subscriptions.Clear();
  delete s;
}

const char* landfall_pipeline_name(landfall_scheduler_t* s) {
  return s == nullptr ? nullptr : s->held->pipeline_name.c_str();
}

const char* landfall_pipeline_warnings(landfall_scheduler_t* s) {
  return s == nullptr ? nullptr : s->held->pipeline_warnings.c_str();
}

int landfall_ingest(landfall_scheduler_t* s, const char* event_id,
                    const char* table, const char* partition, const char* at,
                    const char* origin, int* duplicate, char** errmsg) {
  return Call(
      __func__, errmsg, {{"s", s}, {"event_id", event_id}, {"table", table}},
      [&] {
        landfall::Arrival arrival;
        arrival.set_event_id(event_id);
        arrival.set_table(table);
        if (partition != nullptr) arrival.set_partition(partition);
        if (origin != nullptr) arrival.set_origin(origin);
        if (at != nullptr) {
          absl::Time t;
          std::string error;
          if (!absl::ParseTime(absl::RFC3339_full, at, &t, &error)) {
            return absl::InvalidArgumentError(absl::StrCat(
                "landfall_ingest: bad time \"", at, "\" (RFC 3339): ", error));
          }
          const int64_t seconds = absl::ToUnixSeconds(t);
          arrival.mutable_at()->set_seconds(seconds);
          arrival.mutable_at()->set_nanos(static_cast<int32_t>(
              absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
        }
        absl::StatusOr<landfall::IngestResult> result =
            s->scheduler().Ingest(arrival);
        if (!result.ok()) return result.status();
        if (duplicate != nullptr) *duplicate = result->duplicate ? 1 : 0;
        return absl::OkStatus();
      });
}

int landfall_ingest_json(landfall_scheduler_t* s, const char* json,
                         size_t json_len, char** results, char** errmsg) {
  if (results != nullptr) *results = nullptr;
  return Call(__func__, errmsg, {{"s", s}, {"json", json}}, [&] {
    std::vector<landfall::Arrival> arrivals;
    absl::Status parsed = landfall::capi::ParseArrivals(
        absl::string_view(json, json_len), &arrivals);
    if (!parsed.ok()) return parsed;
    absl::StatusOr<std::vector<landfall::IngestResult>> ingested =
        s->scheduler().IngestBatch(arrivals);
    if (!ingested.ok()) return ingested.status();
    if (results != nullptr) {
      std::string lines;
      for (size_t i = 0; i < arrivals.size(); ++i) {
        absl::StrAppend(&lines,
                        landfall::capi::IngestResultJson(arrivals[i].event_id(),
                                                         (*ingested)[i]),
                        "\n");
      }
      *results = CopyResult(lines);
    }
    return absl::OkStatus();
  });
}

int landfall_status(landfall_scheduler_t* s, const char* table,
                    const char* state, char** json, char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"json", json}}, [&] {
    landfall::ListFilter filter;
    if (table != nullptr && *table != '\0') {
      if (!s->scheduler().pipeline().FindTable(table)) {
        return absl::NotFoundError(
            absl::StrCat("landfall_status: unknown table \"", table, "\""));
      }
      filter.table = table;
    }
    if (state != nullptr) {
      filter.state = landfall::TaskStateFromName(state);
      if (!filter.state) {
        std::vector<std::string> names;
        for (landfall::TaskState candidate : landfall::AllTaskStates()) {
          names.push_back(landfall::TaskStateName(candidate));
        }
        return absl::InvalidArgumentError(
            absl::StrCat("landfall_status: unknown state \"", state, "\" (",
                         absl::StrJoin(names, ", "), ")"));
      }
    }
    std::string lines;
    for (const landfall::TaskStatus& t : s->scheduler().List(filter).tasks) {
      absl::StrAppend(&lines, landfall::capi::StatusJson(t), "\n");
    }
    *json = CopyResult(lines);
    return absl::OkStatus();
  });
}

int landfall_read_history(landfall_scheduler_t* s, int64_t from_seq, size_t max,
                          char** json, char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"json", json}}, [&] {
    absl::StatusOr<std::vector<landfall::HistoryEntry>> entries =
        s->scheduler().ReadHistory(from_seq, max);
    if (!entries.ok()) return entries.status();
    std::string lines;
    for (const landfall::HistoryEntry& h : *entries) {
      absl::StrAppend(&lines, EntryJson(h), "\n");
    }
    *json = CopyResult(lines);
    return absl::OkStatus();
  });
}

int64_t landfall_last_sequence(landfall_scheduler_t* s) {
  return s == nullptr ? 0 : s->scheduler().LastSequence();
}

int landfall_subscribe(landfall_scheduler_t* s, int64_t from_seq,
                       landfall_entry_fn on_entry, void* state,
                       void (*destroy)(void*), uint64_t* id, char** errmsg) {
  return Call(
      __func__, errmsg,
      {{"s", s},
       {"on_entry", reinterpret_cast<const void*>(on_entry)},
       {"id", id}},
      [&] {
        landfall::capi::Subscriptions& subs = s->held->subscriptions;
        // Registered first, so that what is appended while it reads the
        // held history waits for it; FinishCatchUp drops the overlap.
        const uint64_t added =
            subs.Add(std::make_unique<landfall::capi::Subscription>(
                on_entry, state, destroy, std::max<int64_t>(from_seq, 1)));
        try {
          landfall::capi::Subscription* sub = subs.Get(added);
          constexpr size_t kBatch = 4096;
          while (true) {
            absl::StatusOr<std::vector<landfall::HistoryEntry>> batch =
                s->scheduler().ReadHistory(sub->next_seq, kBatch);
            if (!batch.ok()) {
              subs.Remove(added);  // Not armed yet: `destroy` is not called.
              return batch.status();
            }
            if (batch->empty()) break;
            for (const landfall::HistoryEntry& h : *batch) {
              sub->Deliver(h.seq, EntryJson(h));
            }
          }
          subs.FinishCatchUp(added);
        } catch (...) {
          subs.Remove(added);  // Not armed yet: `destroy` is not called.
          throw;
        }
        *id = added;
        return absl::OkStatus();
      });
}

int landfall_unsubscribe(landfall_scheduler_t* s, uint64_t id, char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}}, [&] {
    if (!s->held->subscriptions.Remove(id)) {
      return absl::NotFoundError(
          absl::StrCat("landfall_unsubscribe: no subscription ", id));
    }
    return absl::OkStatus();
  });
}

int landfall_pause_table(landfall_scheduler_t* s, const char* table,
                         char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"table", table}},
              [&] { return s->scheduler().PauseTable(table); });
}

int landfall_resume_table(landfall_scheduler_t* s, const char* table,
                          char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"table", table}},
              [&] { return s->scheduler().ResumeTable(table); });
}

int landfall_pause_class(landfall_scheduler_t* s, const char* priority_class,
                         char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"priority_class", priority_class}},
              [&] { return s->scheduler().PauseClass(priority_class); });
}

int landfall_resume_class(landfall_scheduler_t* s, const char* priority_class,
                          char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"priority_class", priority_class}},
              [&] { return s->scheduler().ResumeClass(priority_class); });
}

}  // extern "C"
