// A BigQuery REST server on loopback for the executor's tests, following
// the documented protocol: jobs.insert, jobs.get and jobs.cancel under
// /bigquery/v2/projects/P/jobs, bearer tokens checked, and an OAuth2 token
// endpoint (/token) that takes the JWT bearer grant and verifies the JWT's
// RS256 signature with the public half of a service-account key made in
// the test. Requests are read as generic JSON (google.protobuf.Struct), not
// with the executor's own messages, so that a misspelt field shows.
#pragma once

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "lib/runtime/json_object.h"

namespace landfall::testing {

// An RSA key pair: the private half in PEM for a key file, the public half
// for the token endpoint.
class TestRsaKey {
 public:
  TestRsaKey() {
    EVP_PKEY* key = EVP_RSA_gen(2048);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    private_pem_ = Drain(bio);
    PEM_write_bio_PUBKEY(bio, key);
    const std::string public_pem = Drain(bio);
    BIO_free(bio);
    EVP_PKEY_free(key);
    BIO* in =
        BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size()));
    public_ = PEM_read_bio_PUBKEY(in, nullptr, nullptr, nullptr);
    BIO_free(in);
  }
  ~TestRsaKey() { EVP_PKEY_free(public_); }
  TestRsaKey(const TestRsaKey&) = delete;
  TestRsaKey& operator=(const TestRsaKey&) = delete;

  const std::string& private_pem() const { return private_pem_; }

  bool Verify(const std::string& data, const std::string& signature) const {
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    const bool ok =
        EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, public_) ==
            1 &&
        EVP_DigestVerify(
            md, reinterpret_cast<const unsigned char*>(signature.data()),
            signature.size(),
            reinterpret_cast<const unsigned char*>(data.data()),
            data.size()) == 1;
    EVP_MD_CTX_free(md);
    return ok;
  }

 private:
  static std::string Drain(BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(n));
    (void)BIO_reset(bio);
    return out;
  }

  std::string private_pem_;
  EVP_PKEY* public_ = nullptr;
};

// One job as inserted.
struct FakeJob {
  std::string id;
  std::string project;  // From the URL.
  std::string location;
  std::string query;
  bool use_legacy_sql = true;  // BigQuery's default when left out.
  std::string parameter_mode;
  // name -> (type, value).
  std::map<std::string, std::pair<std::string, std::string>> parameters;
  int polls = 0;
  bool cancelled = false;
  bool fails = false;  // Ends in the script's error_reason.
};

class FakeBigQuery {
 public:
  FakeBigQuery() {
    using httplib::Request;
    using httplib::Response;
    server_.Post(
        R"(/bigquery/v2/projects/([^/]+)/jobs)",
        [this](const Request& req, Response& res) { Insert(req, res); });
    server_.Get(R"(/bigquery/v2/projects/([^/]+)/jobs/([^/]+))",
                [this](const Request& req, Response& res) { Get(req, res); });
    server_.Post(
        R"(/bigquery/v2/projects/([^/]+)/jobs/([^/]+)/cancel)",
        [this](const Request& req, Response& res) { Cancel(req, res); });
    server_.Post("/token", [this](const Request& req, Response& res) {
      Token(req, res);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the loop runs would not end it.
    for (int i = 0; i < 1000 && !server_.is_running(); ++i) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  ~FakeBigQuery() {
    server_.stop();
    thread_.join();
  }

  std::string endpoint() const {
    return absl::StrCat("http://127.0.0.1:", port_);
  }

  // What the server does; set before the executor runs.
  struct Script {
    std::set<std::string> tokens = {"token-1"};  // Accepted bearer tokens.
    int polls_until_done = 2;  // jobs.get answers RUNNING this many times.
    std::string error_reason;  // The errorResult of jobs, if set ...
    std::string error_message;
    int failing_jobs = 1 << 30;       // ... of the first this many.
    int insert_status = 200;          // Answered instead of inserting ...
    int insert_failures = 0;          // ... to this many jobs.insert calls.
    absl::Duration lose_insert;       // The first insert is answered this late.
    int get_status = 200;             // Answered to every jobs.get if not 200.
    const TestRsaKey* key = nullptr;  // Verifies JWTs at /token.
    int64_t token_expires_in = 3600;
  };
  void set_script(Script script) {
    std::lock_guard<std::mutex> lock(mu_);
    script_ = std::move(script);
  }

  std::vector<FakeJob> jobs() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<FakeJob> out;
    for (const auto& [id, job] : jobs_) out.push_back(job);
    return out;
  }
  int inserts() {
    std::lock_guard<std::mutex> lock(mu_);
    return inserts_;
  }
  int token_grants() {
    std::lock_guard<std::mutex> lock(mu_);
    return token_grants_;
  }
  std::vector<std::string> refused_tokens() {
    std::lock_guard<std::mutex> lock(mu_);
    return refused_tokens_;
  }

 private:
  static void Error(httplib::Response& res, int status,
                    const std::string& reason, const std::string& message) {
    res.status = status;
    res.set_content(
        absl::StrCat(R"({"error":{"code":)", status, R"(,"message":")", message,
                     R"(","errors":[{"reason":")", reason, R"(","message":")",
                     message, R"("}]}})"),
        "application/json");
  }

  // Under mu_.
  bool Authorized(const httplib::Request& req, httplib::Response& res) {
    const std::string header = req.get_header_value("Authorization");
    const std::string token =
        header.rfind("Bearer ", 0) == 0 ? header.substr(7) : "";
    if (script_.tokens.count(token) > 0) return true;
    refused_tokens_.push_back(token);
    Error(res, 401, "authError", "Request had invalid authentication");
    return false;
  }

  static const google::protobuf::Value& Field(const google::protobuf::Struct& s,
                                              const std::string& name) {
    static const google::protobuf::Value* const kNull =
        new google::protobuf::Value();
    auto it = s.fields().find(name);
    return it == s.fields().end() ? *kNull : it->second;
  }

  static std::string JobJson(const FakeJob& job, const std::string& state,
                             const std::string& reason,
                             const std::string& message) {
    internal::JsonObject status;
    status.Str("state", state);
    if (!reason.empty()) {
      status.Raw("errorResult", internal::JsonObject()
                                    .Str("reason", reason)
                                    .Str("message", message)
                                    .str());
    }
    return internal::JsonObject()
        .Str("kind", "bigquery#job")
        .Raw("jobReference", internal::JsonObject()
                                 .Str("projectId", job.project)
                                 .Str("jobId", job.id)
                                 .Str("location", job.location)
                                 .str())
        .Raw("status", status.str())
        .str();
  }

  void Insert(const httplib::Request& req, httplib::Response& res) {
    absl::Duration late;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!Authorized(req, res)) return;
      if (inserts_++ < script_.insert_failures) {
        const int status = script_.insert_status;
        Error(res, status,
              status == 429   ? "rateLimitExceeded"
              : status >= 500 ? "backendError"
                              : "invalid",
              "Try again");
        return;
      }
      google::protobuf::Struct body;
      if (!google::protobuf::util::JsonStringToMessage(req.body, &body).ok()) {
        Error(res, 400, "invalid", "not JSON");
        return;
      }
      const auto& ref = Field(body, "jobReference").struct_value();
      const auto& config = Field(body, "configuration").struct_value();
      const auto& query = Field(config, "query").struct_value();
      FakeJob job;
      job.id = Field(ref, "jobId").string_value();
      job.project = req.matches[1];
      job.location = Field(ref, "location").string_value();
      job.query = Field(query, "query").string_value();
      const google::protobuf::Value& legacy = Field(query, "useLegacySql");
      job.use_legacy_sql =
          legacy.kind_case() != google::protobuf::Value::kBoolValue ||
          legacy.bool_value();
      job.parameter_mode = Field(query, "parameterMode").string_value();
      for (const auto& p :
           Field(query, "queryParameters").list_value().values()) {
        const auto& param = p.struct_value();
        job.parameters[Field(param, "name").string_value()] = {
            Field(Field(param, "parameterType").struct_value(), "type")
                .string_value(),
            Field(Field(param, "parameterValue").struct_value(), "value")
                .string_value()};
      }
      if (jobs_.count(job.id) > 0) {
        Error(res, 409, "duplicate",
              absl::StrCat("Already Exists: Job ", job.project, ":", job.id));
        return;
      }
      job.fails = !script_.error_reason.empty() &&
                  failed_jobs_++ < script_.failing_jobs;
      jobs_[job.id] = job;
      res.set_content(JobJson(job, "RUNNING", "", ""), "application/json");
      late = script_.lose_insert;
      script_.lose_insert = absl::ZeroDuration();
    }
    // The job is made; its answer comes after the client stopped waiting.
    absl::SleepFor(late);
  }

  void Get(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Authorized(req, res)) return;
    auto it = jobs_.find(req.matches[2]);
    if (it == jobs_.end() || it->second.project != req.matches[1] ||
        it->second.location != req.get_param_value("location")) {
      Error(res, 404, "notFound",
            absl::StrCat("Not found: Job ", std::string(req.matches[2])));
      return;
    }
    if (script_.get_status != 200) {
      Error(res, script_.get_status, "backendError", "try again later");
      return;
    }
    FakeJob& job = it->second;
    const bool done = ++job.polls > script_.polls_until_done || job.cancelled;
    std::string reason;
    std::string message;
    if (done && job.cancelled) {
      reason = "stopped";
      message = "Job execution was cancelled";
    } else if (done && job.fails) {
      reason = script_.error_reason;
      message = script_.error_message;
    }
    res.set_content(JobJson(job, done ? "DONE" : "RUNNING", reason, message),
                    "application/json");
  }

  void Cancel(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Authorized(req, res)) return;
    auto it = jobs_.find(req.matches[2]);
    if (it == jobs_.end()) {
      Error(res, 404, "notFound", "Not found");
      return;
    }
    it->second.cancelled = true;
    res.set_content(
        absl::StrCat(R"({"kind":"bigquery#jobCancelResponse","job":)",
                     JobJson(it->second, "RUNNING", "", ""), "}"),
        "application/json");
  }

  static std::string Unbase64Url(const std::string& text) {
    std::string out;
    absl::WebSafeBase64Unescape(text, &out);
    return out;
  }

  void Token(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    auto refuse = [&](const std::string& why) {
      res.status = 400;
      res.set_content(
          absl::StrCat(R"({"error":"invalid_grant","error_description":")", why,
                       R"("})"),
          "application/json");
    };
    if (req.get_param_value("grant_type") !=
        "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      return refuse("grant_type");
    }
    const std::vector<std::string> parts =
        absl::StrSplit(req.get_param_value("assertion"), '.');
    if (parts.size() != 3 || script_.key == nullptr ||
        !script_.key->Verify(absl::StrCat(parts[0], ".", parts[1]),
                             Unbase64Url(parts[2]))) {
      return refuse("Invalid JWT Signature.");
    }
    google::protobuf::Struct header;
    google::protobuf::Struct claims;
    if (!google::protobuf::util::JsonStringToMessage(Unbase64Url(parts[0]),
                                                     &header)
             .ok() ||
        !google::protobuf::util::JsonStringToMessage(Unbase64Url(parts[1]),
                                                     &claims)
             .ok()) {
      return refuse("not JSON");
    }
    const double now = absl::ToUnixSeconds(absl::Now());
    if (Field(header, "alg").string_value() != "RS256" ||
        Field(header, "kid").string_value() != "key-1" ||
        Field(claims, "iss").string_value() !=
            "etl@p.iam.gserviceaccount.com" ||
        Field(claims, "scope").string_value() !=
            "https://www.googleapis.com/auth/bigquery" ||
        Field(claims, "aud").string_value() != endpoint() + "/token" ||
        Field(claims, "iat").number_value() > now + 5 ||
        Field(claims, "exp").number_value() <= now ||
        Field(claims, "exp").number_value() >
            Field(claims, "iat").number_value() + 3600) {
      return refuse("claims");
    }
    const std::string token = absl::StrCat("granted-", ++token_grants_);
    script_.tokens.insert(token);
    res.set_content(internal::JsonObject()
                        .Str("access_token", token)
                        .Int("expires_in", script_.token_expires_in)
                        .Str("token_type", "Bearer")
                        .str(),
                    "application/json");
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  Script script_;
  std::map<std::string, FakeJob> jobs_;
  int inserts_ = 0;
  int failed_jobs_ = 0;
  int token_grants_ = 0;
  std::vector<std::string> refused_tokens_;
};

}  // namespace landfall::testing
