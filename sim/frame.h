/* Serial frames of the router (`KEY>value;...;$crc\r\n`): parsing and JSON output. */
#ifndef PVSIM_FRAME_H
#define PVSIM_FRAME_H
#include <stdio.h>

#define FRAME_MAX_FIELDS 24

typedef struct {
	double t;                 /* simulated time of the final '\n' */
	char *raw;                /* the line without CR LF */
	int crc_ok;               /* CRC present and equal to the computed one */
	int nfields;
	char key[FRAME_MAX_FIELDS][12];
	char val[FRAME_MAX_FIELDS][24];
} frame_t;

/* CRC-8 Dallas/Maxim, reflected (poly 0x8C), initial 0. */
unsigned char frame_crc8(const char *s, size_t n);
/* Parse one line (without CR LF) into f (t left untouched). */
void frame_parse(const char *line, frame_t *f);
/* Numeric value of key; 0 if the key is absent or not a number. */
int frame_get(const frame_t *f, const char *key, double *out);
/* {"KEY": value, ...}: numbers as numbers, anything else as strings. */
void frame_write_fields_json(FILE *out, const frame_t *f);
void json_string(FILE *out, const char *s);
#endif
