#include "lib/sources/sqs/aws_credentials.h"

#include <cstdlib>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lib/pipeline/internal/read_file.h"

namespace landfall::internal {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

constexpr int64_t kMaxFileBytes = int64_t{1} << 20;

constexpr char kNoCredentials[] =
    "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
    "(and AWS_SESSION_TOKEN for temporary ones), or put them in the shared "
    "credentials file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials)";

absl::StatusOr<AwsCredentials> FromEnvironment() {
  AwsCredentials out;
  out.access_key_id = Env("AWS_ACCESS_KEY_ID");
  out.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
  out.session_token = Env("AWS_SESSION_TOKEN");
  if (out.access_key_id.empty() || out.secret_access_key.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("incomplete AWS credentials in the environment: ",
                     out.access_key_id.empty() ? "AWS_ACCESS_KEY_ID"
                                               : "AWS_SECRET_ACCESS_KEY",
                     " is not set"));
  }
  return out;
}

}  // namespace

absl::StatusOr<AwsCredentials> CredentialsOfProfile(absl::string_view text,
                                                    absl::string_view profile,
                                                    absl::string_view path) {
  AwsCredentials out;
  bool found = false, in_profile = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      absl::string_view name =
          absl::StripAsciiWhitespace(line.substr(1, line.size() - 2));
      in_profile = name == profile;
      found = found || in_profile;
      continue;
    }
    if (!in_profile) continue;
    const size_t equals = line.find('=');
    if (equals == absl::string_view::npos) continue;
    const std::string key = absl::AsciiStrToLower(
        absl::StripAsciiWhitespace(line.substr(0, equals)));
    const std::string value(
        absl::StripAsciiWhitespace(line.substr(equals + 1)));
    if (key == "aws_access_key_id") out.access_key_id = value;
    if (key == "aws_secret_access_key") out.secret_access_key = value;
    if (key == "aws_session_token") out.session_token = value;
  }
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat(path, " has no profile [", profile, "]"));
  }
  for (const auto& [key, value] :
       {std::pair<const char*, const std::string*>{"aws_access_key_id",
                                                   &out.access_key_id},
        {"aws_secret_access_key", &out.secret_access_key}}) {
    if (value->empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": profile [", profile, "] has no ", key));
    }
  }
  return out;
}

absl::StatusOr<AwsCredentials> LoadAwsCredentials() {
  if (!Env("AWS_ACCESS_KEY_ID").empty() ||
      !Env("AWS_SECRET_ACCESS_KEY").empty()) {
    return FromEnvironment();
  }
  std::string path = Env("AWS_SHARED_CREDENTIALS_FILE");
  const bool named = !path.empty();
  if (!named) {
    const std::string home = Env("HOME");
    if (home.empty()) return absl::FailedPreconditionError(kNoCredentials);
    path = home + "/.aws/credentials";
  }
  // Bounded: a credentials file is a few lines, and /dev/zero is not one.
  absl::StatusOr<std::string> text = internal::ReadRegularFile(
      path, kMaxFileBytes, "AWS shared credentials file");
  if (!text.ok()) {
    if (!named && absl::IsNotFound(text.status())) {
      return absl::FailedPreconditionError(kNoCredentials);
    }
    return absl::FailedPreconditionError(
        absl::StrCat(named ? absl::StrCat("AWS_SHARED_CREDENTIALS_FILE names ",
                                          path, ", which cannot be read: ")
                           : "",
                     text.status().message()));
  }
  std::string profile = Env("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  absl::StatusOr<AwsCredentials> out =
      CredentialsOfProfile(*text, profile, path);
  if (absl::IsNotFound(out.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat(kNoCredentials, "; ", out.status().message()));
  }
  return out;
}

}  // namespace landfall::internal
