// Frames and command lines as text, for the tests: one copy of each helper.
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frame.h"

// A command line as the gateway sends it: the body, '$', its CRC in decimal, CR LF (one static
// buffer: copy it before the next call).
inline const char* command_line(const char* body) {
  static char out[256];
  snprintf(out, sizeof out, "%s$%u\r\n", body, unsigned(crc8_maxim(body, uint8_t(strlen(body)))));
  return out;
}

// The number after `key` ("VO2>", ";MPC>": the key with its '>') in a frame's text, or `absent`.
inline double frame_field(const char* text, const char* key, double absent) {
  const char* at = strstr(text, key);
  return at ? atof(at + strlen(key)) : absent;
}

// A frame of channel 2 alone (a large move of VO2 sent at once, "VO2>n;PO2>w;$crc"), not a whole one.
inline bool is_ch2_frame(const char* text) { return strncmp(text, "VO2>", 4) == 0; }
