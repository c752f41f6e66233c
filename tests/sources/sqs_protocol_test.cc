// SQS JSON protocol bodies: requests as built, and responses as SQS sends
// them (recorded bodies), errors included.
#include "lib/sources/sqs/sqs_protocol.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace landfall::internal {
namespace {

constexpr char kQueue[] =
    "https://sqs.us-east-1.amazonaws.com/123456789012/landing";

HttpResponse Response(
    long status, std::string body,
    std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(SqsProtocolTest,
     ReceiveRequestAsksForLongPollingReceiveCountAndSentTimestamp) {
  EXPECT_EQ(ReceiveMessageRequest(kQueue, 10, 20, 30),
            "{\"QueueUrl\":\"https://sqs.us-east-1.amazonaws.com/123456789012/"
            "landing\",\"MaxNumberOfMessages\":10,\"WaitTimeSeconds\":20,"
            "\"VisibilityTimeout\":30,\"AttributeNames\":["
            "\"ApproximateReceiveCount\",\"SentTimestamp\"],"
            "\"MessageSystemAttributeNames\":[\"ApproximateReceiveCount\","
            "\"SentTimestamp\"]}");
}

TEST(SqsProtocolTest,
     ReceiveResponseGivesBodiesHandlesReceiveCountsAndSentTimes) {
  const std::string recorded = R"({"Messages":[
    {"Attributes":{"ApproximateReceiveCount":"3","SentTimestamp":"1541206800123"},
     "Body":"{\"Records\":[]}",
     "MD5OfBody":"d41d8cd98f00b204e9800998ecf8427e",
     "MessageId":"219f8380-5770-4cc2-8c3e-5c715e145f5e",
     "ReceiptHandle":"AQEBaZ+j5qUoOAoxlmrCQPkBm9njMWXqemmIG6shMHCO6fV20JrQYg/AiZ8JELwLwOu5U61W+aIX5Qzu7GGofxJuvzymr4Ph53RiR0mudj4InLSgpSspYeaRK7ljYW1b7GR/5QNm7wk4aTpsr3JCkglQGA4xD+ExCnhmqljhmVXuUS/SGSxZhb48AiXbq4s+KDn8ifQ=="},
    {"Body":"second","MessageId":"m2","ReceiptHandle":"h2"}]})";
  absl::StatusOr<std::vector<SqsMessage>> m =
      ParseReceiveMessageResponse(recorded);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0].message_id, "219f8380-5770-4cc2-8c3e-5c715e145f5e");
  EXPECT_EQ((*m)[0].body, "{\"Records\":[]}");
  EXPECT_EQ((*m)[0].receive_count, 3);
  EXPECT_EQ((*m)[0].receipt_handle.substr(0, 8), "AQEBaZ+j");
  EXPECT_EQ((*m)[1].receive_count, 0);
  EXPECT_EQ((*m)[0].sent, absl::FromUnixMillis(1541206800123));
  EXPECT_EQ((*m)[1].sent, absl::InfiniteFuture());
}

TEST(SqsProtocolTest, EmptyReceiveResponseIsNoMessages) {
  for (const char* body : {"{}", "{\"Messages\":[]}"}) {
    absl::StatusOr<std::vector<SqsMessage>> m =
        ParseReceiveMessageResponse(body);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_TRUE(m->empty());
  }
}

TEST(SqsProtocolTest, ReceiveResponseThatIsNotJsonIsRefused) {
  EXPECT_FALSE(ParseReceiveMessageResponse("<html>").ok());
  EXPECT_FALSE(
      ParseReceiveMessageResponse("{\"Messages\":[{\"Body\":\"x\"}]}").ok());
}

TEST(SqsProtocolTest, DeleteBatchNumbersItsEntries) {
  EXPECT_EQ(DeleteMessageBatchRequest("q", {"h0", "h1"}),
            "{\"QueueUrl\":\"q\",\"Entries\":[{\"Id\":\"0\",\"ReceiptHandle\":"
            "\"h0\"},{\"Id\":\"1\",\"ReceiptHandle\":\"h1\"}]}");
}

TEST(SqsProtocolTest, VisibilityBatchNumbersItsEntriesEachWithTheTimeout) {
  EXPECT_EQ(ChangeMessageVisibilityBatchRequest("q", {"h0", "h1"}, 30),
            "{\"QueueUrl\":\"q\",\"Entries\":[{\"Id\":\"0\",\"ReceiptHandle\":"
            "\"h0\",\"VisibilityTimeout\":30},{\"Id\":\"1\",\"ReceiptHandle\":"
            "\"h1\",\"VisibilityTimeout\":30}]}");
}

TEST(SqsProtocolTest, BatchResponseListsTheFailedEntries) {
  absl::StatusOr<std::vector<SqsBatchFailure>> failed = ParseBatchResponse(
      R"({"Failed":[{"Code":"ReceiptHandleIsInvalid","Id":"1",)"
      R"("Message":"The input receipt handle is invalid.","SenderFault":true}],)"
      R"("Successful":[{"Id":"0"}]})");
  ASSERT_TRUE(failed.ok()) << failed.status();
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].id, "1");
  EXPECT_EQ((*failed)[0].code, "ReceiptHandleIsInvalid");
  ASSERT_TRUE(ParseBatchResponse(R"({"Successful":[{"Id":"0"}]})")->empty());
}

TEST(SqsProtocolTest, NonExistentQueueIsNotFoundNamingTheQueue) {
  const absl::Status s = SqsErrorStatus(
      Response(400,
               R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist",)"
               R"("message":"The specified queue does not exist."})",
               {{"x-amzn-query-error",
                 "AWS.SimpleQueueService.NonExistentQueue;Sender"}}),
      "ReceiveMessage", kQueue);
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_NE(s.message().find(kQueue), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("NonExistentQueue"), absl::string_view::npos);
  EXPECT_TRUE(SqsErrorIsFatal(s));
}

TEST(SqsProtocolTest, QueryProtocolCodeAloneIsEnough) {
  const absl::Status s = SqsErrorStatus(
      Response(400, "",
               {{"x-amzn-query-error",
                 "AWS.SimpleQueueService.NonExistentQueue;Sender"}}),
      "ReceiveMessage", kQueue);
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
}

TEST(SqsProtocolTest, ThrottlingAndServerErrorsAreRetried) {
  for (const HttpResponse& r :
       {Response(400, R"({"__type":"com.amazonaws.sqs#ThrottlingException",)"
                      R"("message":"Rate exceeded"})"),
        Response(403, R"({"__type":"com.amazonaws.sqs#RequestThrottled"})"),
        Response(500, R"({"__type":"com.amazonaws.sqs#InternalError"})"),
        Response(503, "Service Unavailable")}) {
    const absl::Status s = SqsErrorStatus(r, "ReceiveMessage", kQueue);
    EXPECT_TRUE(absl::IsUnavailable(s)) << s;
    EXPECT_FALSE(SqsErrorIsFatal(s));
  }
}

TEST(SqsProtocolTest, RefusedCredentialsStopTheSource) {
  const absl::Status bad_key = SqsErrorStatus(
      Response(
          400,
          R"({"__type":"com.amazonaws.sqs#InvalidClientTokenId",)"
          R"("message":"The security token included in the request is invalid."})"),
      "ReceiveMessage", kQueue);
  EXPECT_TRUE(absl::IsUnauthenticated(bad_key)) << bad_key;
  const absl::Status denied = SqsErrorStatus(
      Response(403, R"({"__type":"com.amazonaws.sqs#AccessDenied"})"),
      "DeleteMessageBatch", kQueue);
  EXPECT_TRUE(absl::IsPermissionDenied(denied)) << denied;
  EXPECT_TRUE(SqsErrorIsFatal(bad_key));
  EXPECT_TRUE(SqsErrorIsFatal(denied));
}

TEST(SqsProtocolTest, ExpiredOrUnknownCredentialsMayBeStale) {
  auto error = [](const std::string& type) {
    return SqsErrorStatus(
        Response(400, absl::StrCat(R"({"__type":"com.amazonaws.sqs#)", type,
                                   R"(","message":"no"})")),
        "ReceiveMessage", kQueue);
  };
  for (const char* code : {"ExpiredToken", "InvalidClientTokenId"}) {
    const absl::Status s = error(code);
    EXPECT_TRUE(absl::IsUnauthenticated(s)) << s;
    EXPECT_EQ(SqsErrorCode(s), code);
    EXPECT_TRUE(SqsCredentialsMayBeStale(s)) << s;
  }
  // A wrong signature or a denial is no matter of rotation.
  EXPECT_FALSE(SqsCredentialsMayBeStale(error("SignatureDoesNotMatch")));
  EXPECT_FALSE(SqsCredentialsMayBeStale(error("AccessDenied")));
  EXPECT_EQ(SqsErrorCode(absl::UnauthenticatedError("ExpiredToken")), "");
}

TEST(SqsProtocolTest, OtherRefusalsAreInvalidArgument) {
  const absl::Status s = SqsErrorStatus(
      Response(
          400,
          R"({"__type":"com.amazonaws.sqs#InvalidParameterValue",)"
          R"("message":"Value 11 for parameter MaxNumberOfMessages is invalid."})"),
      "ReceiveMessage", kQueue);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find("MaxNumberOfMessages"), absl::string_view::npos);
}

}  // namespace
}  // namespace landfall::internal
