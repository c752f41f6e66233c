// BigQuery's jobs.insert, jobs.get and jobs.cancel over REST, with the
// access token of a TokenSource (refreshed once when the server answers
// 401). One per attempt: not thread-safe.
#pragma once

#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/net/http_client.h"
#include "lib/sinks/bigquery/bigquery_rest.pb.h"
#include "lib/sinks/bigquery/token_source.h"

namespace landfall::internal {

struct JobClientOptions {
  std::string endpoint;  // Base URL, without a trailing "/".
  std::string project;
  std::string location;  // "" leaves it to BigQuery.
  absl::Duration request_timeout;
};

// Whether a job's or a request's error reason is worth trying again.
bool IsRetryableReason(const std::string& reason);

// Errors of every call: Unavailable for what may pass (a transport
// failure, HTTP 5xx or 429, a retryable reason, a token source that is
// away), Cancelled when `abort` turned true, AlreadyExists for 409 (the job
// id is taken), and for the rest a code after the HTTP status
// (PermissionDenied 403, NotFound 404, Unauthenticated 401 twice,
// InvalidArgument other 4xx). Messages hold the call, the job id, the HTTP
// status and the server's reason and message; never the token.
class JobClient {
 public:
  JobClient(const JobClientOptions& options, TokenSource* tokens,
            const std::atomic<bool>* abort);

  // POST projects/P/jobs with `job`; the job as the server holds it.
  absl::StatusOr<bigquery_rest::Job> Insert(const bigquery_rest::Job& job);
  // GET projects/P/jobs/ID?location=L.
  absl::StatusOr<bigquery_rest::Job> Get(const std::string& job_id);
  // POST projects/P/jobs/ID/cancel?location=L.
  absl::Status Cancel(const std::string& job_id);

 private:
  // Sends one request (POST when `body` is set), with one token refresh and
  // resend on 401, and parses a 200's body into `job`.
  absl::Status Call(const std::string& what, const std::string& url,
                    const std::string* body, bigquery_rest::Job* job);
  std::string JobUrl(const std::string& job_id, const std::string& verb) const;

  const JobClientOptions& options_;
  TokenSource* tokens_;
  const std::atomic<bool>* abort_;
  HttpClient http_;
};

}  // namespace landfall::internal
