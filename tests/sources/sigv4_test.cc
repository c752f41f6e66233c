// The signer against AWS's published Signature Version 4 examples: the
// aws-sig-v4-test-suite requests (key AKIDEXAMPLE, 20150830T123600Z,
// us-east-1, service "service") and the S3 GET Object example of the S3
// API reference (key AKIAIOSFODNN7EXAMPLE, 20130524T000000Z). The expected
// signatures are AWS's, not computed by this signer.
#include "lib/sources/sqs/sigv4.h"

#include "gtest/gtest.h"
#include "lib/testing/times.h"

namespace landfall::internal {
namespace {

using ::landfall::testing::At;

const AwsCredentials kSuite{"AKIDEXAMPLE",
                            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

SigV4Request SuiteRequest(const std::string& method, const std::string& query) {
  SigV4Request request;
  request.method = method;
  request.path = "/";
  request.query = query;
  request.headers = {{"Host", "example.amazonaws.com"}};
  return request;
}

TEST(SigV4Test, GetVanillaMatchesThePublishedSignature) {
  const SigV4Headers h = SignV4(SuiteRequest("GET", ""), kSuite, "us-east-1",
                                "service", At("2015-08-30T12:36:00Z"));
  EXPECT_EQ(h.amz_date, "20150830T123600Z");
  EXPECT_EQ(h.authorization,
            "AWS4-HMAC-SHA256 "
            "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature="
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  EXPECT_TRUE(h.security_token.empty());
}

TEST(SigV4Test, GetVanillaCanonicalRequestIsThePublishedOne) {
  EXPECT_EQ(
      CanonicalRequest(SuiteRequest("GET", ""), "20150830T123600Z", ""),
      "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
      "\nhost;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4Test, QueryParametersAreSortedBeforeSigning) {
  // get-vanilla-query-order-key-case.
  const SigV4Headers h =
      SignV4(SuiteRequest("GET", "Param2=value2&Param1=value1"), kSuite,
             "us-east-1", "service", At("2015-08-30T12:36:00Z"));
  EXPECT_EQ(h.authorization.substr(h.authorization.find("Signature=")),
            "Signature="
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4Test, PostVanillaMatchesThePublishedSignature) {
  const SigV4Headers h = SignV4(SuiteRequest("POST", ""), kSuite, "us-east-1",
                                "service", At("2015-08-30T12:36:00Z"));
  EXPECT_EQ(h.authorization.substr(h.authorization.find("Signature=")),
            "Signature="
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(SigV4Test, S3GetObjectExampleMatchesThePublishedSignature) {
  SigV4Request request;
  request.method = "GET";
  request.path = "/test.txt";
  request.headers = {
      {"Host", "examplebucket.s3.amazonaws.com"},
      {"Range", "bytes=0-9"},
      {"x-amz-content-sha256",
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}};
  // The S3 reference's example key differs from the test suite's by one
  // character ("/bPx", not "+bPx").
  const AwsCredentials credentials{
      "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  // The published hash of the canonical request, in its string to sign.
  EXPECT_EQ(Sha256Hex(CanonicalRequest(request, "20130524T000000Z", "")),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  const SigV4Headers h = SignV4(request, credentials, "us-east-1", "s3",
                                At("2013-05-24T00:00:00Z"));
  EXPECT_EQ(
      h.authorization,
      "AWS4-HMAC-SHA256 "
      "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
      "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
      "Signature="
      "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, SessionTokenIsSignedAndReturned) {
  AwsCredentials credentials = kSuite;
  credentials.session_token = "token-value";
  const SigV4Headers h =
      SignV4(SuiteRequest("GET", ""), credentials, "us-east-1", "service",
             At("2015-08-30T12:36:00Z"));
  EXPECT_EQ(h.security_token, "token-value");
  EXPECT_NE(h.authorization.find("SignedHeaders=host;x-amz-date;"
                                 "x-amz-security-token,"),
            std::string::npos)
      << h.authorization;
  EXPECT_EQ(h.authorization.find("wJalrXUtnFEMI"), std::string::npos);
}

TEST(SigV4Test, Sha256OfTheEmptyString) {
  EXPECT_EQ(Sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace landfall::internal
