#include "lib/sources/sqs/sqs_protocol.h"

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "google/protobuf/util/json_util.h"
#include "lib/runtime/json_object.h"

namespace landfall::internal {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

std::string StringArray(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& s : items) quoted.push_back(JsonString(s));
  return JsonArray(quoted);
}

// Batch entries: {"Id":"<i>", <field>:<value i>}.
std::string Entries(const std::string& field,
                    const std::vector<std::string>& values) {
  std::vector<std::string> entries;
  for (size_t i = 0; i < values.size(); ++i) {
    entries.push_back(
        JsonObject().Str("Id", std::to_string(i)).Str(field, values[i]).str());
  }
  return JsonArray(entries);
}

// The error's code: the part of "__type" after '#', or the query-protocol
// code SQS also sends in a header ("AWS.SimpleQueueService.NonExistentQueue;
// Sender").
std::string ErrorCode(const HttpResponse& response, const Struct& body) {
  std::string type = StringField(body, "__type");
  if (const size_t hash = type.rfind('#'); hash != std::string::npos) {
    type = type.substr(hash + 1);
  }
  const std::string query_error = response.Header("x-amzn-query-error");
  if (!query_error.empty()) return query_error.substr(0, query_error.find(';'));
  return type;
}

// Where SqsErrorStatus keeps the error's code.
constexpr char kErrorCodePayload[] = "type.landfall.dev/sqs.error_code";

bool AnyOf(const std::string& code, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (code == name) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<Struct> ParseJsonObject(const std::string& json,
                                       const std::string& what) {
  Struct out;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &out);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " is not a JSON object: ", status.message().as_string()));
  }
  return out;
}

std::string StringField(const Struct& object, const std::string& name) {
  auto it = object.fields().find(name);
  if (it == object.fields().end() || !it->second.has_string_value()) return "";
  return it->second.string_value();
}

std::string ReceiveMessageRequest(const std::string& queue_url,
                                  int max_messages, int wait_seconds,
                                  int visibility_timeout_seconds) {
  // Both spellings of the attribute list: older servers read the first.
  // SentTimestamp gives the age of the messages (queue_stats.h).
  const std::vector<std::string> attributes = {"ApproximateReceiveCount",
                                               "SentTimestamp"};
  return JsonObject()
      .Str("QueueUrl", queue_url)
      .Int("MaxNumberOfMessages", max_messages)
      .Int("WaitTimeSeconds", wait_seconds)
      .Int("VisibilityTimeout", visibility_timeout_seconds)
      .Raw("AttributeNames", StringArray(attributes))
      .Raw("MessageSystemAttributeNames", StringArray(attributes))
      .str();
}

absl::StatusOr<std::vector<SqsMessage>> ParseReceiveMessageResponse(
    const std::string& body) {
  absl::StatusOr<Struct> parsed =
      ParseJsonObject(body, "ReceiveMessage response");
  if (!parsed.ok()) return parsed.status();
  std::vector<SqsMessage> out;
  auto it = parsed->fields().find("Messages");
  if (it == parsed->fields().end()) return out;
  for (const Value& v : it->second.list_value().values()) {
    const Struct& m = v.struct_value();
    SqsMessage message;
    message.message_id = StringField(m, "MessageId");
    message.receipt_handle = StringField(m, "ReceiptHandle");
    message.body = StringField(m, "Body");
    if (message.receipt_handle.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ReceiveMessage response: message ", message.message_id,
                       " has no ReceiptHandle"));
    }
    if (auto a = m.fields().find("Attributes"); a != m.fields().end()) {
      const Struct& attributes = a->second.struct_value();
      (void)absl::SimpleAtoi(StringField(attributes, "ApproximateReceiveCount"),
                             &message.receive_count);
      int64_t sent_ms = 0;
      if (absl::SimpleAtoi(StringField(attributes, "SentTimestamp"),
                           &sent_ms)) {
        message.sent = absl::FromUnixMillis(sent_ms);
      }
    }
    out.push_back(std::move(message));
  }
  return out;
}

std::string DeleteMessageBatchRequest(
    const std::string& queue_url,
    const std::vector<std::string>& receipt_handles) {
  return JsonObject()
      .Str("QueueUrl", queue_url)
      .Raw("Entries", Entries("ReceiptHandle", receipt_handles))
      .str();
}

absl::StatusOr<std::vector<SqsBatchFailure>> ParseBatchResponse(
    const std::string& body) {
  absl::StatusOr<Struct> parsed = ParseJsonObject(body, "batch response");
  if (!parsed.ok()) return parsed.status();
  std::vector<SqsBatchFailure> out;
  auto it = parsed->fields().find("Failed");
  if (it == parsed->fields().end()) return out;
  for (const Value& v : it->second.list_value().values()) {
    const Struct& f = v.struct_value();
    out.push_back({StringField(f, "Id"), StringField(f, "Code"),
                   StringField(f, "Message")});
  }
  return out;
}

std::string ChangeMessageVisibilityBatchRequest(
    const std::string& queue_url,
    const std::vector<std::string>& receipt_handles,
    int visibility_timeout_seconds) {
  std::vector<std::string> entries;
  for (size_t i = 0; i < receipt_handles.size(); ++i) {
    entries.push_back(JsonObject()
                          .Str("Id", std::to_string(i))
                          .Str("ReceiptHandle", receipt_handles[i])
                          .Int("VisibilityTimeout", visibility_timeout_seconds)
                          .str());
  }
  return JsonObject()
      .Str("QueueUrl", queue_url)
      .Raw("Entries", JsonArray(entries))
      .str();
}

std::string SendMessageRequest(const std::string& queue_url,
                               const std::string& body) {
  return JsonObject().Str("QueueUrl", queue_url).Str("MessageBody", body).str();
}

std::string SendMessageBatchRequest(const std::string& queue_url,
                                    const std::vector<std::string>& bodies) {
  return JsonObject()
      .Str("QueueUrl", queue_url)
      .Raw("Entries", Entries("MessageBody", bodies))
      .str();
}

std::string CreateQueueRequest(
    const std::string& name,
    const std::map<std::string, std::string>& attributes) {
  JsonObject attrs;
  for (const auto& [k, v] : attributes) attrs.Str(k, v);
  return JsonObject()
      .Str("QueueName", name)
      .Raw("Attributes", attrs.str())
      .str();
}

std::string GetQueueAttributesRequest(const std::string& queue_url) {
  return JsonObject()
      .Str("QueueUrl", queue_url)
      .Raw("AttributeNames", StringArray({"All"}))
      .str();
}

std::string QueueUrlRequest(const std::string& queue_url) {
  return JsonObject().Str("QueueUrl", queue_url).str();
}

namespace {

// The status of an error response (`fields` its body, `code` its error
// code), without the code as a payload.
absl::Status StatusOfError(const HttpResponse& response, const Struct& fields,
                           const std::string& code, const std::string& action,
                           const std::string& queue_url) {
  std::string message = StringField(fields, "message");
  if (message.empty()) message = StringField(fields, "Message");
  const std::string text =
      absl::StrCat("SQS ", action, " on ", queue_url, ": HTTP ",
                   response.status, code.empty() ? "" : absl::StrCat(" ", code),
                   message.empty() ? "" : absl::StrCat(": ", message));
  if (AnyOf(code,
            {"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
             "NonExistentQueue"})) {
    return absl::NotFoundError(text);
  }
  if (AnyOf(code, {"InvalidClientTokenId", "UnrecognizedClientException",
                   "SignatureDoesNotMatch", "IncompleteSignature",
                   "MissingAuthenticationToken", "ExpiredToken",
                   "InvalidSecurity", "InvalidSignatureException"})) {
    return absl::UnauthenticatedError(text);
  }
  if (AnyOf(code, {"AccessDenied", "AccessDeniedException",
                   "KMS.AccessDeniedException"})) {
    return absl::PermissionDeniedError(text);
  }
  if (response.status == 429 || response.status >= 500 ||
      absl::StrContains(code, "Throttl") ||
      AnyOf(code,
            {"RequestThrottled", "ServiceUnavailable", "InternalFailure",
             "InternalError", "RequestTimeout", "KMS.ThrottlingException"})) {
    return absl::UnavailableError(text);
  }
  if (response.status == 401) return absl::UnauthenticatedError(text);
  if (response.status == 403) return absl::PermissionDeniedError(text);
  return absl::InvalidArgumentError(text);
}

}  // namespace

absl::Status SqsErrorStatus(const HttpResponse& response,
                            const std::string& action,
                            const std::string& queue_url) {
  absl::StatusOr<Struct> body = ParseJsonObject(response.body, "error");
  const Struct fields = body.ok() ? *body : Struct();
  const std::string code = ErrorCode(response, fields);
  absl::Status status =
      StatusOfError(response, fields, code, action, queue_url);
  if (!code.empty()) status.SetPayload(kErrorCodePayload, absl::Cord(code));
  return status;
}

bool SqsErrorIsFatal(const absl::Status& status) {
  return absl::IsNotFound(status) || absl::IsUnauthenticated(status) ||
         absl::IsPermissionDenied(status);
}

std::string SqsErrorCode(const absl::Status& status) {
  absl::optional<absl::Cord> code = status.GetPayload(kErrorCodePayload);
  return code ? std::string(*code) : "";
}

bool SqsCredentialsMayBeStale(const absl::Status& status) {
  return absl::IsUnauthenticated(status) &&
         AnyOf(SqsErrorCode(status), {"ExpiredToken", "InvalidClientTokenId",
                                      "UnrecognizedClientException"});
}

}  // namespace landfall::internal
