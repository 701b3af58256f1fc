// A tiny unit-test harness: TEST(name) { CHECK(...); CHECK_NEAR(a, b, tol); CHECK_EQ(a, b); }
#pragma once
#include <math.h>
#include <stdio.h>

namespace mini_test {
struct Case {
  const char* name;
  void (*run)();
  Case* next;
};
inline Case*& registry() { static Case* head = nullptr; return head; }
inline int& failures() { static int count = 0; return count; }
inline int& checks() { static int count = 0; return count; }
struct Register {
  Register(Case* c) { c->next = registry(); registry() = c; }
};
inline void fail(const char* file, int line, const char* what) {
  ++failures();
  printf("  FAIL %s:%d: %s\n", file, line, what);
}
}  // namespace mini_test

#define TEST(name)                                                          \
  static void test_##name();                                                \
  static mini_test::Case case_##name = {#name, &test_##name, nullptr};      \
  static mini_test::Register register_##name(&case_##name);                 \
  static void test_##name()

#define CHECK(cond)                                                         \
  do {                                                                      \
    ++mini_test::checks();                                                  \
    if (!(cond)) mini_test::fail(__FILE__, __LINE__, #cond);                \
  } while (0)

#define CHECK_EQ(a, b)                                                      \
  do {                                                                      \
    ++mini_test::checks();                                                  \
    const double va_ = double(a), vb_ = double(b);                          \
    if (!(va_ == vb_)) {                                                    \
      char msg_[256];                                                       \
      snprintf(msg_, sizeof msg_, "%s == %s (%.6g vs %.6g)", #a, #b, va_, vb_); \
      mini_test::fail(__FILE__, __LINE__, msg_);                            \
    }                                                                       \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                               \
  do {                                                                      \
    ++mini_test::checks();                                                  \
    const double va_ = double(a), vb_ = double(b);                          \
    if (!(fabs(va_ - vb_) <= double(tol))) {                                \
      char msg_[256];                                                       \
      snprintf(msg_, sizeof msg_, "%s ~ %s (%.6g vs %.6g, tol %g)", #a, #b, va_, vb_, double(tol)); \
      mini_test::fail(__FILE__, __LINE__, msg_);                            \
    }                                                                       \
  } while (0)
