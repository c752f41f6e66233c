#include "lib/runtime/arrival_json.h"

#include <cstdint>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "lib/runtime/json_lines.h"

namespace landfall::internal {
namespace {

// A cursor over a line, skipping JSON whitespace before each token.
class Cursor {
 public:
  explicit Cursor(absl::string_view text) : text_(text) {}

  bool Take(char c) {
    SkipSpace();
    if (text_.empty() || text_.front() != c) return false;
    text_.remove_prefix(1);
    return true;
  }
  // A string of printable ASCII without escapes, into `out`.
  bool TakePlainString(absl::string_view* out) {
    if (!Take('"')) return false;
    for (size_t i = 0; i < text_.size(); ++i) {
      const char c = text_[i];
      if (c == '"') {
        *out = text_.substr(0, i);
        text_.remove_prefix(i + 1);
        return true;
      }
      if (c < 0x20 || c > 0x7e || c == '\\') return false;
    }
    return false;
  }
  bool AtEnd() {
    SkipSpace();
    return text_.empty();
  }

 private:
  void SkipSpace() {
    while (!text_.empty() && (text_.front() == ' ' || text_.front() == '\t' ||
                              text_.front() == '\r' || text_.front() == '\n')) {
      text_.remove_prefix(1);
    }
  }
  absl::string_view text_;
};

// The digits text[at, at + n) as a number, or -1 if any is not a digit.
int Digits(absl::string_view text, size_t at, size_t n) {
  int value = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Seconds since the epoch of "YYYY-MM-DDTHH:MM:SSZ" naming a real instant
// of years 1 to 9999 (protobuf's Timestamp range), if `text` is one.
bool ParsePlainTime(absl::string_view text, int64_t* seconds) {
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text[19] != 'Z') {
    return false;
  }
  const int year = Digits(text, 0, 4), month = Digits(text, 5, 2),
            day = Digits(text, 8, 2), hour = Digits(text, 11, 2),
            minute = Digits(text, 14, 2), second = Digits(text, 17, 2);
  if (year < 1 || month < 0 || day < 0 || hour < 0 || minute < 0 ||
      second < 0) {
    return false;
  }
  const absl::CivilSecond civil(year, month, day, hour, minute, second);
  // Out-of-range fields (month 13, February 30, second 60) normalize away.
  if (civil.year() != year || civil.month() != month || civil.day() != day ||
      civil.hour() != hour || civil.minute() != minute ||
      civil.second() != second) {
    return false;
  }
  // UTC has no offset to look up: the civil difference is the answer.
  *seconds = civil - absl::CivilSecond(1970);
  return true;
}

}  // namespace

bool ParsePlainArrival(absl::string_view line, Arrival* arrival) {
  arrival->Clear();
  Cursor in(line);
  if (!in.Take('{')) return false;
  if (in.Take('}')) return in.AtEnd();
  enum : unsigned {
    kEventId = 1,
    kTable = 2,
    kPartition = 4,
    kOrigin = 8,
    kAt = 16
  };
  unsigned seen = 0;
  do {
    absl::string_view key, value;
    if (!in.TakePlainString(&key) || !in.Take(':') ||
        !in.TakePlainString(&value)) {
      return false;
    }
    unsigned field;
    if (key == "event_id" || key == "eventId") {
      field = kEventId;
      arrival->set_event_id(value.data(), value.size());
    } else if (key == "table") {
      field = kTable;
      arrival->set_table(value.data(), value.size());
    } else if (key == "partition") {
      field = kPartition;
      arrival->set_partition(value.data(), value.size());
    } else if (key == "origin") {
      field = kOrigin;
      arrival->set_origin(value.data(), value.size());
    } else if (key == "at") {
      field = kAt;
      int64_t seconds;
      if (!ParsePlainTime(value, &seconds)) return false;
      arrival->mutable_at()->set_seconds(seconds);
    } else {
      return false;
    }
    if ((seen & field) != 0) return false;
    seen |= field;
  } while (in.Take(','));
  return in.Take('}') && in.AtEnd();
}

absl::Status ParseArrivalLine(const std::string& path, int line_number,
                              absl::string_view line, Arrival* arrival) {
  if (ParsePlainArrival(line, arrival)) return absl::OkStatus();
  arrival->Clear();
  return ParseJsonLine(path, line_number, std::string(line), arrival);
}

}  // namespace landfall::internal
