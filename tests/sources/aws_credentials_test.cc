// AWS credentials are found where the AWS tools look: the environment, then
// the shared credentials file's profile; no message holds a key.
#include "lib/sources/sqs/aws_credentials.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "gmock/gmock.h"

namespace landfall::internal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kVariables[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",       "AWS_SESSION_TOKEN",
    "AWS_PROFILE",       "AWS_SHARED_CREDENTIALS_FILE", "HOME"};

class AwsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kVariables) {
      const char* value = std::getenv(name);
      if (value != nullptr) saved_[name] = value;
      unsetenv(name);
    }
    std::filesystem::create_directories(home_ + "/.aws");
    setenv("HOME", home_.c_str(), 1);
  }
  void TearDown() override {
    for (const char* name : kVariables) {
      auto it = saved_.find(name);
      if (it == saved_.end()) {
        unsetenv(name);
      } else {
        setenv(name, it->second.c_str(), 1);
      }
    }
    std::filesystem::remove_all(home_);
  }

  void WriteFile(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  }

  const std::string home_ =
      ::testing::TempDir() + "landfall-aws-home-" + std::to_string(getpid());
  const std::string default_file_ = home_ + "/.aws/credentials";
  std::map<std::string, std::string> saved_;
};

constexpr char kFile[] = R"(# written by aws configure
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = default-secret

[etl]
; the nightly loads' role
AWS_Access_Key_Id=AKIDETL
  aws_secret_access_key =  etl-secret
aws_session_token = etl-token
)";

TEST_F(AwsCredentialsTest, TheDefaultProfileOfTheHomeFileIsRead) {
  WriteFile(default_file_, kFile);
  absl::StatusOr<AwsCredentials> c = LoadAwsCredentials();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(c->secret_access_key, "default-secret");
  EXPECT_EQ(c->session_token, "");
}

TEST_F(AwsCredentialsTest, AwsProfileChoosesASectionWithCommentsCaseAndSpaces) {
  WriteFile(default_file_, kFile);
  setenv("AWS_PROFILE", "etl", 1);
  absl::StatusOr<AwsCredentials> c = LoadAwsCredentials();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKIDETL");
  EXPECT_EQ(c->secret_access_key, "etl-secret");
  EXPECT_EQ(c->session_token, "etl-token");
}

TEST_F(AwsCredentialsTest, TheEnvironmentComesBeforeTheFile) {
  WriteFile(default_file_, kFile);
  setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
  absl::StatusOr<AwsCredentials> c = LoadAwsCredentials();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKIDENV");
  EXPECT_EQ(c->secret_access_key, "env-secret");
}

TEST_F(AwsCredentialsTest, AHalfSetEnvironmentNamesTheMissingVariable) {
  WriteFile(default_file_, kFile);
  setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  absl::Status s = LoadAwsCredentials().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("AWS_SECRET_ACCESS_KEY"));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("AKIDENV")));
}

TEST_F(AwsCredentialsTest, ANamedFileIsReadAnewOnEachCall) {
  const std::string path = home_ + "/rotating";
  setenv("AWS_SHARED_CREDENTIALS_FILE", path.c_str(), 1);
  WriteFile(path,
            "[default]\naws_access_key_id=A1\naws_secret_access_key=s1\n");
  ASSERT_EQ(LoadAwsCredentials()->access_key_id, "A1");
  WriteFile(path,
            "[default]\naws_access_key_id=A2\naws_secret_access_key=s2\n");
  absl::StatusOr<AwsCredentials> c = LoadAwsCredentials();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "A2");
  EXPECT_EQ(c->secret_access_key, "s2");
}

TEST_F(AwsCredentialsTest, AMissingNamedFileIsNamed) {
  const std::string path = home_ + "/absent";
  setenv("AWS_SHARED_CREDENTIALS_FILE", path.c_str(), 1);
  absl::Status s = LoadAwsCredentials().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("AWS_SHARED_CREDENTIALS_FILE names " + path));
}

TEST_F(AwsCredentialsTest, ADeviceNamedAsTheFileIsNotReadEndlessly) {
  setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/zero", 1);
  absl::Status s = LoadAwsCredentials().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("AWS_SHARED_CREDENTIALS_FILE names /dev/zero"));
}

TEST_F(AwsCredentialsTest, AMissingProfileOrKeyIsNamedWithoutAnyValue) {
  WriteFile(default_file_, kFile);
  setenv("AWS_PROFILE", "reports", 1);
  absl::Status s = LoadAwsCredentials().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr(default_file_ + " has no profile [reports]"));
  WriteFile(default_file_, "[reports]\naws_access_key_id = AKIDREP\n");
  s = LoadAwsCredentials().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("profile [reports] has no aws_secret_access_key"));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("AKIDREP")));
}

TEST_F(AwsCredentialsTest, NoCredentialsAnywhereSaysWhereTheyMayGo) {
  absl::Status s = LoadAwsCredentials().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("~/.aws/credentials"));
}

}  // namespace
}  // namespace landfall::internal
