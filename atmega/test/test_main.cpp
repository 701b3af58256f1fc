#include "mini_test.h"

int main() {
  // The registry is built in reverse order of definition: reverse it back.
  mini_test::Case* ordered = nullptr;
  for (mini_test::Case* c = mini_test::registry(); c;) {
    mini_test::Case* next = c->next;
    c->next = ordered;
    ordered = c;
    c = next;
  }
  int cases = 0;
  for (mini_test::Case* c = ordered; c; c = c->next) {
    const int before = mini_test::failures();
    c->run();
    ++cases;
    printf("%s %s\n", mini_test::failures() == before ? "ok  " : "FAIL", c->name);
  }
  printf("%d test cases, %d checks, %d failures\n", cases, mini_test::checks(), mini_test::failures());
  return mini_test::failures() == 0 ? 0 : 1;
}
