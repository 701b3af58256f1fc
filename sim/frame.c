#include "frame.h"
#include <stdlib.h>
#include <string.h>

unsigned char frame_crc8(const char *s, size_t n)
{
	unsigned char crc = 0;
	while (n--) {
		unsigned char b = (unsigned char)*s++;
		for (int i = 0; i < 8; i++) {
			unsigned char mix = (crc ^ b) & 1;
			crc >>= 1;
			if (mix) crc ^= 0x8C;
			b >>= 1;
		}
	}
	return crc;
}

void frame_parse(const char *line, frame_t *f)
{
	double t = f->t;
	memset(f, 0, sizeof *f);
	f->t = t;
	f->raw = strdup(line);
	const char *dollar = strrchr(line, '$');
	const char *end = dollar ? dollar : line + strlen(line);
	if (dollar && dollar[1]) {
		char *e;
		long crc = strtol(dollar + 1, &e, 10);
		f->crc_ok = *e == 0 && crc == frame_crc8(line, (size_t)(dollar - line));
	}
	/* KEY>value; pairs up to the '$' (or the whole line when it has none) */
	const char *p = line;
	while (p < end && f->nfields < FRAME_MAX_FIELDS) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *stop = semi ? semi : end;
		const char *gt = memchr(p, '>', (size_t)(stop - p));
		if (gt && gt > p && (size_t)(gt - p) < sizeof f->key[0] && (size_t)(stop - gt - 1) < sizeof f->val[0]) {
			memcpy(f->key[f->nfields], p, (size_t)(gt - p));
			memcpy(f->val[f->nfields], gt + 1, (size_t)(stop - gt - 1));
			f->nfields++;
		}
		p = stop + 1;
	}
}

static int as_number(const char *s, double *out)
{
	char *e;
	if (!*s) return 0;
	double v = strtod(s, &e);
	if (*e) return 0;
	*out = v;
	return 1;
}

int frame_get(const frame_t *f, const char *key, double *out)
{
	for (int k = 0; k < f->nfields; k++)
		if (!strcmp(f->key[k], key)) return as_number(f->val[k], out);
	return 0;
}

void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f) fprintf(out, "\\u%04x", c);
		else fputc(c, out);
	}
	fputc('"', out);
}

void frame_write_fields_json(FILE *out, const frame_t *f)
{
	fputc('{', out);
	for (int k = 0; k < f->nfields; k++) {
		double v;
		if (k) fputs(", ", out);
		json_string(out, f->key[k]);
		fputs(": ", out);
		/* JSON has no inf/nan: those stay strings */
		if (as_number(f->val[k], &v) && v == v && v - v == 0) fprintf(out, "%.10g", v);
		else json_string(out, f->val[k]);
	}
	fputc('}', out);
}
