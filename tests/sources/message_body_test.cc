// Message bodies and key rules: S3 event notifications (direct and through
// SNS), landfall arrivals, the S3 test event, and what is poison.
#include "lib/sources/sqs/message_body.h"

#include "gtest/gtest.h"

namespace landfall::internal {
namespace {

constexpr char kSpec[] = R"(
table { name: "orders" source: true }
table { name: "users" source: true partitioned: false }
table { name: "mart" upstream: "orders" }
)";

std::shared_ptr<const Pipeline> TestPipeline() {
  return Pipeline::FromText(kSpec, SpecFormat::kTextProto, "spec").value();
}

// An S3 notification of one object, as S3 writes it (abridged).
std::string S3Event(const std::string& key,
                    const std::string& event = "ObjectCreated:Put",
                    const std::string& sequencer = "0055AED6DCD90281E5") {
  return R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3",)"
         R"("awsRegion":"us-east-1","eventTime":"2018-11-04T01:00:00.000Z",)"
         R"("eventName":")" +
         event +
         R"(","s3":{"s3SchemaVersion":"1.0",)"
         R"("configurationId":"landing","bucket":{"name":"lake",)"
         R"("arn":"arn:aws:s3:::lake"},"object":{"key":")" +
         key +
         R"(","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e",)"
         R"("sequencer":")" +
         sequencer + R"("}}}]})";
}

MessageBody Parse(const std::string& body,
                  const std::string& rule = KeyRule::kDefault) {
  static const std::shared_ptr<const Pipeline> pipeline = TestPipeline();
  return ParseMessageBody(body, KeyRule::Parse(rule).value(), *pipeline);
}

TEST(MessageBodyTest, S3NotificationIsAnArrivalOfTheKeysTableAndPartition) {
  const MessageBody b = Parse(S3Event("orders/2018-11-03/part-0.parquet"));
  ASSERT_EQ(b.kind, MessageBody::Kind::kArrivals) << b.reason;
  ASSERT_EQ(b.arrivals.size(), 1u);
  const Arrival& a = b.arrivals[0];
  EXPECT_EQ(a.table(), "orders");
  EXPECT_EQ(a.partition(), "2018-11-03");
  EXPECT_EQ(a.origin(), "s3://lake/orders/2018-11-03/part-0.parquet");
  EXPECT_EQ(a.event_id(),
            "s3://lake/orders/2018-11-03/part-0.parquet#0055AED6DCD90281E5");
  EXPECT_EQ(a.at().seconds(), 1541293200);  // 2018-11-04T01:00:00Z
  EXPECT_EQ(a.attributes().at("event_name"), "ObjectCreated:Put");
}

TEST(MessageBodyTest, SameNotificationTwiceHasTheSameEventId) {
  EXPECT_EQ(Parse(S3Event("orders/2018-11-03/a")).arrivals[0].event_id(),
            Parse(S3Event("orders/2018-11-03/a")).arrivals[0].event_id());
  EXPECT_NE(Parse(S3Event("orders/2018-11-03/a", "ObjectCreated:Put", "01"))
                .arrivals[0]
                .event_id(),
            Parse(S3Event("orders/2018-11-03/a", "ObjectCreated:Put", "02"))
                .arrivals[0]
                .event_id());
}

TEST(MessageBodyTest, EventIdFallsBackToTheETagWithoutSequencer) {
  const MessageBody b =
      Parse(S3Event("orders/2018-11-03/a", "ObjectCreated:Put", ""));
  ASSERT_EQ(b.kind, MessageBody::Kind::kArrivals) << b.reason;
  EXPECT_EQ(b.arrivals[0].event_id(),
            "s3://lake/orders/2018-11-03/a#d41d8cd98f00b204e9800998ecf8427e");
}

TEST(MessageBodyTest, UnpartitionedTableTakesNoPartitionSegment) {
  const MessageBody b = Parse(S3Event("users/export.csv"));
  ASSERT_EQ(b.kind, MessageBody::Kind::kArrivals) << b.reason;
  EXPECT_EQ(b.arrivals[0].table(), "users");
  EXPECT_EQ(b.arrivals[0].partition(), "");
}

TEST(MessageBodyTest, HiveStylePartitionSegmentStandsForItsValue) {
  const MessageBody b = Parse(S3Event("orders/dt=2018-11-03/part-0.parquet"));
  ASSERT_EQ(b.kind, MessageBody::Kind::kArrivals) << b.reason;
  EXPECT_EQ(b.arrivals[0].partition(), "2018-11-03");
}

TEST(MessageBodyTest, KeyRuleWithPrefixAndWildcard) {
  const MessageBody b = Parse(S3Event("raw/eu/orders/dt%3D2018-11-03/a+b.csv"),
                              "raw/*/{table}/{partition}");
  ASSERT_EQ(b.kind, MessageBody::Kind::kArrivals) << b.reason;
  EXPECT_EQ(b.arrivals[0].table(), "orders");
  EXPECT_EQ(b.arrivals[0].partition(), "2018-11-03");
  EXPECT_EQ(b.arrivals[0].origin(),
            "s3://lake/raw/eu/orders/dt=2018-11-03/a b.csv");
  EXPECT_EQ(Parse(S3Event("cooked/eu/orders/2018-11-03/a"),
                  "raw/*/{table}/{partition}")
                .kind,
            MessageBody::Kind::kPoison);
}

TEST(MessageBodyTest, SnsWrappedNotificationIsRead) {
  std::string inner = S3Event("orders/2018-11-03/part-0.parquet");
  std::string escaped;
  for (char c : inner) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  const std::string sns =
      R"({"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:123456789012:landing",)"
      R"("Subject":"Amazon S3 Notification","Message":")" +
      escaped + R"(","Timestamp":"2018-11-04T01:00:01.000Z"})";
  const MessageBody b = Parse(sns);
  ASSERT_EQ(b.kind, MessageBody::Kind::kArrivals) << b.reason;
  EXPECT_EQ(b.arrivals[0].table(), "orders");
}

TEST(MessageBodyTest, LandfallArrivalJsonIsRead) {
  const MessageBody b =
      Parse(R"({"event_id":"e1","table":"orders","partition":"2018-11-03",)"
            R"("at":"2018-11-04T01:00:00Z","origin":"s3://lake/x"})");
  ASSERT_EQ(b.kind, MessageBody::Kind::kArrivals) << b.reason;
  EXPECT_EQ(b.arrivals[0].event_id(), "e1");
  EXPECT_EQ(b.arrivals[0].origin(), "s3://lake/x");
}

TEST(MessageBodyTest, TestEventAndRemovalsCarryNothing) {
  EXPECT_EQ(Parse(R"({"Service":"Amazon S3","Event":"s3:TestEvent",)"
                  R"("Time":"2018-11-04T01:00:00.000Z","Bucket":"lake",)"
                  R"("RequestId":"r","HostId":"h"})")
                .kind,
            MessageBody::Kind::kIgnored);
  EXPECT_EQ(Parse(S3Event("orders/2018-11-03/a", "ObjectRemoved:Delete")).kind,
            MessageBody::Kind::kIgnored);
  EXPECT_EQ(Parse(S3Event("orders/2018-11-03/")).kind,
            MessageBody::Kind::kIgnored);
}

TEST(MessageBodyTest, UnknownTableIsPoisonNamingIt) {
  const MessageBody b = Parse(S3Event("order/2018-11-03/a"));
  EXPECT_EQ(b.kind, MessageBody::Kind::kPoison);
  EXPECT_NE(b.reason.find("unknown table \"order\""), std::string::npos)
      << b.reason;
  EXPECT_NE(b.reason.find("s3://lake/order/2018-11-03/a"), std::string::npos);
  EXPECT_EQ(Parse(R"({"event_id":"e","table":"nope","partition":"p"})").kind,
            MessageBody::Kind::kPoison);
}

TEST(MessageBodyTest, UnreadableBodiesArePoison) {
  for (const char* body :
       {"not json", "[1,2]", "{\"hello\":1}", "{\"Records\":5}",
        "{\"Records\":[{\"eventName\":\"ObjectCreated:Put\"}]}",
        "{\"table\":\"orders\",\"partition\":\"p\"}",
        "{\"event_id\":\"e\",\"table\":\"orders\",\"bogus\":1}"}) {
    EXPECT_EQ(Parse(body).kind, MessageBody::Kind::kPoison) << body;
  }
  // A key with no object name below the partition.
  EXPECT_EQ(Parse(S3Event("orders/2018-11-03")).kind,
            MessageBody::Kind::kPoison);
}

TEST(KeyRuleTest, BadRulesAreRefusedNamingTheRule) {
  for (const char* rule :
       {"", "raw/", "{partition}/{table}", "{table}/{table}", "raw//{table}",
        "{table}/x", "{table}/{partition}/x", "{tabel}"}) {
    absl::StatusOr<KeyRule> r = KeyRule::Parse(rule);
    EXPECT_FALSE(r.ok()) << rule;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find(rule), absl::string_view::npos)
          << r.status();
    }
  }
  EXPECT_TRUE(KeyRule::Parse("{table}").ok());
}

TEST(KeyRuleTest, DecodesKeysAsS3WritesThem) {
  EXPECT_EQ(DecodeS3Key("a+b%2Fc%3d%zz%4"), "a b/c=%zz%4");
}

}  // namespace
}  // namespace landfall::internal
