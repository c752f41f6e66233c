// A client of one SQS endpoint over the JSON protocol, signed with
// Signature Version 4. Not thread-safe: one per thread (each keeps its
// own connection).
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/net/http_client.h"
#include "lib/sources/sqs/aws_credentials.h"
#include "lib/sources/sqs/sigv4.h"
#include "lib/sources/sqs/sqs_protocol.h"

namespace landfall::internal {

struct SqsClientConfig {
  std::string endpoint;  // "https://sqs.eu-west-1.amazonaws.com"
  std::string region;
  AwsCredentials credentials;
};

// The endpoint and region for `queue_url`: the given ones, else
// AWS_ENDPOINT_URL_SQS (then AWS_ENDPOINT_URL) and AWS_REGION (then
// AWS_DEFAULT_REGION), else the queue URL's own scheme and host, and the
// region its host names (sqs.<region>.amazonaws.com). InvalidArgument when
// the URL is not http(s) or no region can be found.
absl::StatusOr<SqsClientConfig> ResolveSqsConfig(const std::string& queue_url,
                                                 const std::string& endpoint,
                                                 const std::string& region);

class SqsClient {
 public:
  explicit SqsClient(SqsClientConfig config);

  // One call of `action` with the JSON `body`: the response body, or the
  // error SqsErrorStatus maps (Unavailable for a transport failure). Not
  // retried. `timeout` bounds the whole call.
  absl::StatusOr<std::string> Call(const std::string& action,
                                   const std::string& body,
                                   const std::string& queue_url,
                                   absl::Duration timeout = absl::Seconds(30));

  absl::StatusOr<std::vector<SqsMessage>> Receive(const std::string& queue_url,
                                                  int max_messages,
                                                  int wait_seconds,
                                                  int visibility_seconds);
  // Deletes up to kSqsMaxBatch messages; the entries that failed.
  absl::StatusOr<std::vector<SqsBatchFailure>> DeleteBatch(
      const std::string& queue_url,
      const std::vector<std::string>& receipt_handles);
  // Changes the visibility of up to kSqsMaxBatch messages; the entries that
  // failed (their Id the index in `receipt_handles`).
  absl::StatusOr<std::vector<SqsBatchFailure>> ChangeVisibilityBatch(
      const std::string& queue_url,
      const std::vector<std::string>& receipt_handles, int visibility_seconds);
  absl::Status Send(const std::string& queue_url, const std::string& body);
  // Sends up to kSqsMaxBatch messages; an error when any entry failed.
  absl::Status SendBatch(const std::string& queue_url,
                         const std::vector<std::string>& bodies);
  absl::StatusOr<std::string> CreateQueue(
      const std::string& name,
      const std::map<std::string, std::string>& attributes);
  absl::StatusOr<std::map<std::string, std::string>> GetAttributes(
      const std::string& queue_url);
  absl::Status Purge(const std::string& queue_url);

  // See HttpClient::set_abort: calls end as Cancelled once it is true.
  void set_abort(const std::atomic<bool>* abort) { http_.set_abort(abort); }

  const SqsClientConfig& config() const { return config_; }
  // Signs the next calls with `credentials`.
  void set_credentials(AwsCredentials credentials) {
    config_.credentials = std::move(credentials);
  }

 private:
  // A batch action: the entries that failed.
  absl::StatusOr<std::vector<SqsBatchFailure>> CallBatch(
      const std::string& action, const std::string& body,
      const std::string& queue_url);

  SqsClientConfig config_;
  std::string host_;  // The endpoint's host[:port], as signed.
  HttpClient http_;
};

// Runs `call` (a request of `client`). When the server answers that the
// credentials expired or are unknown, reads them again and, when they
// changed, runs it once more: temporary credentials rotate under a source
// that runs for days. Refused again, or unchanged, the error stands.
template <typename Call>
auto WithFreshCredentials(SqsClient& client, Call call) {
  auto result = call();
  if (!internal::SqsCredentialsMayBeStale(result.status())) return result;
  absl::StatusOr<internal::AwsCredentials> fresh =
      internal::LoadAwsCredentials();
  const internal::AwsCredentials& used = client.config().credentials;
  if (!fresh.ok() || (fresh->access_key_id == used.access_key_id &&
                      fresh->secret_access_key == used.secret_access_key &&
                      fresh->session_token == used.session_token)) {
    return result;
  }
  client.set_credentials(*std::move(fresh));
  return call();
}

}  // namespace landfall::internal
