#include "lib/sinks/bigquery/job_client.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "lib/sinks/bigquery/rest_json.h"

namespace landfall::internal {
namespace {

// Percent-encodes everything outside RFC 3986's unreserved characters.
std::string UrlEscape(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

// The status for a response other than 200.
absl::Status HttpError(const std::string& what, const HttpResponse& response) {
  bigquery_rest::ErrorResponse error;
  (void)ParseRestJson(response.body, &error);
  std::string reason = error.error().errors_size() > 0
                           ? error.error().errors(0).reason()
                           : error.error().status();
  std::string message = absl::StrCat(what, ": HTTP ", response.status);
  if (!reason.empty()) absl::StrAppend(&message, " ", reason);
  if (!error.error().message().empty()) {
    absl::StrAppend(&message, ": ", error.error().message());
  }
  const long status = response.status;
  if (status == 409) return absl::AlreadyExistsError(message);
  if (status >= 500 || status == 429 || IsRetryableReason(reason)) {
    return absl::UnavailableError(message);
  }
  if (status == 401) return absl::UnauthenticatedError(message);
  if (status == 403) return absl::PermissionDeniedError(message);
  if (status == 404) return absl::NotFoundError(message);
  return absl::InvalidArgumentError(message);
}

}  // namespace

bool IsRetryableReason(const std::string& reason) {
  for (const char* r :
       {"backendError", "internalError", "rateLimitExceeded", "jobBackendError",
        "jobInternalError", "jobRateLimitExceeded"}) {
    if (reason == r) return true;
  }
  return false;
}

JobClient::JobClient(const JobClientOptions& options, TokenSource* tokens,
                     const std::atomic<bool>* abort)
    : options_(options), tokens_(tokens), abort_(abort) {
  http_.set_abort(abort);
}

absl::StatusOr<bigquery_rest::Job> JobClient::Insert(
    const bigquery_rest::Job& job) {
  std::string body;
  if (!google::protobuf::util::MessageToJsonString(job, &body).ok()) {
    return absl::InternalError("the job would not convert to JSON");
  }
  bigquery_rest::Job held;
  absl::Status s =
      Call(absl::StrCat("jobs.insert of job ", job.job_reference().job_id()),
           absl::StrCat(options_.endpoint, "/bigquery/v2/projects/",
                        UrlEscape(options_.project), "/jobs"),
           &body, &held);
  if (!s.ok()) return s;
  return held;
}

absl::StatusOr<bigquery_rest::Job> JobClient::Get(const std::string& job_id) {
  bigquery_rest::Job job;
  absl::Status s = Call(absl::StrCat("jobs.get of job ", job_id),
                        JobUrl(job_id, ""), nullptr, &job);
  if (!s.ok()) return s;
  return job;
}

absl::Status JobClient::Cancel(const std::string& job_id) {
  const std::string empty;
  return Call(absl::StrCat("jobs.cancel of job ", job_id),
              JobUrl(job_id, "/cancel"), &empty, nullptr);
}

std::string JobClient::JobUrl(const std::string& job_id,
                              const std::string& verb) const {
  std::string url = absl::StrCat(options_.endpoint, "/bigquery/v2/projects/",
                                 UrlEscape(options_.project), "/jobs/",
                                 UrlEscape(job_id), verb);
  if (!options_.location.empty()) {
    absl::StrAppend(&url, "?location=", UrlEscape(options_.location));
  }
  return url;
}

absl::Status JobClient::Call(const std::string& what, const std::string& url,
                             const std::string* body, bigquery_rest::Job* job) {
  absl::StatusOr<HttpResponse> response;
  for (int tries = 0; tries < 2; ++tries) {
    absl::StatusOr<std::string> token = tokens_->Get(tries > 0, abort_);
    if (!token.ok()) return token.status();
    const std::vector<std::pair<std::string, std::string>> headers = {
        {"Authorization", absl::StrCat("Bearer ", *token)},
        {"Content-Type", "application/json"}};
    response = body != nullptr
                   ? http_.Post(url, headers, *body, options_.request_timeout)
                   : http_.Get(url, headers, options_.request_timeout);
    if (!response.ok()) {
      return absl::Status(
          response.status().code(),
          absl::StrCat(what, ": ", response.status().message()));
    }
    if (response->status != 401) break;
  }
  if (response->status != 200) return HttpError(what, *response);
  if (job == nullptr) return absl::OkStatus();
  if (!ParseRestJson(response->body, job)) {
    return absl::UnavailableError(
        absl::StrCat(what, ": the answer is not a job (JSON)"));
  }
  return absl::OkStatus();
}

}  // namespace landfall::internal
