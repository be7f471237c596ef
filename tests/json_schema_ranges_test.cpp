// JSON Schema -> GBNF, exhaustively: integer ranges near their bounds, decimal ranges against
// exact arithmetic, and format date against std::chrono's calendar (test-only recognizer).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <limits>
#include <random>

#include "json_schema_test_helpers.h"

namespace dawn {
namespace {

using namespace testonly;

// Every integer near the bounds (and a sample between) is accepted exactly when in range.
TEST(JsonSchemaRanges, IntegerRangesExhaustive) {
  struct Case {
    const char* schema;
    long long lo, hi;  // inclusive; LLONG_MIN/MAX for none
  };
  const long long kNone = std::numeric_limits<long long>::max();
  const Case cases[] = {
      {R"({"type":"integer","minimum":1,"maximum":12})", 1, 12},
      {R"({"type":"integer","minimum":-50,"maximum":50})", -50, 50},
      {R"({"type":"integer","minimum":0,"maximum":65535})", 0, 65535},
      {R"({"type":"integer","minimum":7,"maximum":7})", 7, 7},
      {R"({"type":"integer","minimum":-1000,"maximum":-5})", -1000, -5},
      {R"({"type":"integer","minimum":99,"maximum":1001})", 99, 1001},
      {R"({"type":"integer","minimum":123,"maximum":45678})", 123, 45678},
      {R"({"type":"integer","minimum":-3,"maximum":0})", -3, 0},
      {R"({"type":"integer","minimum":17})", 17, kNone},
      {R"({"type":"integer","maximum":-3})", -kNone, -3},
      {R"({"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":100})", 1, 99},
      {R"({"type":"integer","minimum":1.5,"maximum":9.99})", 2, 9},
      {R"({"type":"integer","exclusiveMinimum":-2.5,"exclusiveMaximum":-0.5})", -2, -1},
      {R"({"type":"integer","minimum":-100,"exclusiveMaximum":10})", -100, 9},
      {R"({"type":"integer","minimum":1000000,"maximum":1000000000})", 1000000, 1000000000},
  };
  std::mt19937_64 rng(7);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.schema);
    TestGbnfRecognizer r = recognizer(Json::parse(c.schema));
    std::vector<long long> xs;
    for (long long b : {c.lo, c.hi}) {
      if (b == kNone || b == -kNone) continue;
      for (long long d = -130; d <= 130; ++d) xs.push_back(b + d);
      for (long long m : {10LL, 100LL, 1000LL}) xs.push_back(b * m), xs.push_back(-b * m), xs.push_back(b / m);
    }
    for (int i = 0; i < 300; ++i) xs.push_back(static_cast<long long>(rng() % 2000001) - 1000000);
    for (int i = 0; i < 100; ++i) xs.push_back(static_cast<long long>(rng() % 20000000001ULL) - 10000000000LL);
    for (long long x : xs) {
      const bool in = (c.lo == -kNone || x >= c.lo) && (c.hi == kNone || x <= c.hi);
      ASSERT_EQ(r.accepts(std::to_string(x)), in) << x;
    }
    for (const char* bad : {"-0", "00", "01", "+1", "1.0", "1e1", ""}) EXPECT_FALSE(r.accepts(bad)) << bad;
  }
}

// Decimal ranges against exact arithmetic: values k/10^f with up to 4 fraction digits, written
// with and without trailing zeros.
TEST(JsonSchemaRanges, NumberRangesRandomized) {
  struct Case {
    const char* schema;
    long long lo, hi;  // in units of 1e-4
    bool lo_excl, hi_excl;
    bool has_lo, has_hi;
  };
  const Case cases[] = {
      {R"({"type":"number","minimum":0,"maximum":1})", 0, 10000, false, false, true, true},
      {R"({"type":"number","minimum":-90,"maximum":90})", -900000, 900000, false, false, true, true},
      {R"({"type":"number","exclusiveMinimum":0.5,"maximum":2.25})", 5000, 22500, true, false, true, true},
      {R"({"type":"number","exclusiveMinimum":-1.5,"exclusiveMaximum":-0.25})", -15000, -2500, true, true, true, true},
      {R"({"type":"number","minimum":0.001})", 10, 0, false, false, true, false},
      {R"({"type":"number","exclusiveMaximum":100})", 0, 1000000, false, true, false, true},
      {R"({"type":"number","exclusiveMinimum":0})", 0, 0, true, false, true, false},
      {R"({"type":"number","minimum":-0.0625,"maximum":0.0625})", -625, 625, false, false, true, true},
      {R"({"type":"number","minimum":3.14,"maximum":3.1416})", 31400, 31416, false, false, true, true},
      {R"({"type":"number","minimum":-7,"exclusiveMaximum":-7.0})", 0, 0, false, false, false, false},  // empty
  };
  std::mt19937_64 rng(11);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.schema);
    const Json schema = Json::parse(c.schema);
    if (!c.has_lo && !c.has_hi) {
      EXPECT_EQ(error_of(schema), "#: the schema matches no JSON value");
      continue;
    }
    TestGbnfRecognizer r = recognizer(schema);
    std::vector<long long> vs;
    for (long long b : {c.lo, c.hi})
      for (long long d : {0LL, 1LL, 9LL, 10LL, 99LL, 100LL, 1000LL, 5000LL, 10000LL, 100000LL})
        vs.push_back(b + d), vs.push_back(b - d);
    for (int i = 0; i < 600; ++i) vs.push_back(static_cast<long long>(rng() % 4000001) - 2000000);
    for (int i = 0; i < 100; ++i) vs.push_back(static_cast<long long>(rng() % 40001) - 20000);
    for (long long v : vs) {
      const bool in =
          (!c.has_lo || (c.lo_excl ? v > c.lo : v >= c.lo)) && (!c.has_hi || (c.hi_excl ? v < c.hi : v <= c.hi));
      const long long a = v < 0 ? -v : v;
      const std::string ip = std::to_string(a / 10000);
      std::string fp = std::to_string(a % 10000);
      fp = std::string(4 - fp.size(), '0') + fp;
      std::vector<std::string> texts{ip + "." + fp, ip + "." + fp + "00"};
      while (!fp.empty() && fp.back() == '0') fp.pop_back();
      texts.push_back(fp.empty() ? ip : ip + "." + fp);
      if (fp.empty()) texts.push_back(ip + ".0");
      for (std::string t : texts) {
        if (v < 0) t = "-" + t;
        ASSERT_EQ(r.accepts(t), in) << t;
      }
    }
    for (const char* bad : {"-0", "-0.0", "1e0", "01", ".5", "5."}) EXPECT_FALSE(r.accepts(bad)) << bad;
  }
}

TEST(JsonSchemaRanges, DateIsTheGregorianCalendar) {
  TestGbnfRecognizer r = recognizer(J(R"({"type": "string", "format": "date"})"));
  using namespace std::chrono;
  for (int y : {1, 4, 99, 100, 400, 1900, 1996, 2000, 2023, 2024, 2100, 2400, 9996, 9999}) {
    for (unsigned m = 0; m <= 13; ++m)
      for (unsigned d = 0; d <= 32; ++d) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "\"%04d-%02u-%02u\"", y, m, d);
        const bool ok = year_month_day{year{y}, month{m}, day{d}}.ok();
        ASSERT_EQ(r.accepts(buf), ok) << buf;
      }
  }
  EXPECT_FALSE(r.accepts(R"("0000-01-01")"));
  EXPECT_FALSE(r.accepts(R"("2024-1-01")"));
  EXPECT_FALSE(r.accepts(R"("20240101")"));
}

}  // namespace
}  // namespace dawn
