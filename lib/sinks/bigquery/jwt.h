// JSON Web Tokens signed RS256 (RFC 7515, 7518), for the OAuth2 JWT bearer
// grant of Google service accounts (RFC 7523).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace landfall::internal {

// What a service account asserts to its token endpoint.
struct JwtClaims {
  std::string issuer;    // iss: the account's client_email.
  std::string scope;     // scope: the OAuth2 scopes, space-separated.
  std::string audience;  // aud: the token endpoint's URL.
  absl::Time issued_at;  // iat; exp is an hour later.
  std::string key_id;    // kid (header): the key's private_key_id.
};

// header.claims.signature, each base64url without padding; the signature
// RSASSA-PKCS1-v1_5 with SHA-256 by `private_key_pem` (PKCS#8 or PKCS#1
// PEM). InvalidArgument when the key is not an RSA private key in PEM; the
// message never holds the key.
absl::StatusOr<std::string> SignJwtRs256(const JwtClaims& claims,
                                         absl::string_view private_key_pem);

}  // namespace landfall::internal
