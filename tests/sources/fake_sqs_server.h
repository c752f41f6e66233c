// A small SQS JSON-protocol server on loopback for what the emulator
// cannot show: scripted errors (throttling, refused credentials) and the
// requests exactly as sent. Each connection is served on its own thread;
// the handler is called serially.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace landfall::testing {

struct FakeRequest {
  std::string action;  // From X-Amz-Target, without "AmazonSQS.".
  std::map<std::string, std::string> headers;  // Names lowercased.
  std::string body;
};

struct FakeResponse {
  int status = 200;
  std::string body = "{}";
};

class FakeSqsServer {
 public:
  using Handler = std::function<FakeResponse(const FakeRequest&)>;

  explicit FakeSqsServer(Handler handler) : handler_(std::move(handler)) {
    listen_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(listen_, 16);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~FakeSqsServer() {
    shutdown(listen_, SHUT_RDWR);
    close(listen_);
    acceptor_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : connections_) shutdown(fd, SHUT_RDWR);
    }
    for (std::thread& t : threads_) t.join();
  }

  std::string endpoint() const {
    return absl::StrCat("http://127.0.0.1:", port_);
  }
  std::vector<FakeRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void Accept() {
    while (true) {
      const int fd = accept(listen_, nullptr, nullptr);
      if (fd < 0) return;
      std::lock_guard<std::mutex> lock(mu_);
      connections_.push_back(fd);
      threads_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  // Requests on one connection until it closes.
  void Serve(int fd) {
    std::string buffer;
    char chunk[4096];
    while (true) {
      size_t end;
      while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
        const ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n <= 0) return (void)close(fd);
        buffer.append(chunk, n);
      }
      FakeRequest request;
      std::vector<std::string> lines =
          absl::StrSplit(buffer.substr(0, end), "\r\n");
      size_t length = 0;
      for (size_t i = 1; i < lines.size(); ++i) {
        const size_t colon = lines[i].find(':');
        if (colon == std::string::npos) continue;
        const std::string name =
            absl::AsciiStrToLower(lines[i].substr(0, colon));
        request.headers[name] =
            std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
      }
      (void)absl::SimpleAtoi(request.headers["content-length"], &length);
      buffer.erase(0, end + 4);
      while (buffer.size() < length) {
        const ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n <= 0) return (void)close(fd);
        buffer.append(chunk, n);
      }
      request.body = buffer.substr(0, length);
      buffer.erase(0, length);
      request.action = request.headers["x-amz-target"];
      if (request.action.rfind("AmazonSQS.", 0) == 0) {
        request.action = request.action.substr(10);
      }
      FakeResponse response;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(request);
        response = handler_(request);
      }
      const std::string reply =
          absl::StrCat("HTTP/1.1 ", response.status,
                       " X\r\nContent-Type: "
                       "application/x-amz-json-1.0\r\nContent-Length: ",
                       response.body.size(), "\r\n\r\n", response.body);
      if (write(fd, reply.data(), reply.size()) < 0) return (void)close(fd);
    }
  }

  Handler handler_;
  int listen_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> connections_;
  std::vector<std::thread> threads_;
  std::vector<FakeRequest> requests_;
};

}  // namespace landfall::testing
