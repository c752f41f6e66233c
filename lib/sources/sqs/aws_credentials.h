// AWS credentials, found where the AWS tools look for them.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/sources/sqs/sigv4.h"

namespace landfall::internal {

// The credentials the AWS tools would use, in their order:
//   1. the environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and
//      AWS_SESSION_TOKEN), when either key is set;
//   2. the shared credentials file, AWS_SHARED_CREDENTIALS_FILE or else
//      ~/.aws/credentials, section AWS_PROFILE or else "default":
//      aws_access_key_id, aws_secret_access_key, aws_session_token.
// Read anew on each call, so that rotated credentials are seen.
// FailedPrecondition naming the variables, the file and the profile (never
// a value) when none are complete; a file named by
// AWS_SHARED_CREDENTIALS_FILE that cannot be read is an error too.
absl::StatusOr<AwsCredentials> LoadAwsCredentials();

// The credentials of `profile` in `text`, the INI text of a shared
// credentials file at `path` (named in errors): `[profile]` sections of
// `key = value` lines, `#` and `;` comment lines, keys in any case,
// whitespace around keys and values ignored; a later key repeats over an
// earlier one. NotFound when the profile has no section; FailedPrecondition
// when it lacks a key.
absl::StatusOr<AwsCredentials> CredentialsOfProfile(absl::string_view text,
                                                    absl::string_view profile,
                                                    absl::string_view path);

}  // namespace landfall::internal
