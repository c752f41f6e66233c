// The C API: each function checks its required arguments, calls the C++ API
// and turns its Status into a code and a malloc'd message.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <iterator>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "landfall/landfall.h"
#include "landfall/metrics.h"
#include "landfall/notifier.h"
#include "landfall/pipeline.h"
#include "landfall/runner.h"
#include "landfall/scheduler.h"
#include "landfall/sink_executors.h"
#include "landfall/sqs_source.h"
#include "landfall/state_store.h"
#include "landfall/version.h"
#include "lib/capi/records_json.h"
#include "lib/core/rfc3339.h"

using landfall::capi::EntryJson;

// The handles. Each lives in the global namespace, as the header declares it.

struct landfall_task_t {
  std::string table;
  std::string partition;
  int64_t attempt = 0;
  std::string pool;
  std::string priority_class;
  std::string sink;
  std::string lease_deadline;
  std::string inputs_json;
  std::vector<std::string> origins;  // Every input's, input by input.
  bool origins_complete = true;
  // Set for an attempt a runner hands to its executor.
  const std::atomic<bool>* cancelled = nullptr;
};

struct landfall_claims_t {
  std::vector<landfall_task_t> tasks;
};

namespace landfall::capi {
namespace {

// A subscription to the history through the C callback it was given.
struct Subscription {
  Subscription(landfall_entry_fn fn, void* state, void (*destroy)(void*),
               int64_t next_seq)
      : fn(fn), state(state), destroy(destroy), next_seq(next_seq) {}
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() {
    if (armed && destroy != nullptr) destroy(state);
  }
  // Delivers `entry` unless the subscriber has it already.
  void Deliver(int64_t seq, const std::string& json) {
    if (seq < next_seq) return;
    fn(state, json.c_str(), json.size());
    next_seq = seq + 1;
  }

  landfall_entry_fn fn;
  void* state;
  void (*destroy)(void*);
  int64_t next_seq;
  // Off until registration succeeded: a failed one never calls `destroy`.
  bool armed = false;
  // While the subscriber reads the held history, new entries wait here.
  bool catching_up = true;
  std::vector<std::pair<int64_t, std::string>> pending;
};

// The scheduler's Observer, fanning entries out to the C subscriptions.
class Subscriptions : public Observer {
 public:
  void OnEntry(const HistoryEntry& entry) override {
    OnEntryView(EntryView(entry));
  }

  // Builds the whole entry only when a C subscriber wants it. Brackets
  // (BeginEntries) are not forwarded: forward_ may change between an
  // operation's first entry and its last, and an observer that held its
  // lock from one to the other would be left holding it.
  void OnEntryView(const EntryView& entry) override {
    absl::MutexLock lock(&mu_);
    if (forward_ != nullptr) forward_->OnEntryView(entry);
    if (subscriptions_.empty()) return;
    const std::string json = EntryJson(entry.ToHistoryEntry());
    for (auto& [id, sub] : subscriptions_) {
      if (sub->catching_up) {
        sub->pending.emplace_back(entry.seq, json);
      } else {
        sub->Deliver(entry.seq, json);
      }
    }
  }

  uint64_t Add(std::unique_ptr<Subscription> sub) {
    absl::MutexLock lock(&mu_);
    const uint64_t id = next_id_++;
    subscriptions_[id] = std::move(sub);
    return id;
  }

  // Called only by the subscribing thread while catching up, when no other
  // thread delivers to the subscription.
  Subscription* Get(uint64_t id) {
    absl::MutexLock lock(&mu_);
    return subscriptions_.at(id).get();
  }

  // Delivers what arrived while catching up and goes live.
  void FinishCatchUp(uint64_t id) {
    absl::MutexLock lock(&mu_);
    Subscription& sub = *subscriptions_.at(id);
    for (const auto& [seq, json] : sub.pending) sub.Deliver(seq, json);
    sub.pending.clear();
    sub.catching_up = false;
    sub.armed = true;
  }

  // Returns whether `id` was registered. Its `destroy` runs after the
  // lock is released: no call of it is running then, and none can start.
  bool Remove(uint64_t id) {
    std::unique_ptr<Subscription> removed;
    absl::MutexLock lock(&mu_);
    auto it = subscriptions_.find(id);
    if (it == subscriptions_.end()) return false;
    removed = std::move(it->second);
    subscriptions_.erase(it);
    return true;
  }

  // Also tells `observer` (a runner's metrics) of each entry; null stops.
  // False when another is told already.
  bool SetForward(Observer* observer) {
    absl::MutexLock lock(&mu_);
    if (observer != nullptr && forward_ != nullptr) return false;
    forward_ = observer;
    return true;
  }

  void Clear() {
    std::map<uint64_t, std::unique_ptr<Subscription>> removed;
    absl::MutexLock lock(&mu_);
    removed.swap(subscriptions_);
  }

 private:
  absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  Observer* forward_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::map<uint64_t, std::unique_ptr<Subscription>> subscriptions_
      ABSL_GUARDED_BY(mu_);
};

// What a scheduler handle and the runners made on it share.
struct Held {
  Subscriptions subscriptions;  // Declared first: outlives the scheduler.
  std::unique_ptr<Scheduler> scheduler;
  std::string pipeline_name;
  std::string pipeline_warnings;
};

}  // namespace
}  // namespace landfall::capi

struct landfall_scheduler_t {
  std::shared_ptr<landfall::capi::Held> held;
  landfall::Scheduler& scheduler() { return *held->scheduler; }
};

struct landfall_runner_options_t {
  landfall::RunnerOptions options;
  bool spec_sinks = false;
  std::map<std::string, std::string> conninfo_by_sink;
  std::vector<std::string> alert_webhooks;
  // Read at landfall_runner_create.
  std::vector<std::string> alert_webhook_envs;
  std::vector<std::string> alert_webhook_files;
  std::string metrics_listen;
  landfall::StatsdOptions statsd;
};

struct landfall_runner_t {
  // Declared first, so destroyed last: the runner and the exporters go
  // before the metrics they read.
  std::shared_ptr<landfall::capi::Held> held;
  std::unique_ptr<landfall::Metrics> metrics;
  std::unique_ptr<landfall::MetricsServer> metrics_server;
  std::unique_ptr<landfall::StatsdExporter> statsd;
  std::unique_ptr<landfall::Runner> runner;
  std::atomic<bool> started{false};
  ~landfall_runner_t();
};

struct landfall_run_summary_t {
  landfall::RunSummary summary;
};

namespace landfall::capi {

// The webhook URLs of `o`: given, then read from variables and files.
absl::StatusOr<std::vector<std::string>> AlertWebhooks(
    const landfall_runner_options_t& o) {
  std::vector<std::string> urls = o.alert_webhooks;
  for (const std::string& name : o.alert_webhook_envs) {
    absl::StatusOr<std::string> url = WebhookUrlFromEnv(name);
    if (!url.ok()) return url.status();
    urls.push_back(*std::move(url));
  }
  for (const std::string& path : o.alert_webhook_files) {
    absl::StatusOr<std::string> url = WebhookUrlFromFile(path);
    if (!url.ok()) return url.status();
    urls.push_back(*std::move(url));
  }
  return urls;
}

// The runner's metrics as `options` ask: none, a server, a DogStatsD
// exporter or both, fed by the scheduler's entries through `r.held`.
absl::Status StartMetrics(const landfall_runner_options_t& options,
                          landfall_runner_t& r) {
  if (options.metrics_listen.empty() && options.statsd.address.empty()) {
    return absl::OkStatus();
  }
  Scheduler& scheduler = *r.held->scheduler;
  MetricsOptions metrics_options;
  if (!options.statsd.address.empty()) {
    metrics_options.observation_buffer = 100000;
  }
  auto metrics =
      std::make_unique<Metrics>(scheduler.pipeline(), metrics_options);
  if (!r.held->subscriptions.SetForward(metrics.get())) {
    return absl::FailedPreconditionError(
        "another runner of this scheduler has metrics already");
  }
  // Held by the handle from here: its destructor undoes what follows.
  r.metrics = std::move(metrics);
  r.metrics->SetScheduler(&scheduler);
  if (!options.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsServer>> server =
        MetricsServer::Start(r.metrics.get(), options.metrics_listen);
    if (!server.ok()) return server.status();
    r.metrics_server = *std::move(server);
  }
  if (!options.statsd.address.empty()) {
    absl::StatusOr<std::unique_ptr<StatsdExporter>> statsd =
        StatsdExporter::Start(r.metrics.get(), options.statsd);
    if (!statsd.ok()) return statsd.status();
    r.statsd = *std::move(statsd);
  }
  return absl::OkStatus();
}

namespace {

// A malloc'd copy, or null when memory ran out.
char* CopyString(absl::string_view s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  return out;
}

// As CopyString, for results a caller asked for.
char* CopyResult(absl::string_view s) {
  char* out = CopyString(s);
  if (out == nullptr) throw std::bad_alloc();
  return out;
}

struct Arg {
  const char* name;
  const void* value;
};

// Checks the required arguments, then runs `body` (returning absl::Status),
// and reports its status through the return code and `errmsg`.
template <typename Body>
int Call(const char* function, char** errmsg, std::initializer_list<Arg> args,
         Body&& body) {
  absl::Status status;
  for (const Arg& arg : args) {
    if (arg.value == nullptr) {
      status = absl::InvalidArgumentError(
          absl::StrCat(function, ": ", arg.name, " is NULL"));
      break;
    }
  }
  if (status.ok()) {
    // C callers cannot catch C++ exceptions: they end here.
    try {
      status = body();
    } catch (const std::bad_alloc&) {
      status = absl::ResourceExhaustedError(
          absl::StrCat(function, ": out of memory"));
    } catch (const std::exception& e) {
      status = absl::InternalError(absl::StrCat(function, ": ", e.what()));
    } catch (...) {
      status = absl::InternalError(absl::StrCat(function, ": exception"));
    }
  }
  if (errmsg != nullptr) {
    std::free(*errmsg);
    *errmsg = status.ok() ? nullptr : CopyString(status.message());
  }
  return static_cast<int>(status.code());
}

TaskKey Key(const char* table, const char* partition) {
  return TaskKey{table, partition == nullptr ? "" : partition};
}

void Fill(const ClaimedTask& claimed, landfall_task_t* task) {
  task->table = claimed.task.table;
  task->partition = claimed.task.partition;
  task->attempt = claimed.attempt;
  task->pool = std::string(claimed.pool);
  task->priority_class = std::string(claimed.priority_class);
  task->sink = std::string(claimed.sink);
  task->lease_deadline = internal::Rfc3339(claimed.lease_deadline);
  task->inputs_json = InputsJson(claimed.inputs);
  task->origins.clear();
  task->origins_complete = true;
  for (const InputVersion& in : claimed.inputs) {
    task->origins.insert(task->origins.end(), in.origins.begin(),
                         in.origins.end());
    task->origins_complete = task->origins_complete && in.origins_complete;
  }
}

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

// The executor of a runner: the C callback with its state.
class CExecutor {
 public:
  CExecutor(landfall_executor_fn run, void* state, void (*destroy)(void*))
      : run_(run), state_(state), destroy_(destroy) {}
  CExecutor(const CExecutor&) = delete;
  CExecutor& operator=(const CExecutor&) = delete;
  ~CExecutor() {
    if (armed_ && destroy_ != nullptr) destroy_(state_);
  }
  void Arm() { armed_ = true; }

  AttemptResult Run(const ClaimedTask& claimed,
                    const std::atomic<bool>& cancelled) const {
    landfall_task_t task;
    Fill(claimed, &task);
    task.cancelled = &cancelled;
    char message[4096] = {};
    const int outcome = run_(state_, &task, message, sizeof(message));
    message[sizeof(message) - 1] = '\0';
    if (!Outcome_IsValid(outcome)) {
      return AttemptResult{
          Outcome::FATAL, absl::StrCat("executor returned ", outcome,
                                       ", which is not an outcome: ", message)};
    }
    return AttemptResult{static_cast<Outcome>(outcome), message};
  }

 private:
  landfall_executor_fn run_;
  void* state_;
  void (*destroy_)(void*);
  bool armed_ = false;  // A runner that failed to register never destroys.
};

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

// Every state, in the order of the LANDFALL_TASK_ values (the C ABI's own
// numbers, apart from the C++ enum's).
constexpr TaskState kStates[] = {
    TaskState::kWaiting,   TaskState::kReady,     TaskState::kRunning,
    TaskState::kRetryWait, TaskState::kDead,      TaskState::kBlocked,
    TaskState::kPaused,    TaskState::kSucceeded, TaskState::kExpired};

}  // namespace
}  // namespace landfall::capi

using landfall::capi::Call;
using landfall::capi::CopyResult;
using landfall::capi::Key;

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

const char* landfall_task_table(const landfall_task_t* t) {
  return t == nullptr ? nullptr : t->table.c_str();
}
const char* landfall_task_partition(const landfall_task_t* t) {
  return t == nullptr ? nullptr : t->partition.c_str();
}
int64_t landfall_task_attempt(const landfall_task_t* t) {
  return t == nullptr ? 0 : t->attempt;
}
const char* landfall_task_pool(const landfall_task_t* t) {
  return t == nullptr ? nullptr : t->pool.c_str();
}
const char* landfall_task_class(const landfall_task_t* t) {
  return t == nullptr ? nullptr : t->priority_class.c_str();
}
const char* landfall_task_sink(const landfall_task_t* t) {
  return t == nullptr ? nullptr : t->sink.c_str();
}
const char* landfall_task_lease_deadline(const landfall_task_t* t) {
  return t == nullptr ? nullptr : t->lease_deadline.c_str();
}
const char* landfall_task_inputs_json(const landfall_task_t* t) {
  return t == nullptr ? nullptr : t->inputs_json.c_str();
}
size_t landfall_task_origin_count(const landfall_task_t* t) {
  return t == nullptr ? 0 : t->origins.size();
}
const char* landfall_task_origin(const landfall_task_t* t, size_t i) {
  return t == nullptr || i >= t->origins.size() ? nullptr
                                                : t->origins[i].c_str();
}
int landfall_task_origins_complete(const landfall_task_t* t) {
  return t != nullptr && t->origins_complete ? 1 : 0;
}
int landfall_task_cancelled(const landfall_task_t* t) {
  return t != nullptr && t->cancelled != nullptr && t->cancelled->load() ? 1
                                                                         : 0;
}

int landfall_claim(landfall_scheduler_t* s, const char* worker, int max,
                   const char* const* pools, size_t npools,
                   const char* const* classes, size_t nclasses,
                   landfall_claims_t** out, char** errmsg) {
  return Call(
      __func__, errmsg,
      {{"s", s},
       {"worker", worker},
       {"out", out},
       {"pools", npools == 0 ? "" : static_cast<const void*>(pools)},
       {"classes", nclasses == 0 ? "" : static_cast<const void*>(classes)}},
      [&] {
        landfall::ClaimFilter filter;
        const landfall::Pipeline& pipeline = s->scheduler().pipeline();
        // A NULL name is the caller's mistake, not an unknown name.
        auto add = [](const char* list_name, const char* noun,
                      const char* const* names, size_t n, const auto& known,
                      std::vector<std::string>* out) {
          for (size_t i = 0; i < n; ++i) {
            if (names[i] == nullptr) {
              return absl::InvalidArgumentError(absl::StrCat(
                  "landfall_claim: ", list_name, "[", i, "] is NULL"));
            }
            if (!known(names[i])) {
              return absl::NotFoundError(absl::StrCat(
                  "landfall_claim: unknown ", noun, " \"", names[i], "\""));
            }
            out->emplace_back(names[i]);
          }
          return absl::OkStatus();
        };
        if (absl::Status bad = add(
                "pools", "pool", pools, npools,
                [&](const char* name) { return pipeline.FindPool(name); },
                &filter.pools);
            !bad.ok()) {
          return bad;
        }
        if (absl::Status bad = add(
                "classes", "priority class", classes, nclasses,
                [&](const char* name) {
                  return pipeline.FindPriorityClass(name);
                },
                &filter.classes);
            !bad.ok()) {
          return bad;
        }
        absl::StatusOr<std::vector<landfall::ClaimedTask>> claimed =
            s->scheduler().Claim(worker, max, filter);
        if (!claimed.ok()) return claimed.status();
        auto claims = std::make_unique<landfall_claims_t>();
        claims->tasks.resize(claimed->size());
        for (size_t i = 0; i < claimed->size(); ++i) {
          landfall::capi::Fill((*claimed)[i], &claims->tasks[i]);
        }
        *out = claims.release();
        return absl::OkStatus();
      });
}

size_t landfall_claims_count(const landfall_claims_t* c) {
  return c == nullptr ? 0 : c->tasks.size();
}

const landfall_task_t* landfall_claims_at(const landfall_claims_t* c,
                                          size_t i) {
  return c == nullptr || i >= c->tasks.size() ? nullptr : &c->tasks[i];
}

void landfall_claims_destroy(landfall_claims_t* c) { delete c; }

int landfall_heartbeat(landfall_scheduler_t* s, const char* table,
                       const char* partition, int64_t attempt, char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"table", table}}, [&] {
    return s->scheduler().Heartbeat(Key(table, partition), attempt);
  });
}

int landfall_complete(landfall_scheduler_t* s, const char* table,
                      const char* partition, int64_t attempt, int outcome,
                      const char* message, char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"table", table}}, [&] {
    if (!landfall::Outcome_IsValid(outcome)) {
      return absl::InvalidArgumentError(
          absl::StrCat("landfall_complete: unknown outcome ", outcome));
    }
    return s->scheduler().Complete(Key(table, partition), attempt,
                                   static_cast<landfall::Outcome>(outcome),
                                   message == nullptr ? "" : message);
  });
}

int landfall_explain(landfall_scheduler_t* s, const char* table,
                     const char* partition, char** text, char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"table", table}, {"text", text}},
              [&] {
                absl::StatusOr<landfall::Explanation> explanation =
                    s->scheduler().Explain(Key(table, partition));
                if (!explanation.ok()) return explanation.status();
                *text = CopyResult(explanation->ToString());
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

int landfall_redrive(landfall_scheduler_t* s, const char* table,
                     const char* partition, char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"table", table}},
              [&] { return s->scheduler().Redrive(Key(table, partition)); });
}

int landfall_mark_succeeded(landfall_scheduler_t* s, const char* table,
                            const char* partition, char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"table", table}}, [&] {
    return s->scheduler().MarkSucceeded(Key(table, partition));
  });
}

int landfall_rerun(landfall_scheduler_t* s, const char* table,
                   const char* partition, int with_descendants, char** errmsg) {
  return Call(__func__, errmsg, {{"s", s}, {"table", table}}, [&] {
    return s->scheduler().Rerun(Key(table, partition), with_descendants != 0);
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

landfall_runner_options_t* landfall_runner_options_create(void) {
  return new (std::nothrow) landfall_runner_options_t();
}

void landfall_runner_options_destroy(landfall_runner_options_t* o) { delete o; }

void landfall_runner_options_set_worker(landfall_runner_options_t* o,
                                        const char* worker) {
  if (o != nullptr) o->options.worker = worker == nullptr ? "" : worker;
}

static_assert(LANDFALL_MAX_WORKERS == landfall::RunnerOptions::kMaxWorkers,
              "the C API states the runner's cap");

void landfall_runner_options_set_max_workers(landfall_runner_options_t* o,
                                             int max_workers) {
  if (o != nullptr) o->options.max_workers = max_workers;
}

void landfall_runner_options_set_idle_poll_ms(landfall_runner_options_t* o,
                                              int64_t ms) {
  if (o != nullptr) o->options.idle_poll = absl::Milliseconds(ms);
}

void landfall_runner_options_set_spec_sinks(landfall_runner_options_t* o,
                                            int enabled) {
  if (o != nullptr) o->spec_sinks = enabled != 0;
}

void landfall_runner_options_set_sink_conninfo(landfall_runner_options_t* o,
                                               const char* sink,
                                               const char* conninfo) {
  if (o == nullptr || sink == nullptr) return;
  o->conninfo_by_sink[sink] = conninfo == nullptr ? "" : conninfo;
}

void landfall_runner_options_add_alert_webhook(landfall_runner_options_t* o,
                                               const char* url) {
  if (o != nullptr && url != nullptr) o->alert_webhooks.push_back(url);
}

void landfall_runner_options_add_alert_webhook_env(landfall_runner_options_t* o,
                                                   const char* name) {
  if (o != nullptr && name != nullptr) o->alert_webhook_envs.push_back(name);
}

void landfall_runner_options_add_alert_webhook_file(
    landfall_runner_options_t* o, const char* path) {
  if (o != nullptr && path != nullptr) o->alert_webhook_files.push_back(path);
}

void landfall_runner_options_set_alert_queue_wait_ms(
    landfall_runner_options_t* o, int64_t ms) {
  if (o == nullptr) return;
  o->options.alerts.queue_wait =
      ms <= 0 ? absl::InfiniteDuration() : absl::Milliseconds(ms);
}

void landfall_runner_options_set_alert_check_interval_ms(
    landfall_runner_options_t* o, int64_t ms) {
  if (o != nullptr) o->options.alerts.check_interval = absl::Milliseconds(ms);
}

void landfall_runner_options_set_metrics_listen(landfall_runner_options_t* o,
                                                const char* address) {
  if (o == nullptr) return;
  o->metrics_listen = address == nullptr ? "" : address;
}

void landfall_runner_options_set_statsd(landfall_runner_options_t* o,
                                        const char* address, const char* tags) {
  if (o == nullptr) return;
  o->statsd.address = address == nullptr ? "" : address;
  o->statsd.tags.clear();
  if (tags != nullptr) {
    o->statsd.tags = absl::StrSplit(tags, ',', absl::SkipWhitespace());
  }
}

int landfall_runner_create(landfall_scheduler_t* s,
                           const landfall_runner_options_t* options,
                           landfall_executor_fn run, void* state,
                           void (*destroy)(void*), landfall_runner_t** out,
                           char** errmsg) {
  return Call(
      __func__, errmsg,
      {{"s", s}, {"run", reinterpret_cast<const void*>(run)}, {"out", out}},
      [&] {
        landfall::RunnerOptions runner_options =
            options == nullptr ? landfall::RunnerOptions() : options->options;
        if (options != nullptr && options->spec_sinks) {
          absl::Status bound = landfall::AddSinkExecutors(
              s->scheduler().pipeline(), &runner_options,
              options->conninfo_by_sink);
          if (!bound.ok()) return bound;
        }
        std::vector<std::string> webhooks;
        if (options != nullptr) {
          absl::StatusOr<std::vector<std::string>> read =
              landfall::capi::AlertWebhooks(*options);
          if (!read.ok()) return read.status();
          webhooks = *std::move(read);
        }
        if (!webhooks.empty()) {
          landfall::WebhookOptions webhook;
          webhook.urls = std::move(webhooks);
          absl::StatusOr<std::unique_ptr<landfall::WebhookNotifier>> notifier =
              landfall::WebhookNotifier::Create(std::move(webhook));
          if (!notifier.ok()) return notifier.status();
          runner_options.notifier = *std::move(notifier);
        }
        auto executor =
            std::make_shared<landfall::capi::CExecutor>(run, state, destroy);
        runner_options.executor = landfall::NewCallbackExecutor(
            [executor](const landfall::ClaimedTask& task,
                       const std::atomic<bool>& cancelled) {
              return executor->Run(task, cancelled);
            });
        // The runner shares the scheduler, and with it the subscriptions
        // that the scheduler's Observer points to.
        absl::StatusOr<std::unique_ptr<landfall::Runner>> runner =
            landfall::Runner::Create(std::shared_ptr<landfall::Scheduler>(
                                         s->held, s->held->scheduler.get()),
                                     std::move(runner_options));
        if (!runner.ok()) return runner.status();
        auto handle = std::make_unique<landfall_runner_t>();
        handle->held = s->held;
        if (options != nullptr) {
          if (absl::Status m = landfall::capi::StartMetrics(*options, *handle);
              !m.ok()) {
            return m;
          }
        }
        handle->runner = *std::move(runner);
        executor->Arm();
        *out = handle.release();
        return absl::OkStatus();
      });
}

int landfall_runner_start(landfall_runner_t* r, char** errmsg) {
  return Call(__func__, errmsg, {{"r", r}}, [&] {
    if (r->started.exchange(true)) {
      return absl::FailedPreconditionError(
          "landfall_runner_start: the runner was started before");
    }
    return r->runner->Start();
  });
}

int landfall_runner_add_sqs_source(landfall_runner_t* r, const char* queue_url,
                                   const char* endpoint, const char* region,
                                   const char* key_rule, char** errmsg) {
  return Call(__func__, errmsg, {{"r", r}, {"queue_url", queue_url}}, [&] {
    if (r->started.load()) {
      return absl::FailedPreconditionError(
          "landfall_runner_add_sqs_source: the runner was started");
    }
    landfall::SqsSourceOptions options;
    options.queue_url = queue_url;
    if (endpoint != nullptr) options.endpoint = endpoint;
    if (region != nullptr) options.region = region;
    if (key_rule != nullptr && *key_rule != '\0') {
      options.key_rule = key_rule;
    }
    // The runner's metrics, when it has some, get the queue's figures.
    options.metrics = r->metrics.get();
    // A copy of its own: a deploy may replace the scheduler's.
    absl::StatusOr<std::shared_ptr<const landfall::Pipeline>> pipeline =
        landfall::Pipeline::FromSpec(r->runner->scheduler().pipeline().spec());
    if (!pipeline.ok()) return pipeline.status();
    absl::StatusOr<std::unique_ptr<landfall::SqsSource>> source =
        landfall::NewSqsSource(*std::move(pipeline), std::move(options));
    if (!source.ok()) return source.status();
    r->runner->AddSource(*std::move(source));
    return absl::OkStatus();
  });
}

void landfall_runner_notify(landfall_runner_t* r) {
  if (r != nullptr) r->runner->Notify();
}

void landfall_runner_stop(landfall_runner_t* r, int64_t grace_ms) {
  if (r != nullptr) r->runner->Stop(absl::Milliseconds(grace_ms));
}

void landfall_runner_stats(landfall_runner_t* r, int64_t* claimed,
                           int64_t* succeeded, int64_t* failed,
                           int64_t* abandoned, int* running) {
  if (r == nullptr) return;
  const landfall::RunnerStats stats = r->runner->stats();
  if (claimed != nullptr) *claimed = stats.claimed;
  if (succeeded != nullptr) *succeeded = stats.succeeded;
  if (failed != nullptr) *failed = stats.failed;
  if (abandoned != nullptr) *abandoned = stats.abandoned;
  if (running != nullptr) *running = stats.running;
}

int landfall_runner_wait_idle(landfall_runner_t* r, int64_t quiet_ms,
                              int64_t timeout_ms, landfall_run_summary_t** out,
                              char** errmsg) {
  return Call(__func__, errmsg, {{"r", r}, {"out", out}}, [&] {
    if (quiet_ms < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "landfall_runner_wait_idle: quiet_ms must not be negative (got ",
          quiet_ms, ")"));
    }
    auto summary = std::make_unique<landfall_run_summary_t>();
    summary->summary = r->runner->WaitUntilIdle(
        absl::Milliseconds(quiet_ms), timeout_ms < 0
                                          ? absl::InfiniteDuration()
                                          : absl::Milliseconds(timeout_ms));
    *out = summary.release();
    return absl::OkStatus();
  });
}

int landfall_run_summary_idle(const landfall_run_summary_t* s) {
  return s != nullptr && s->summary.idle ? 1 : 0;
}

int64_t landfall_run_summary_tasks(const landfall_run_summary_t* s, int state) {
  using landfall::capi::kStates;
  if (s == nullptr || state < 0 ||
      state >= static_cast<int>(std::size(kStates))) {
    return 0;
  }
  return s->summary.tasks.Of(kStates[state]);
}

int64_t landfall_run_summary_attempts(const landfall_run_summary_t* s,
                                      int outcome) {
  if (s == nullptr) return 0;
  const landfall::RunnerStats& a = s->summary.attempts;
  switch (outcome) {
    case LANDFALL_SUCCEEDED:
      return a.succeeded;
    case LANDFALL_RETRYABLE:
      return a.retryable;
    case LANDFALL_FATAL:
      return a.fatal;
    case LANDFALL_LEASE_EXPIRED:
      return a.abandoned;
    default:
      return 0;
  }
}

void landfall_run_summary_destroy(landfall_run_summary_t* s) { delete s; }

int landfall_runner_metrics_port(landfall_runner_t* r) {
  return r == nullptr || r->metrics_server == nullptr
             ? 0
             : r->metrics_server->port();
}

landfall_runner_t::~landfall_runner_t() {
  runner.reset();
  statsd.reset();
  metrics_server.reset();
  if (metrics != nullptr) {
    metrics->SetScheduler(nullptr);
    held->subscriptions.SetForward(nullptr);
  }
}

void landfall_runner_destroy(landfall_runner_t* r) { delete r; }

}  // extern "C"
