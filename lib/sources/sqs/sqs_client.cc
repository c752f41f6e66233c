#include "lib/sources/sqs/sqs_client.h"

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace landfall::internal {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// "https://host:port/path" -> ("https", "host:port"); false if not http(s).
bool SplitUrl(const std::string& url, std::string* scheme, std::string* host) {
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "https://")) {
    *scheme = "https";
  } else if (absl::ConsumePrefix(&rest, "http://")) {
    *scheme = "http";
  } else {
    return false;
  }
  *host = std::string(rest.substr(0, rest.find('/')));
  return !host->empty();
}

// "sqs.eu-west-1.amazonaws.com" -> "eu-west-1"; "" otherwise.
std::string RegionOfHost(const std::string& host) {
  std::vector<std::string> parts = absl::StrSplit(host, '.');
  if (parts.size() >= 4 && parts[0] == "sqs" &&
      absl::StartsWith(parts[2], "amazonaws")) {
    return parts[1];
  }
  return "";
}

}  // namespace

absl::StatusOr<SqsClientConfig> ResolveSqsConfig(const std::string& queue_url,
                                                 const std::string& endpoint,
                                                 const std::string& region) {
  std::string scheme, host;
  if (!SplitUrl(queue_url, &scheme, &host)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SQS queue URL \"", queue_url, "\" is not an http(s) URL"));
  }
  SqsClientConfig config;
  config.endpoint = endpoint;
  if (config.endpoint.empty()) config.endpoint = Env("AWS_ENDPOINT_URL_SQS");
  if (config.endpoint.empty()) config.endpoint = Env("AWS_ENDPOINT_URL");
  if (config.endpoint.empty()) config.endpoint = scheme + "://" + host;
  std::string endpoint_scheme, endpoint_host;
  if (!SplitUrl(config.endpoint, &endpoint_scheme, &endpoint_host)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SQS endpoint \"", config.endpoint, "\" is not an http(s) URL"));
  }
  config.region = region;
  if (config.region.empty()) config.region = Env("AWS_REGION");
  if (config.region.empty()) config.region = Env("AWS_DEFAULT_REGION");
  if (config.region.empty()) config.region = RegionOfHost(host);
  if (config.region.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no AWS region for SQS queue ", queue_url,
                     ": set AWS_REGION or give the region"));
  }
  return config;
}

SqsClient::SqsClient(SqsClientConfig config) : config_(std::move(config)) {
  // A receive holds up to 10 messages of up to 1 MiB each, JSON-escaped
  // (up to 6 bytes a byte): more than HttpClient's default allows.
  http_.set_max_body(size_t{64} << 20);
  std::string scheme;
  SplitUrl(config_.endpoint, &scheme, &host_);
  while (!config_.endpoint.empty() && config_.endpoint.back() == '/') {
    config_.endpoint.pop_back();
  }
}

absl::StatusOr<std::string> SqsClient::Call(const std::string& action,
                                            const std::string& body,
                                            const std::string& queue_url,
                                            absl::Duration timeout) {
  SigV4Request request;
  request.method = "POST";
  request.path = "/";
  request.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                     {"Host", host_},
                     {"X-Amz-Target", absl::StrCat("AmazonSQS.", action)}};
  request.payload = body;
  const SigV4Headers signature =
      SignV4(request, config_.credentials, config_.region, "sqs", absl::Now());
  std::vector<std::pair<std::string, std::string>> headers = request.headers;
  headers.emplace_back("X-Amz-Date", signature.amz_date);
  if (!signature.security_token.empty()) {
    headers.emplace_back("X-Amz-Security-Token", signature.security_token);
  }
  headers.emplace_back("Authorization", signature.authorization);
  absl::StatusOr<HttpResponse> response =
      http_.Post(config_.endpoint + "/", headers, body, timeout);
  if (!response.ok()) {
    if (absl::IsCancelled(response.status())) return response.status();
    return absl::UnavailableError(absl::StrCat(
        "SQS ", action, " on ", queue_url, ": ", response.status().message()));
  }
  if (response->status != 200) {
    return SqsErrorStatus(*response, action, queue_url);
  }
  return std::move(response->body);
}

absl::StatusOr<std::vector<SqsMessage>> SqsClient::Receive(
    const std::string& queue_url, int max_messages, int wait_seconds,
    int visibility_seconds) {
  absl::StatusOr<std::string> body =
      Call("ReceiveMessage",
           ReceiveMessageRequest(queue_url, max_messages, wait_seconds,
                                 visibility_seconds),
           queue_url, absl::Seconds(wait_seconds + 30));
  if (!body.ok()) return body.status();
  return ParseReceiveMessageResponse(*body);
}

absl::StatusOr<std::vector<SqsBatchFailure>> SqsClient::CallBatch(
    const std::string& action, const std::string& body,
    const std::string& queue_url) {
  absl::StatusOr<std::string> response = Call(action, body, queue_url);
  if (!response.ok()) return response.status();
  return ParseBatchResponse(*response);
}

absl::StatusOr<std::vector<SqsBatchFailure>> SqsClient::DeleteBatch(
    const std::string& queue_url,
    const std::vector<std::string>& receipt_handles) {
  return CallBatch("DeleteMessageBatch",
                   DeleteMessageBatchRequest(queue_url, receipt_handles),
                   queue_url);
}

absl::StatusOr<std::vector<SqsBatchFailure>> SqsClient::ChangeVisibilityBatch(
    const std::string& queue_url,
    const std::vector<std::string>& receipt_handles, int visibility_seconds) {
  return CallBatch("ChangeMessageVisibilityBatch",
                   ChangeMessageVisibilityBatchRequest(
                       queue_url, receipt_handles, visibility_seconds),
                   queue_url);
}

absl::Status SqsClient::Send(const std::string& queue_url,
                             const std::string& body) {
  return Call("SendMessage", SendMessageRequest(queue_url, body), queue_url)
      .status();
}

absl::Status SqsClient::SendBatch(const std::string& queue_url,
                                  const std::vector<std::string>& bodies) {
  absl::StatusOr<std::vector<SqsBatchFailure>> failed =
      CallBatch("SendMessageBatch", SendMessageBatchRequest(queue_url, bodies),
                queue_url);
  if (!failed.ok()) return failed.status();
  if (!failed->empty()) {
    return absl::InternalError(
        absl::StrCat("SQS SendMessageBatch on ", queue_url, ": ",
                     failed->size(), " entries failed, the first with ",
                     failed->front().code, ": ", failed->front().message));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SqsClient::CreateQueue(
    const std::string& name,
    const std::map<std::string, std::string>& attributes) {
  absl::StatusOr<std::string> body =
      Call("CreateQueue", CreateQueueRequest(name, attributes), name);
  if (!body.ok()) return body.status();
  absl::StatusOr<google::protobuf::Struct> parsed =
      ParseJsonObject(*body, "CreateQueue response");
  if (!parsed.ok()) return parsed.status();
  return StringField(*parsed, "QueueUrl");
}

absl::StatusOr<std::map<std::string, std::string>> SqsClient::GetAttributes(
    const std::string& queue_url) {
  absl::StatusOr<std::string> body = Call(
      "GetQueueAttributes", GetQueueAttributesRequest(queue_url), queue_url);
  if (!body.ok()) return body.status();
  absl::StatusOr<google::protobuf::Struct> parsed =
      ParseJsonObject(*body, "GetQueueAttributes response");
  if (!parsed.ok()) return parsed.status();
  std::map<std::string, std::string> out;
  if (auto it = parsed->fields().find("Attributes");
      it != parsed->fields().end()) {
    for (const auto& [k, v] : it->second.struct_value().fields()) {
      out[k] = v.string_value();
    }
  }
  return out;
}

absl::Status SqsClient::Purge(const std::string& queue_url) {
  return Call("PurgeQueue", QueueUrlRequest(queue_url), queue_url).status();
}

}  // namespace landfall::internal
