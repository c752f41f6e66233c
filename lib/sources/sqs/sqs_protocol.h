// The SQS JSON protocol (application/x-amz-json-1.0, X-Amz-Target:
// AmazonSQS.<Action>): request bodies built and response bodies parsed,
// without any I/O, so that recorded bodies can test them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "lib/net/http_client.h"

namespace landfall::internal {

// At most this many messages per ReceiveMessage and entries per batch.
inline constexpr int kSqsMaxBatch = 10;
// The longest long poll SQS allows.
inline constexpr int kSqsMaxWaitSeconds = 20;

struct SqsMessage {
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  int receive_count = 0;  // ApproximateReceiveCount; 0 when not given.
  // SentTimestamp: when the queue accepted it; InfiniteFuture when not
  // given.
  absl::Time sent = absl::InfiniteFuture();
};

// One entry of a batch request that failed.
struct SqsBatchFailure {
  std::string id;
  std::string code;
  std::string message;
};

// A JSON body parsed into a Struct; InvalidArgument naming `what`.
absl::StatusOr<google::protobuf::Struct> ParseJsonObject(
    const std::string& json, const std::string& what);
// The string field `name` of `object`, or "".
std::string StringField(const google::protobuf::Struct& object,
                        const std::string& name);

std::string ReceiveMessageRequest(const std::string& queue_url,
                                  int max_messages, int wait_seconds,
                                  int visibility_timeout_seconds);
absl::StatusOr<std::vector<SqsMessage>> ParseReceiveMessageResponse(
    const std::string& body);

// Entries are numbered "0", "1", ... in the order of `receipt_handles`.
std::string DeleteMessageBatchRequest(
    const std::string& queue_url,
    const std::vector<std::string>& receipt_handles);
// The entries that failed (none when all succeeded).
absl::StatusOr<std::vector<SqsBatchFailure>> ParseBatchResponse(
    const std::string& body);

// Entries are numbered "0", "1", ... in the order of `receipt_handles`, each
// with the same timeout.
std::string ChangeMessageVisibilityBatchRequest(
    const std::string& queue_url,
    const std::vector<std::string>& receipt_handles,
    int visibility_timeout_seconds);
std::string SendMessageRequest(const std::string& queue_url,
                               const std::string& body);
// Entries are numbered "0", "1", ... in the order of `bodies`.
std::string SendMessageBatchRequest(const std::string& queue_url,
                                    const std::vector<std::string>& bodies);
std::string CreateQueueRequest(
    const std::string& name,
    const std::map<std::string, std::string>& attributes);
std::string GetQueueAttributesRequest(const std::string& queue_url);
std::string QueueUrlRequest(const std::string& queue_url);

// The status an SQS error response stands for, its message naming
// `action` and `queue_url` (never credentials):
// - NotFound: the queue does not exist (QueueDoesNotExist,
//   AWS.SimpleQueueService.NonExistentQueue);
// - Unauthenticated / PermissionDenied: credentials refused or not allowed
//   (a signature mismatch, an unknown or expired key, access denied);
// - Unavailable: worth retrying with backoff (throttling, 5xx, a request
//   timeout);
// - InvalidArgument: anything else the service refused.
absl::Status SqsErrorStatus(const HttpResponse& response,
                            const std::string& action,
                            const std::string& queue_url);

// Whether `status` stops the source rather than being retried.
bool SqsErrorIsFatal(const absl::Status& status);

// The SQS error code a status of SqsErrorStatus carries ("ExpiredToken"),
// or "" for any other status.
std::string SqsErrorCode(const absl::Status& status);

// Whether `status` says the request's credentials have expired or are no
// longer known (ExpiredToken, InvalidClientTokenId, ...): temporary
// credentials rotated since they were read, so fresh ones may work.
bool SqsCredentialsMayBeStale(const absl::Status& status);

}  // namespace landfall::internal
