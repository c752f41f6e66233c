#include "landfall/bigquery_executor.h"

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "lib/core/stable_hash.h"
#include "lib/pipeline/sql_template.h"
#include "lib/sinks/bigquery/job_client.h"
#include "lib/sinks/bigquery/token_source.h"
#include "lib/sinks/sql_attempt.h"

namespace landfall {
namespace {

constexpr size_t kMaxJobIdLength = 1024;
constexpr size_t kMaxPrefixLength = 100;
// jobs.insert sends in all when the response is lost.
constexpr int kInsertTries = 3;
// jobs.get failures in a row before the attempt gives up (RETRYABLE).
constexpr int kPollFailures = 5;

bool IsJobIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '-';
}

std::string JobIdPart(absl::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (!IsJobIdChar(c)) c = '_';
  }
  return out;
}

// Sleeps `d` unless `cancelled` turns true first; false then.
bool Wait(absl::Duration d, const std::atomic<bool>& cancelled) {
  const absl::Time end = absl::Now() + d;
  while (!cancelled.load(std::memory_order_relaxed)) {
    const absl::Duration left = end - absl::Now();
    if (left <= absl::ZeroDuration()) return true;
    absl::SleepFor(std::min(left, absl::Milliseconds(20)));
  }
  return false;
}

// What an attempt of one table runs.
struct ScriptPlan {
  std::string query;
  std::vector<SqlParameter> parameters;
  absl::Duration timeout;
};

class BigQueryExecutor : public Executor {
 public:
  BigQueryExecutor(const Pipeline& pipeline,
                   const BigQueryExecutorOptions& options,
                   std::unique_ptr<internal::TokenSource> tokens)
      : options_(options),
        client_options_{options.endpoint, options.project, options.location,
                        options.request_timeout},
        tokens_(std::move(tokens)),
        run_(absl::StrCat(absl::Hex(std::random_device()(), absl::kZeroPad8))) {
    for (const Table& table : pipeline.tables()) {
      const Sink* sink = pipeline.FindSink(table.sink);
      // Other tables' sql follows other rules ($1, ...).
      if (table.sql.empty() || sink == nullptr ||
          sink->kind != Sink::Kind::kBigQuery) {
        continue;
      }
      plans_.emplace(
          table.name,
          ScriptPlan{table.sql[0].text, table.sql[0].parameters,
                     table.statement_timeout != absl::InfiniteDuration()
                         ? table.statement_timeout
                         : options.job_timeout});
    }
  }

  AttemptResult Run(const ClaimedTask& task,
                    const std::atomic<bool>& cancelled) override {
    auto plan = plans_.find(task.task.table);
    if (plan == plans_.end()) {
      return AttemptResult{
          Outcome::FATAL,
          absl::StrCat("table \"", task.task.table,
                       "\" has no sql for BigQuery to run (it needs sql and "
                       "a bigquery sink)")};
    }
    const ScriptPlan& script = plan->second;
    const std::string job_id = JobId(task);
    internal::JobClient client(client_options_, tokens_.get(), &cancelled);
    absl::StatusOr<bigquery_rest::Job> job =
        Insert(client, Request(script, task, job_id), cancelled);
    // Whether the job may exist: inserted, or its answers lost.
    const bool sent = job.ok() || absl::IsUnavailable(job.status());
    if (job.ok()) {
      job = AwaitDone(client, job_id, *std::move(job), script, cancelled);
    }
    if (absl::IsDeadlineExceeded(job.status())) {
      CancelJob(job_id);
      return AttemptResult{
          Outcome::RETRYABLE,
          absl::StrCat("BigQuery job ", job_id, " did not finish within ",
                       absl::FormatDuration(script.timeout), ": cancelled")};
    }
    if (cancelled.load(std::memory_order_relaxed)) {
      CancelJob(job_id);
      return AttemptResult{Outcome::RETRYABLE,
                           absl::StrCat("BigQuery job ", job_id, ": stopped")};
    }
    if (!job.ok()) {
      // The job may run on though its answers were lost: a retry must not
      // run the script beside it.
      if (sent) CancelJob(job_id);
      return internal::FailedAttempt(job.status());
    }
    const bigquery_rest::ErrorProto& error = job->status().error_result();
    if (error.reason().empty() && error.message().empty()) {
      return AttemptResult{Outcome::SUCCEEDED,
                           absl::StrCat("BigQuery job ", job_id, " done")};
    }
    return AttemptResult{
        // `timeout`: BigQuery stopped the job at its jobTimeoutMs, as this
        // executor would have a little later.
        internal::IsRetryableReason(error.reason()) ||
                error.reason() == "timeout"
            ? Outcome::RETRYABLE
            : Outcome::FATAL,
        absl::StrCat("BigQuery job ", job_id, " failed: ", error.reason(), ": ",
                     error.message())};
  }

 private:
  // PREFIX_TABLE_PARTITION_aATTEMPT_HASH_RUN (bigquery_executor.h).
  std::string JobId(const ClaimedTask& task) const {
    const std::string exact = absl::StrCat(
        task.task.table, std::string(1, '\0'), task.task.partition);
    const std::string tail = absl::StrCat(
        "_a", task.attempt, "_",
        absl::Hex(internal::Fnv1a64(exact), absl::kZeroPad16), "_", run_);
    std::string head =
        absl::StrCat(options_.job_id_prefix, "_", JobIdPart(task.task.table),
                     "_", JobIdPart(task.task.partition));
    head.resize(std::min(head.size(), kMaxJobIdLength - tail.size()));
    return head + tail;
  }

  bigquery_rest::Job Request(const ScriptPlan& plan, const ClaimedTask& task,
                             const std::string& job_id) const {
    bigquery_rest::Job job;
    bigquery_rest::JobReference* ref = job.mutable_job_reference();
    ref->set_project_id(options_.project);
    ref->set_job_id(job_id);
    if (!options_.location.empty()) ref->set_location(options_.location);
    bigquery_rest::JobConfiguration* config = job.mutable_configuration();
    config->set_job_timeout_ms(absl::ToInt64Milliseconds(plan.timeout));
    bigquery_rest::JobConfigurationQuery* query = config->mutable_query();
    query->set_query(plan.query);
    query->set_use_legacy_sql(false);
    if (!plan.parameters.empty()) query->set_parameter_mode("NAMED");
    for (const SqlParameter& p : plan.parameters) {
      bigquery_rest::QueryParameter* q = query->add_query_parameters();
      q->set_name(internal::BigQueryParameterName(p));
      q->mutable_parameter_type()->set_type("STRING");
      q->mutable_parameter_value()->set_value(
          internal::ParameterValue(p, task));
    }
    return job;
  }

  // Job `job_id` (as `job`) once jobs.get says it is DONE, polled with backoff:
  // its failures, DeadlineExceeded past its timeout (and a tenth more, at most
  // a minute), or as it last was when `cancelled` turned true.
  absl::StatusOr<bigquery_rest::Job> AwaitDone(
      internal::JobClient& client, const std::string& job_id,
      bigquery_rest::Job job, const ScriptPlan& script,
      const std::atomic<bool>& cancelled) const {
    const absl::Time deadline = absl::Now() + script.timeout +
                                std::min(absl::Minutes(1), script.timeout / 10);
    absl::Duration delay = options_.poll_initial;
    int failures = 0;
    while (job.status().state() != "DONE") {
      if (absl::Now() >= deadline) return absl::DeadlineExceededError("");
      if (!Wait(std::min(delay, deadline - absl::Now()), cancelled)) break;
      delay = std::min(delay * 2, options_.poll_max);
      absl::StatusOr<bigquery_rest::Job> polled = client.Get(job_id);
      if (polled.ok()) {
        job = *std::move(polled);
        failures = 0;
      } else if (!absl::IsUnavailable(polled.status()) ||
                 ++failures == kPollFailures) {
        return polled.status();
      }
    }
    return job;
  }

  // jobs.insert, sent again with the same id while its response is lost;
  // a 409 then means an earlier send arrived: that job is followed.
  absl::StatusOr<bigquery_rest::Job> Insert(
      internal::JobClient& client, const bigquery_rest::Job& request,
      const std::atomic<bool>& cancelled) const {
    absl::StatusOr<bigquery_rest::Job> job;
    for (int tries = 1;; ++tries) {
      job = client.Insert(request);
      if (absl::IsAlreadyExists(job.status())) {
        return client.Get(request.job_reference().job_id());
      }
      if (!absl::IsUnavailable(job.status()) || tries == kInsertTries ||
          !Wait(options_.poll_initial, cancelled)) {
        return job;
      }
    }
  }

  // Best effort, on a client of its own: the attempt's was aborted.
  void CancelJob(const std::string& job_id) const {
    const std::atomic<bool> never(false);
    internal::JobClientOptions options = client_options_;
    options.request_timeout =
        std::min(options.request_timeout, absl::Seconds(10));
    (void)internal::JobClient(options, tokens_.get(), &never).Cancel(job_id);
  }

  const BigQueryExecutorOptions options_;
  const internal::JobClientOptions client_options_;
  const std::unique_ptr<internal::TokenSource> tokens_;
  const std::string run_;  // Tells this executor's job ids from others'.
  absl::flat_hash_map<std::string, ScriptPlan> plans_;
};

absl::Status CheckOptions(const BigQueryExecutorOptions& options) {
  if (options.project.empty()) {
    return absl::InvalidArgumentError("a BigQuery executor needs a project");
  }
  if (!options.token_command.empty() + !options.token_env.empty() +
          !options.key_file.empty() >
      1) {
    return absl::InvalidArgumentError(
        "a BigQuery executor takes one of token_command, token_env and "
        "key_file");
  }
  const std::string& prefix = options.job_id_prefix;
  if (prefix.empty() || prefix.size() > kMaxPrefixLength ||
      !std::all_of(prefix.begin(), prefix.end(), IsJobIdChar)) {
    return absl::InvalidArgumentError(
        absl::StrCat("job_id_prefix \"", prefix,
                     "\" must be 1 to 100 of A-Z, a-z, 0-9, _ and -"));
  }
  if (!absl::StartsWith(options.endpoint, "http://") &&
      !absl::StartsWith(options.endpoint, "https://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "endpoint \"", options.endpoint, "\" is not an http(s):// URL"));
  }
  if (options.poll_initial <= absl::ZeroDuration() ||
      options.poll_max <= absl::ZeroDuration() ||
      options.request_timeout <= absl::ZeroDuration() ||
      options.job_timeout <= absl::ZeroDuration() ||
      options.token_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "poll_initial, poll_max, request_timeout, job_timeout and "
        "token_timeout must be positive");
  }
  return absl::OkStatus();
}

std::unique_ptr<internal::TokenSource> NewTokenSource(
    const BigQueryExecutorOptions& options) {
  if (!options.token_command.empty()) {
    return internal::NewCommandTokenSource(options.token_command,
                                           options.token_timeout);
  }
  if (!options.key_file.empty()) {
    return internal::NewKeyFileTokenSource(
        options.key_file, internal::kBigQueryScope, options.request_timeout);
  }
  return internal::NewEnvTokenSource(options.token_env.empty()
                                         ? "GOOGLE_OAUTH_ACCESS_TOKEN"
                                         : options.token_env);
}

}  // namespace

absl::StatusOr<BigQueryExecutorOptions> BigQuerySinkOptions(
    const Pipeline& pipeline, const std::string& name) {
  absl::StatusOr<const Sink*> found =
      internal::DeclaredSink(pipeline, name, Sink::Kind::kBigQuery, "bigquery");
  if (!found.ok()) return found.status();
  const Sink* sink = *found;
  const BigQuerySinkSpec& bq = sink->spec.bigquery();
  BigQueryExecutorOptions options;
  options.project = bq.project();
  options.location = bq.location();
  if (!bq.endpoint().empty()) {
    options.endpoint = std::string(absl::StripSuffix(bq.endpoint(), "/"));
  }
  options.token_command = bq.token_command();
  options.token_env = bq.token_env();
  options.key_file = bq.key_file();
  options.job_timeout = sink->job_timeout;
  options.job_id_prefix =
      bq.job_id_prefix().empty()
          ? JobIdPart(absl::StrCat("landfall_", pipeline.name()))
                .substr(0, kMaxPrefixLength)
          : bq.job_id_prefix();
  return options;
}

absl::StatusOr<std::unique_ptr<Executor>> NewBigQueryExecutor(
    const Pipeline& pipeline, BigQueryExecutorOptions options) {
  if (absl::Status s = CheckOptions(options); !s.ok()) return s;
  std::unique_ptr<internal::TokenSource> tokens = NewTokenSource(options);
  return std::make_unique<BigQueryExecutor>(pipeline, options,
                                            std::move(tokens));
}

}  // namespace landfall
