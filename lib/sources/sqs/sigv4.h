// AWS Signature Version 4 for requests in headers: the canonical request,
// the string to sign, the derived key and the Authorization header, as
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html
// describes them. Pure functions: the time is given, nothing is sent.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace landfall::internal {

// Who signs. The secret key and the session token never appear in what
// the signer returns apart from the token's own header.
struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // Empty: long-term keys.
};

// A request to sign. `path` and `query` are as sent on the wire (already
// percent-encoded); the query's parameters are sorted for signing.
struct SigV4Request {
  std::string method = "POST";
  std::string path = "/";
  std::string query;
  // Names as the caller spells them; every header listed is signed. `host`
  // must be among them.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload;
};

// The headers to add to the request: X-Amz-Date, X-Amz-Security-Token
// when there is a session token, and Authorization.
struct SigV4Headers {
  std::string amz_date;  // 20150830T123600Z
  std::string authorization;
  std::string security_token;  // Empty without a session token.
};

// The lowercase hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);

// The canonical request (step 1 of the signing).
std::string CanonicalRequest(const SigV4Request& request,
                             absl::string_view amz_date,
                             absl::string_view security_token);

// Signs `request` at `now` for `region` and `service`.
SigV4Headers SignV4(const SigV4Request& request,
                    const AwsCredentials& credentials, absl::string_view region,
                    absl::string_view service, absl::Time now);

}  // namespace landfall::internal
