// The C API's runners: their options, the C executor, their metrics and
// the summary of a run.
#include <atomic>
#include <iterator>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "landfall/landfall.h"
#include "landfall/metrics.h"
#include "landfall/notifier.h"
#include "landfall/runner.h"
#include "landfall/scheduler.h"
#include "landfall/sink_executors.h"
#include "landfall/sqs_source.h"
#include "lib/capi/call.h"
#include "lib/capi/handles.h"

namespace landfall::capi {
namespace {

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

// Every state, in the order of the LANDFALL_TASK_ values (the C ABI's own
// numbers, apart from the C++ enum's).
constexpr TaskState kStates[] = {
    TaskState::kWaiting,   TaskState::kReady,     TaskState::kRunning,
    TaskState::kRetryWait, TaskState::kDead,      TaskState::kBlocked,
    TaskState::kPaused,    TaskState::kSucceeded, TaskState::kExpired};

}  // namespace
}  // namespace landfall::capi

using landfall::capi::Call;

extern "C" {

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
