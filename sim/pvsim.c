/*
 * pvsim-core: runs an ATmega328P firmware ELF in simavr against a modelled house
 * (mains voltage, grid current, random-fire SSR + water heater on channel 1, an
 * in-phase channel-2 load) and measures what the firmware does.
 *
 * It is driven by the `sim/pvsim` wrapper, which resolves the user-facing options
 * (pins, symbol address, scenario CSV) into the plain flags parsed below.
 * See sim/README.md for the model and the summary fields.
 *
 * Design notes:
 *  - No per-instruction work: the mains is advanced by a cycle timer at every zero
 *    crossing; the ADC, gate pin and UART are irq callbacks.  Everything analog is
 *    computed in closed form at the instant it is needed.
 *  - Time base: t = avr->cycle / 16 MHz, the mains phase is 0 at t = 0.
 *  - UART RX (--rx-input) is fed one byte at a time from a cycle timer and simavr's XON irq,
 *    at the sender's baud rate; the EEPROM (--eeprom) is loaded before and saved after the run.
 *  - The optional hot-water tank (--tank-litres) is advanced once per half-cycle, when that
 *    half-cycle's heater energy is known; its thermostat gates the heater from the next one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <simavr/sim_avr.h>
#include <simavr/sim_elf.h>
#include <simavr/sim_irq.h>
#include <simavr/sim_io.h>
#include <simavr/sim_cycle_timers.h>
#include <simavr/avr_adc.h>
#include <simavr/avr_uart.h>
#include <simavr/avr_ioport.h>
#include <simavr/avr_extint.h>
#include <simavr/avr_eeprom.h>

#include "frame.h"

#define F_CPU_HZ 16000000.0
#define ADC_VREF_MV 5000.0
#define ADC_BIAS_MV 2500.0
/* ATmega328P ADC control registers (data-space addresses) */
#define REG_ADCSRA 0x7A
#define REG_ADCSRB 0x7B
#define BIT_ADATE 5

/* ------------------------------------------------------------------ options */

static struct {
	const char *elf, *scenario, *summary, *uart_out, *ch2_input, *ch2_loads, *rx_input, *eeprom;
	double seconds, mains_hz, mains_v, v_scale, i_scale, ch2_delay, i_extra_w, adc_noise_lsb, rx_baud;
	/* hot-water tank: tank_litres 0 = no model (ch1_w alone says whether the heater draws) */
	double tank_litres, tank_c, tank_loss_w_per_k, tank_ambient_c, thermostat_c, thermostat_hysteresis_k, cold_c;
	const char *draw_offs, *tank_out;
	double probe_lost_from, probe_lost_to;  /* --tank-probe-lost: the file says nan then (-1: never) */
	unsigned long seed;
	int v_adc, i_adc;
	char gate_port;
	int gate_bit;
	long delay_addr;          /* SRAM address of g_gate_delay_ticks, -1 = use FID */
	int realtime, stream;
} opt = {
	.seconds = -1, .mains_hz = 50, .mains_v = 230, .v_scale = 5.0, .i_scale = 40.0,
	.ch2_delay = 0.5, .v_adc = 3, .i_adc = 5, .gate_port = 'D', .gate_bit = 2,
	.delay_addr = -1, .probe_lost_from = -1, .probe_lost_to = -1, .adc_noise_lsb = 0.5, .seed = 1, .rx_baud = 9600,
	.tank_c = 45, .tank_loss_w_per_k = 1.6, .tank_ambient_c = 18, .thermostat_c = 70,
	.thermostat_hysteresis_k = 5, .cold_c = 12,
};

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("pvsim-core: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) die("out of memory");
	return p;
}

/* growable array of doubles */
typedef struct { double *v; size_t n, cap; } dvec_t;
static void dvec_push(dvec_t *d, double x)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 1024;
		d->v = xrealloc(d->v, d->cap * sizeof *d->v);
	}
	d->v[d->n++] = x;
}

/* ----------------------------------------------------------------- scenario */

typedef struct { double t, pv, house, ch1, ch2, vrms; } step_t;
static step_t *steps;
static size_t nsteps;

/* Normalized by the wrapper: one row per line, "t pv house ch1 ch2 mains_v". */
static void load_scenario(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) die("cannot open scenario %s: %s", path, strerror(errno));
	step_t s;
	while (fscanf(f, "%lf %lf %lf %lf %lf %lf", &s.t, &s.pv, &s.house, &s.ch1, &s.ch2, &s.vrms) == 6) {
		steps = xrealloc(steps, (nsteps + 1) * sizeof *steps);
		steps[nsteps++] = s;
	}
	fclose(f);
	if (!nsteps) die("scenario %s has no rows", path);
}

/* Step function: the last row whose t <= t (the first row also covers t < its t). */
static const step_t *scenario_at(double t)
{
	static size_t i;
	while (i + 1 < nsteps && steps[i + 1].t <= t) i++;
	while (i > 0 && steps[i].t > t) i--;
	return &steps[i];
}

/* -------------------------------------------------------------- mains model */

/* One half-cycle of the mains, between two zero crossings. Its electrical state is
 * fixed for its whole length (scenario changes apply at zero crossings). */
typedef struct {
	int64_t n;                /* index: even = positive half-cycle */
	double t0, t1;            /* zero crossings, s */
	double vpk;               /* peak voltage (0 = no mains) */
	double ipk_base;          /* peak of the in-phase current of house - pv + ch2 + extra */
	double r_heater;          /* heater resistance, 0 = thermostat open */
	int thermostat_open;      /* the tank's thermostat held the heater off this half-cycle */
	double fire_t;            /* SSR conduction start, <0 = not conducting */
	double base_w, ch2_w;     /* powers behind ipk_base, for the energy accounts */
	const step_t *step;
} half_t;

static avr_t *avr;
static double omega;               /* 2 pi f */
static half_t cur, prev;           /* the half-cycle under way and the one before */
static avr_cycle_count_t next_zc_cycle;
static int gate_level;

static double cycle_to_s(avr_cycle_count_t c) { return (double)c / F_CPU_HZ; }
static avr_cycle_count_t zc_cycle(int64_t n) { return (avr_cycle_count_t)llround(n * F_CPU_HZ / (2 * opt.mains_hz)); }

/* Instantaneous mains voltage and grid current (positive = import) at t. */
static void signals_at(double t, double *v, double *i)
{
	const half_t *h = (t >= cur.t0 || prev.t1 == 0) ? &cur : &prev;
	double s = sin(omega * t);
	*v = h->vpk * s;
	*i = h->ipk_base * s;
	/* the SSR conducts from its firing instant to the end of the half-cycle */
	if (h->r_heater > 0 && h->fire_t >= 0 && t >= h->fire_t && t < h->t1)
		*i += *v / h->r_heater;
}

/* Energy (J) a resistor R takes from the sine of peak vpk between u0 and u1 seconds
 * after a zero crossing: integral of vpk^2 sin^2(wu)/R. */
static double heater_energy(double vpk, double r, double u0, double u1)
{
	if (r <= 0 || u1 <= u0) return 0;
	double F1 = u1 / 2 - sin(2 * omega * u1) / (4 * omega);
	double F0 = u0 / 2 - sin(2 * omega * u0) / (4 * omega);
	return vpk * vpk / r * (F1 - F0);
}

/* -------------------------------------------------------------- channel 2 */

/* The built-in clients: one load that follows the frames' VO2 (its rating is the scenario's ch2_w,
 * after --ch2-delay), or with --ch2-loads up to CH2_MAX_LOADS loads in priority order, each with its
 * own rating and delay, sharing the frames' watts as the gateway's pv_loads does: each takes what
 * it can of what the ones before it left. */
#define CH2_MAX_LOADS 8
#define CH2_QUEUE 64
typedef struct {
	double rating_w;          /* NAN: the scenario's ch2_w (the single load) */
	double delay_s;
	double ratio;             /* dimmer ratio 0..1 now */
	double wh;                /* energy it drew */
	double sec_j;             /* ... in the simulated second going on */
	struct { double t, ratio; } events[CH2_QUEUE];
	int head, tail;
} ch2_load_t;
static ch2_load_t ch2_loads[CH2_MAX_LOADS];
static int ch2_nloads;
static double ch2_dim_w;           /* --ch2-loads: the full scale (DIM) the frames last reported */
static double ch2_input_w;         /* --ch2-input: last power fed back by the real client */
static int ch2_fd = -1;

/* "W@S[,W@S...]" (W > 0 watts, S >= 0 seconds), else the one load of the scenario's ch2_w. */
static void ch2_setup(const char *spec)
{
	if (!spec) {
		ch2_loads[0] = (ch2_load_t){ .rating_w = NAN, .delay_s = opt.ch2_delay };
		ch2_nloads = 1;
		return;
	}
	const char *p = spec;
	for (;;) {
		const char *item_end = strchr(p, ',');
		int item_len = item_end ? (int)(item_end - p) : (int)strlen(p);
		char *e;
		double w = strtod(p, &e), delay = 0;
		int ok = e != p && *e == '@' && isfinite(w) && w > 0;
		if (ok) {
			const char *d = e + 1;
			delay = strtod(d, &e);
			ok = e != d && e == p + item_len && isfinite(delay) && delay >= 0;
		}
		if (!ok)
			die("--ch2-loads \"%s\": item \"%.*s\" is not W@S (watts > 0, seconds >= 0)", spec, item_len, p);
		if (ch2_nloads == CH2_MAX_LOADS) die("--ch2-loads \"%s\": more than %d loads", spec, CH2_MAX_LOADS);
		ch2_loads[ch2_nloads++] = (ch2_load_t){ .rating_w = w, .delay_s = delay };
		ch2_dim_w += w;  /* until a frame reports DIM: the ATmega set up for all of them */
		if (!item_end) break;
		p = item_end + 1;
	}
}

static void ch2_schedule(ch2_load_t *l, double t, double ratio)
{
	int next = (l->tail + 1) % CH2_QUEUE;
	if (next == l->head) l->head = (l->head + 1) % CH2_QUEUE;   /* drop the oldest */
	l->events[l->tail].t = t;
	l->events[l->tail].ratio = ratio < 0 ? 0 : ratio > 1 ? 1 : ratio;
	l->tail = next;
}

/* A good frame with VO2: every load schedules its new level. The loads share the frame's PO2 (VO2
 * in watts), or VO2 of the last DIM reported from a firmware without it. */
static void ch2_on_frame(const frame_t *f, double vo2)
{
	if (!isfinite(ch2_loads[0].rating_w)) {
		ch2_schedule(&ch2_loads[0], f->t + ch2_loads[0].delay_s, vo2 / 100.0);
		return;
	}
	double dim, left;
	if (frame_get(f, "DIM", &dim) && dim > 0) ch2_dim_w = dim;
	if (!frame_get(f, "PO2", &left)) left = vo2 / 100.0 * ch2_dim_w;
	for (int k = 0; k < ch2_nloads; k++) {
		ch2_load_t *l = &ch2_loads[k];
		double share = left < l->rating_w ? (left > 0 ? left : 0) : l->rating_w;
		left -= share;
		ch2_schedule(l, f->t + l->delay_s, share / l->rating_w);
	}
}

static void ch2_poll_input(void)
{
	static char buf[256];
	static size_t len;
	for (;;) {
		ssize_t r = read(ch2_fd, buf + len, sizeof buf - 1 - len);
		if (r <= 0) break;
		len += (size_t)r;
		buf[len] = 0;
		char *nl;
		while ((nl = strchr(buf, '\n'))) {
			*nl = 0;
			char *end;
			double w = strtod(buf, &end);
			if (end != buf) ch2_input_w = w > 0 ? w : 0;
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
		if (len == sizeof buf - 1) len = 0;   /* a line too long: garbage, drop it */
	}
}

static double ch2_load_w(const ch2_load_t *l, const step_t *s)
{
	return l->ratio * (isfinite(l->rating_w) ? l->rating_w : s->ch2);
}

/* Channel 2's power for a half-cycle starting at t with the given scenario row. */
static double ch2_power(double t, const step_t *s)
{
	if (ch2_fd >= 0) {
		ch2_poll_input();
		return ch2_input_w;
	}
	double w = 0;
	for (int k = 0; k < ch2_nloads; k++) {
		ch2_load_t *l = &ch2_loads[k];
		while (l->head != l->tail && l->events[l->head].t <= t) {
			l->ratio = l->events[l->head].ratio;
			l->head = (l->head + 1) % CH2_QUEUE;
		}
		w += ch2_load_w(l, s);
	}
	return w;
}

/* The energy each built-in load drew over a half-cycle of dt seconds (its level is fixed over it). */
static void ch2_account(const step_t *s, double dt)
{
	if (ch2_fd >= 0) return;
	for (int k = 0; k < ch2_nloads; k++) {
		double j = ch2_load_w(&ch2_loads[k], s) * dt;
		ch2_loads[k].wh += j / 3600;
		ch2_loads[k].sec_j += j;
	}
}

/* ------------------------------------------------------------ hot-water tank */

#define WATER_J_PER_L_K 4186.0     /* 1 litre of water = 1 kg */

typedef struct { double t, litres; } draw_off_t;

static struct {
	int on;                        /* --tank-litres > 0 */
	double c;                      /* water temperature (fully mixed), C */
	double j_per_k;                /* heat capacity of the water */
	int open;                      /* thermostat open: the heater takes nothing */
	draw_off_t *draws;
	size_t ndraws, next_draw;
	double start_c, min_c, max_c, heat_in_j, loss_j, drawn_l, open_s;
	long openings;
	int out_failed;                /* --tank-out could not be written (warned once) */
} tank;

static int by_time(const void *a, const void *b)
{
	double ta = ((const draw_off_t *)a)->t, tb = ((const draw_off_t *)b)->t;
	return (ta > tb) - (ta < tb);
}

/* "t_s:litres[,t_s:litres...]"; anything else stops the run, naming the spec and the item. */
static void parse_draw_offs(const char *spec)
{
	const char *p = spec;
	for (;;) {
		const char *item_end = strchr(p, ',');
		int item_len = item_end ? (int)(item_end - p) : (int)strlen(p);
		char *e;
		double t = strtod(p, &e);
		int ok = e != p && *e == ':' && isfinite(t) && t >= 0;
		double litres = 0;
		if (ok) {
			const char *l = e + 1;
			litres = strtod(l, &e);
			ok = e != l && e == p + item_len && isfinite(litres) && litres > 0;
		}
		if (!ok)
			die("--draw-offs \"%s\": item \"%.*s\" is not t_s:litres (t_s >= 0, litres > 0)",
			    spec, item_len, p);
		if (litres > opt.tank_litres)
			die("--draw-offs \"%s\": item \"%.*s\" draws more than the %g L tank holds",
			    spec, item_len, p, opt.tank_litres);
		tank.draws = xrealloc(tank.draws, (tank.ndraws + 1) * sizeof *tank.draws);
		tank.draws[tank.ndraws++] = (draw_off_t){ t, litres };
		if (!item_end) break;
		p = item_end + 1;
	}
	qsort(tank.draws, tank.ndraws, sizeof *tank.draws, by_time);
}

/* Via PATH.tmp and a rename: a reader (the gateway's sim_sensor) never sees half a file. */
static void tank_write_out(double t)
{
	if (!opt.tank_out || tank.out_failed) return;
	char *tmp = xrealloc(NULL, strlen(opt.tank_out) + 5);
	sprintf(tmp, "%s.tmp", opt.tank_out);
	FILE *f = fopen(tmp, "w");
	/* a failed probe (as a DS18B20 with a bad CRC) reports "nan", not the water's temperature */
	const int lost = opt.probe_lost_from >= 0 && t >= opt.probe_lost_from && t < opt.probe_lost_to;
	int ok = f && (lost ? fprintf(f, "nan\n") : fprintf(f, "%.2f\n", tank.c)) > 0;
	if (f && fclose(f) != 0) ok = 0;
	if (ok && rename(tmp, opt.tank_out) != 0) ok = 0;
	if (!ok) {
		/* a long run goes on without its file rather than stop */
		fprintf(stderr, "pvsim-core: cannot write --tank-out %s: %s (no further attempts)\n",
		        opt.tank_out, strerror(errno));
		tank.out_failed = 1;
		unlink(tmp);
	}
	free(tmp);
}

static void tank_note_extremes(void)
{
	if (tank.c < tank.min_c) tank.min_c = tank.c;
	if (tank.c > tank.max_c) tank.max_c = tank.c;
}

/* Opens at the setpoint, closes again at setpoint - hysteresis: a plain bimetal thermostat. */
static void thermostat_update(void)
{
	if (!tank.open && tank.c >= opt.thermostat_c) {
		tank.open = 1;
		tank.openings++;
	} else if (tank.open && tank.c <= opt.thermostat_c - opt.thermostat_hysteresis_k) {
		tank.open = 0;
	}
}

/* Showers due by t: the drawn volume is replaced by cold water, mixed at once. */
static void tank_draw_due(double t)
{
	while (tank.next_draw < tank.ndraws && tank.draws[tank.next_draw].t <= t + 1e-9) {
		double l = tank.draws[tank.next_draw++].litres, v = opt.tank_litres;
		tank.c = (tank.c * (v - l) + opt.cold_c * l) / v;
		tank.drawn_l += l;
		tank_note_extremes();
	}
}

static void tank_setup(void)
{
	if (opt.tank_litres < 0) die("--tank-litres must be >= 0 (0 = no tank model)");
	if (opt.tank_litres == 0) {
		if (opt.draw_offs || opt.tank_out) die("--draw-offs and --tank-out need --tank-litres > 0");
		return;
	}
	if (opt.tank_loss_w_per_k < 0) die("--tank-loss-w-per-k must be >= 0");
	if (opt.thermostat_hysteresis_k < 0) die("--thermostat-hysteresis-k must be >= 0");
	tank.on = 1;
	tank.c = tank.start_c = tank.min_c = tank.max_c = opt.tank_c;
	tank.j_per_k = WATER_J_PER_L_K * opt.tank_litres;
	/* water already at the setpoint: the thermostat starts open (not counted as an opening) */
	tank.open = tank.c >= opt.thermostat_c;
	if (opt.draw_offs) parse_draw_offs(opt.draw_offs);
	tank_draw_due(0);
	thermostat_update();
	if (opt.tank_out) {
		tank_write_out(0);
		if (tank.out_failed) die("cannot write --tank-out %s", opt.tank_out);
	}
}

/* Advance the water over half-cycle h, which took heat_j from the heater. Solved exactly:
 * C dT/dt = P - k (T - ambient) with P = heat_j / dt over the half-cycle (10 ms, so spreading
 * the heat evenly changes nothing measurable), whose solution relaxes exponentially towards
 * ambient + P / k. The losses are what the heat in did not add: the energy balance is exact. */
static void tank_half(const half_t *h, double heat_j)
{
	double dt = h->t1 - h->t0, before = tank.c, k = opt.tank_loss_w_per_k;
	if (k > 0) {
		double settle_c = opt.tank_ambient_c + heat_j / dt / k;
		tank.c = settle_c + (tank.c - settle_c) * exp(-k * dt / tank.j_per_k);
	} else {
		tank.c += heat_j / tank.j_per_k;
	}
	tank.heat_in_j += heat_j;
	tank.loss_j += heat_j - tank.j_per_k * (tank.c - before);
	if (h->thermostat_open) tank.open_s += dt;
	tank_note_extremes();
	tank_draw_due(h->t1);
	thermostat_update();
}

/* ------------------------------------------------------------ measurements */

static struct {
	/* per mains cycle, being accumulated */
	double cyc_grid_j, cyc_ch1_j, cyc_ch2_j, cyc_t0;
	int cyc_nv, cyc_ni;
	/* per second, being accumulated */
	double sec_grid_j, sec_ch1_j, sec_ch2_j, sec_pv_j, sec_house_j, sec_t;
	int sec_index;
	/* results */
	dvec_t grid_w_per_cycle, cycle_t0;
	double import_j, export_j, router_import_j, ch1_j, ch2_j, grid_j, run_s;
	long pairs_cycles, pairs_sum, pairs_min;
	long fired, straddles;
	long gate_n, gate_skipped;
	double gate_sum, gate_max_abs, gate_min, gate_max;
} m = { .pairs_min = -1, .gate_min = INFINITY, .gate_max = -INFINITY };

typedef struct {
	double t, pv, house, grid, ch1, ch2;
	long frame;               /* index into frames, -1 = none this second */
	double tank_c;            /* at the end of the second; NAN = no tank model */
	int thermostat_open;      /* at the end of the second */
	double load_w[CH2_MAX_LOADS];  /* --ch2-loads: each load's mean power */
} second_t;
static second_t *seconds_v;
static size_t nseconds;

static frame_t *frames;
static size_t nframes;
static long last_good_frame = -1, first_good_frame = -1;

/* ------------------------------------------------------------ output helpers */

static void json_frame_fields(FILE *f, long idx)
{
	if (idx < 0) { fputs("null", f); return; }
	frame_write_fields_json(f, &frames[idx]);
}

/* space: " " in the summary (its style), "" in the compact stream lines */
static void json_tank_fields(FILE *f, const second_t *s, const char *space)
{
	if (isnan(s->tank_c)) fprintf(f, "\"tank_c\":%snull,", space);
	else fprintf(f, "\"tank_c\":%s%.4f,", space, s->tank_c);
	fprintf(f, "%s\"thermostat_open\":%s%s", space, space, s->thermostat_open ? "true" : "false");
}

static void emit_stream_line(const second_t *s)
{
	printf("{\"t\":%.0f,\"pv_w\":%.1f,\"house_w\":%.1f,\"grid_w\":%.1f,\"ch1_w\":%.1f,\"ch2_w\":%.1f,\"frame\":",
	       s->t, s->pv, s->house, s->grid, s->ch1, s->ch2);
	json_frame_fields(stdout, last_good_frame);
	putchar(',');
	json_tank_fields(stdout, s, "");
	fputs("}\n", stdout);
	fflush(stdout);
}

/* ----------------------------------------------------------- realtime pacing */

static struct timespec wall_start;
static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec - wall_start.tv_sec) + (ts.tv_nsec - wall_start.tv_nsec) * 1e-9;
}

static void pace(double sim_t)
{
	double ahead = sim_t - wall_now();
	if (ahead > 0.001) {
		struct timespec ts = { (time_t)ahead, (long)((ahead - (time_t)ahead) * 1e9) };
		nanosleep(&ts, NULL);
	}
}

/* ---------------------------------------------------------- zero crossings */

static void end_of_second(void)
{
	second_t s = {
		.t = m.sec_index,
		.pv = m.sec_pv_j / m.sec_t, .house = m.sec_house_j / m.sec_t,
		.grid = m.sec_grid_j / m.sec_t, .ch1 = m.sec_ch1_j / m.sec_t, .ch2 = m.sec_ch2_j / m.sec_t,
		.frame = -1,
		.tank_c = tank.on ? tank.c : NAN, .thermostat_open = tank.on && tank.open,
	};
	for (long k = (long)nframes - 1; k >= 0 && frames[k].t >= m.sec_index; k--)
		if (frames[k].t < m.sec_index + 1 && frames[k].crc_ok) { s.frame = k; break; }
	for (int k = 0; k < ch2_nloads; k++) {
		s.load_w[k] = ch2_loads[k].sec_j / m.sec_t;
		ch2_loads[k].sec_j = 0;
	}
	seconds_v = xrealloc(seconds_v, (nseconds + 1) * sizeof *seconds_v);
	seconds_v[nseconds++] = s;
	/* the file first: a reader of the stream line then finds the file already that current */
	if (tank.on) tank_write_out(m.sec_index + 1);
	if (opt.stream) emit_stream_line(&s);
	m.sec_grid_j = m.sec_ch1_j = m.sec_ch2_j = m.sec_pv_j = m.sec_house_j = m.sec_t = 0;
	m.sec_index++;
}

static void end_of_cycle(double t_end)
{
	double T = t_end - m.cyc_t0;
	double grid_w = m.cyc_grid_j / T;
	dvec_push(&m.grid_w_per_cycle, grid_w);
	dvec_push(&m.cycle_t0, m.cyc_t0);
	/* import and export netted per mains cycle (an energy meter that integrates
	 * each direction separately would see the same at this resolution) */
	if (m.cyc_grid_j > 0) {
		m.import_j += m.cyc_grid_j;
		/* cur is the cycle's second half, just ended; rows change only at crossings */
		if (cur.step->pv > cur.step->house) m.router_import_j += m.cyc_grid_j;
	} else {
		m.export_j -= m.cyc_grid_j;
	}
	if (m.cyc_t0 >= 1.0 - 1e-9) {
		long pairs = m.cyc_nv < m.cyc_ni ? m.cyc_nv : m.cyc_ni;
		m.pairs_cycles++;
		m.pairs_sum += pairs;
		if (m.pairs_min < 0 || pairs < m.pairs_min) m.pairs_min = pairs;
	}
	m.cyc_grid_j = m.cyc_ch1_j = m.cyc_ch2_j = 0;
	m.cyc_nv = m.cyc_ni = 0;
	m.cyc_t0 = t_end;
	if (ch2_fd >= 0) ch2_poll_input();
	if (t_end >= m.sec_index + 1 - 1e-9) end_of_second();
}

/* Close the accounts of half-cycle `h` (it ended at h->t1). */
static void account_half(const half_t *h)
{
	double dt = h->t1 - h->t0;
	double heat = h->fire_t >= 0 ? heater_energy(h->vpk, h->r_heater, h->fire_t - h->t0, dt) : 0;
	double base = h->vpk > 0 ? h->base_w * dt : 0;
	double ch2 = h->vpk > 0 ? h->ch2_w * dt : 0;
	if (h->vpk > 0) ch2_account(h->step, dt);
	m.cyc_grid_j += base + heat;
	m.cyc_ch1_j += heat;
	m.cyc_ch2_j += ch2;
	m.grid_j += base + heat;
	m.ch1_j += heat;
	m.ch2_j += ch2;
	m.sec_grid_j += base + heat;
	m.sec_ch1_j += heat;
	m.sec_ch2_j += ch2;
	m.sec_pv_j += h->step->pv * dt;
	m.sec_house_j += h->step->house * dt;
	m.sec_t += dt;
	if (tank.on) tank_half(h, heat);
}

/* Set up half-cycle n, starting now. */
static void begin_half(int64_t n)
{
	double t0 = cycle_to_s(zc_cycle(n));
	const step_t *s = scenario_at(t0);
	double vrms = s->vrms;
	double vnom = opt.mains_v > 0 ? opt.mains_v : 230.0;
	prev = cur;
	cur = (half_t){ .n = n, .t0 = t0, .t1 = cycle_to_s(zc_cycle(n + 1)), .step = s, .fire_t = -1 };
	cur.vpk = vrms * M_SQRT2;
	/* the heater is a resistor rated ch1 W at the nominal voltage */
	cur.thermostat_open = tank.on && tank.open;
	cur.r_heater = s->ch1 > 0 && !cur.thermostat_open ? vnom * vnom / s->ch1 : 0;
	cur.ch2_w = ch2_power(t0, s);
	cur.base_w = s->house - s->pv + opt.i_extra_w + cur.ch2_w;
	cur.ipk_base = vrms > 0 ? cur.base_w / vrms * M_SQRT2 : 0;
	/* a gate still HIGH at the zero crossing fires the whole new half-cycle */
	if (gate_level && cur.vpk > 0) {
		cur.fire_t = t0;
		m.straddles++;
	}
	next_zc_cycle = zc_cycle(n + 1);
}

static void rx_zero_cross(void);

static void zero_cross(void)
{
	rx_zero_cross();
	account_half(&cur);
	if (cur.n & 1) end_of_cycle(cur.t1);
	m.run_s = cur.t1;
	begin_half(cur.n + 1);
	if (opt.realtime) pace(cur.t0);
}

static avr_cycle_count_t zero_cross_timer(avr_t *a, avr_cycle_count_t when, void *param)
{
	(void)a; (void)when; (void)param;
	zero_cross();
	return next_zc_cycle;
}

/* ------------------------------------------------------------------ gate */

static double intended_delay_us(void)
{
	if (opt.delay_addr >= 0)
		return (avr->data[opt.delay_addr] | (avr->data[opt.delay_addr + 1] << 8)) * 0.5;
	double fid;
	if (last_good_frame >= 0 && frame_get(&frames[last_good_frame], "FID", &fid)) return fid;
	return NAN;
}

static void gate_changed(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq; (void)param;
	int level = value != 0;
	if (level == gate_level) return;        /* fires on every PORT write, not only on edges */
	gate_level = level;
	if (!level || cur.fire_t >= 0 || cur.vpk <= 0) return;
	double t = cycle_to_s(avr->cycle);
	cur.fire_t = t;
	m.fired++;
	double delay = intended_delay_us();
	if (isnan(delay)) { m.gate_skipped++; return; }
	double err = (t - cur.t0) * 1e6 - delay;
	m.gate_n++;
	m.gate_sum += err;
	if (fabs(err) > m.gate_max_abs) m.gate_max_abs = fabs(err);
	if (err < m.gate_min) m.gate_min = err;
	if (err > m.gate_max) m.gate_max = err;
}

/* ------------------------------------------------------------------ ADC */

static avr_irq_t *adc_in[2];               /* the V and I channel inputs */
static struct { int ch; avr_cycle_count_t start, sample; int valid; } last_conv;

/* Input-referred noise of a real converter and front end, seeded so a run is reproducible:
 * without it, quantisation of a steady waveform is a fixed pattern that can bias a power
 * measurement by watts; real silicon's ~0.5 LSB of noise dithers it away. */
static uint64_t noise_state;

static double uniform01(void)
{
	noise_state ^= noise_state << 13;
	noise_state ^= noise_state >> 7;
	noise_state ^= noise_state << 17;
	return ((noise_state >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double adc_noise_mv(void)
{
	if (opt.adc_noise_lsb <= 0) return 0;
	/* Box-Muller: one normal deviate per call is plenty here */
	double r = sqrt(-2.0 * log(uniform01()));
	return opt.adc_noise_lsb * (ADC_VREF_MV / 1024.0) * r * cos(2.0 * M_PI * uniform01());
}

/* What the ADC would return, as millivolts that simavr's integer scaling
 * (mV * 1023 / 5000) turns into exactly the code real silicon gives,
 * floor(Vin * 1024 / Vref), clamped to 0..1023. */
static uint32_t adc_input_mv(double mv)
{
	double code = floor(mv * 1024.0 / ADC_VREF_MV);
	if (code < 0) code = 0;
	if (code > 1023) code = 1023;
	return (uint32_t)ceil(code * ADC_VREF_MV / 1023.0);
}

/* Raise, on every modelled channel, the value of a conversion of channel ch sampled
 * at cycle `sample`: whatever mux the firmware holds when it reads ADCL, it gets
 * this conversion's result. */
static void present_conversion(int ch, avr_cycle_count_t sample)
{
	uint32_t val = 0;                       /* an unmodelled channel reads 0 V */
	if (ch == opt.v_adc || ch == opt.i_adc) {
		double v, i;
		signals_at(cycle_to_s(sample), &v, &i);
		val = ch == opt.v_adc ? adc_input_mv(ADC_BIAS_MV + opt.v_scale * v + adc_noise_mv())
		                      : adc_input_mv(ADC_BIAS_MV + opt.i_scale * i + adc_noise_mv());
	}
	avr_raise_irq(adc_in[0], val);
	avr_raise_irq(adc_in[1], val);
}

/* Raised by simavr when a conversion STARTS, with the mux of that moment. */
static void adc_trigger(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq; (void)param;
	union { avr_adc_mux_t mux; uint32_t v; } e = { .v = value };
	int ch = e.mux.kind == ADC_MUX_SINGLE ? (int)e.mux.src : -1;
	uint8_t adcsra = avr->data[REG_ADCSRA];
	int adps = adcsra & 7;
	avr_cycle_count_t adc_clk = adps ? (1u << adps) : 2;
	avr_cycle_count_t now = avr->cycle;
	/* free running (ADATE with ADTS = 0) chains conversions back to back; a start
	 * within one (first-conversion) length of the previous start is the next link */
	int chained = (adcsra & (1 << BIT_ADATE)) && (avr->data[REG_ADCSRB] & 7) == 0 &&
	              last_conv.valid && now - last_conv.start <= 25 * adc_clk + 4;

	if (ch == opt.v_adc) m.cyc_nv++;
	else if (ch == opt.i_adc) m.cyc_ni++;

	/* the sample-and-hold closes 1.5 ADC clocks after the start */
	avr_cycle_count_t sample = now + (3 * adc_clk) / 2;
	if (chained)
		/* the conversion that just completed is the one about to be read */
		present_conversion(last_conv.ch, last_conv.sample);
	else
		/* single conversion: it will be read after it completes */
		present_conversion(ch, sample);
	last_conv.ch = ch;
	last_conv.start = now;
	last_conv.sample = sample;
	last_conv.valid = 1;
}

/* ------------------------------------------------------------------ UART */

static int uart_fd = -1;
static long uart_dropped;
static char line[512];
static size_t line_len;

static void on_frame_line(const char *s)
{
	frames = xrealloc(frames, (nframes + 1) * sizeof *frames);
	frame_t *f = &frames[nframes];
	frame_parse(s, f);
	f->t = cycle_to_s(avr->cycle);
	if (f->crc_ok) {
		last_good_frame = (long)nframes;
		if (first_good_frame < 0) first_good_frame = (long)nframes;
		double vo2;
		if (ch2_fd < 0 && frame_get(f, "VO2", &vo2)) ch2_on_frame(f, vo2);
	}
	nframes++;
}

static void uart_byte(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq; (void)param;
	char c = (char)value;
	if (uart_fd >= 0 && write(uart_fd, &c, 1) != 1) uart_dropped++;
	if (c == '\n') {
		line[line_len] = 0;
		if (line_len && line[line_len - 1] == '\r') line[line_len - 1] = 0;
		on_frame_line(line);
		line_len = 0;
	} else if (line_len < sizeof line - 1) {
		line[line_len++] = c;
	}
}

static void set_raw(int fd)
{
	/* raw, or the line discipline turns "\r\n" into "\r\r\n" (and input CR into LF) */
	struct termios tio;
	if (isatty(fd) && tcgetattr(fd, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(fd, TCSANOW, &tio);
	}
}

/* rdwr: the pty is also --rx-input (one open, both directions) */
static void open_uart_out(const char *path, int rdwr)
{
	struct stat st;
	int exists = stat(path, &st) == 0;
	if (exists && S_ISCHR(st.st_mode))
		uart_fd = open(path, (rdwr ? O_RDWR : O_WRONLY) | O_NOCTTY | O_NONBLOCK);
	else if (exists && S_ISFIFO(st.st_mode))
		uart_fd = open(path, O_RDWR | O_NONBLOCK);   /* RDWR: no ENXIO without a reader */
	else
		uart_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (uart_fd < 0) die("cannot open --uart-out %s: %s", path, strerror(errno));
	set_raw(uart_fd);
}

/* ---------------------------------------------------------------- UART RX */

/* Bytes for the AVR's RX (--rx-input), each with the cycle from which it may go on the
 * wire (its script time, or when it was read from the FIFO/pty). */
static struct { uint8_t *b; avr_cycle_count_t *avail; size_t n, cap, head; } rxq;
static int rx_fd = -1;                 /* FIFO/pty mode */
static avr_uart_t *uart0;
static avr_irq_t *uart_in;
static double rx_byte_cycles;          /* one 8N1 character (10 bits) at --rx-baud */
static double rx_wire_end;             /* cycle the previous byte's stop bit ended on the wire */
static long rx_delivered;
static int rx_waiting;                 /* a due byte waits for the receiver: XON must call */

static void rxq_push(uint8_t b, avr_cycle_count_t avail)
{
	if (rxq.n == rxq.cap) {
		rxq.cap = rxq.cap ? rxq.cap * 2 : 256;
		rxq.b = xrealloc(rxq.b, rxq.cap);
		rxq.avail = xrealloc(rxq.avail, rxq.cap * sizeof *rxq.avail);
	}
	rxq.b[rxq.n] = b;
	rxq.avail[rxq.n++] = avail;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* "<seconds> <payload>" lines, payload with C escapes; '#' lines and blank lines skipped. */
static void load_rx_script(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) die("cannot open --rx-input %s: %s", path, strerror(errno));
	char *ln = NULL;
	size_t cap = 0;
	ssize_t len;
	long no = 0;
	double last_t = 0;
	while ((len = getline(&ln, &cap, f)) >= 0) {
		no++;
		/* a literal CR must be written \r: a trailing one is the file's CRLF */
		while (len && (ln[len - 1] == '\n' || ln[len - 1] == '\r')) ln[--len] = 0;
		char *p = ln;
		while (*p == ' ' || *p == '\t') p++;
		if (!*p || *p == '#') continue;
		char *e;
		double t = strtod(p, &e);
		if (e == p || !isfinite(t) || t < 0 || (*e != ' ' && *e != '\t'))
			die("--rx-input %s line %ld: expected '<seconds> <payload>', got '%s'", path, no, p);
		if (t < last_t)
			die("--rx-input %s line %ld: time %g is before the previous entry's %g (entries must be in time order)",
			    path, no, t, last_t);
		last_t = t;
		while (*e == ' ' || *e == '\t') e++;
		if (!*e) die("--rx-input %s line %ld: no payload after the time", path, no);
		avr_cycle_count_t avail = (avr_cycle_count_t)llround(t * F_CPU_HZ);
		for (char *q = e; *q; q++) {
			int c = (unsigned char)*q;
			if (c == '\\') {
				switch (*++q) {
				case 'r': c = '\r'; break;
				case 'n': c = '\n'; break;
				case 't': c = '\t'; break;
				case '\\': c = '\\'; break;
				case 'x':
					if (hexval(q[1]) < 0 || hexval(q[2]) < 0)
						die("--rx-input %s line %ld: \\x needs two hex digits", path, no);
					c = hexval(q[1]) * 16 + hexval(q[2]);
					q += 2;
					break;
				default:
					die("--rx-input %s line %ld: unknown escape '\\%c' (use \\r \\n \\t \\\\ \\xNN)",
					    path, no, *q ? *q : ' ');
				}
			}
			rxq_push((uint8_t)c, avail);
		}
	}
	free(ln);
	fclose(f);
}

static void rx_poll_fd(void)
{
	uint8_t buf[1024];
	ssize_t r;
	while ((r = read(rx_fd, buf, sizeof buf)) > 0)
		for (ssize_t k = 0; k < r; k++) rxq_push(buf[k], avr->cycle);
}

static avr_cycle_count_t rx_timer(avr_t *a, avr_cycle_count_t when, void *param);

/* Hand the next byte to simavr's receiver. The byte is on the wire from `start` (its script
 * or read time, or the previous byte's end) for one character time; the firmware must see it
 * (RXC) when its stop bit ends. simavr raises RXC its own byte time (cycles_per_byte: 11 bits,
 * it counts a parity bit) after a byte enters its empty FIFO, which would cap a stream at
 * ~8700 baud; so cycles_per_byte is set to the byte's remaining wire time for the raise only
 * (the RX pump is armed from it there; TX timing reads it elsewhere and is unchanged).
 * One byte at a time, into an empty FIFO: with two queued the firmware may read the second
 * at once, before its time. Called by the timer, on XON (the firmware emptied the FIFO) and
 * at every zero crossing. */
static void rx_service(void)
{
	if (rxq.head == rxq.n) return;
	double start = fmax((double)rxq.avail[rxq.head], rx_wire_end);
	if ((double)avr->cycle < start) {
		avr_cycle_timer_register(avr, (avr_cycle_count_t)ceil(start) - avr->cycle, rx_timer, NULL);
		return;
	}
	/* receiver off (simavr would drop the byte) or still holding one: XON calls again */
	rx_waiting = !avr_regbit_get(avr, uart0->rxen) || uart0->input.read != uart0->input.write;
	if (rx_waiting) return;
	double end = start + rx_byte_cycles;
	double left = ceil(end) - (double)avr->cycle;   /* <= 0: it has waited in the receiver */
	avr_cycle_count_t cpb = uart0->cycles_per_byte;
	uart0->cycles_per_byte = left >= 1 ? (avr_cycle_count_t)left : 1;
	rx_wire_end = end;
	rx_delivered++;
	avr_raise_irq(uart_in, rxq.b[rxq.head++]);
	uart0->cycles_per_byte = cpb;
	rx_waiting = 1;                    /* the next byte goes when the firmware has read this one */
}

static avr_cycle_count_t rx_timer(avr_t *a, avr_cycle_count_t when, void *param)
{
	(void)a; (void)when; (void)param;
	rx_service();
	return 0;
}

/* FIFO/pty bytes are taken every half-cycle (10 ms); the service call also re-arms the
 * timer a watchdog reset cleared. */
static void rx_zero_cross(void)
{
	if (!uart0) return;
	if (rx_fd >= 0) rx_poll_fd();
	rx_service();
}

static void rx_xon(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq; (void)param;
	if (value && rx_waiting) rx_service();   /* XON comes on every UCSRnA read: keep it cheap */
}

/* shared: path is the --uart-out pty, already open O_RDWR */
static void setup_rx(const char *path, int shared)
{
	for (avr_io_t *io = avr->io_port; io && !uart0; io = io->next)
		if (!strcmp(io->kind, "uart") && ((avr_uart_t *)io)->name == '0') uart0 = (avr_uart_t *)io;
	if (!uart0) die("no UART0 in simavr's atmega328p");
	uart_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), rx_xon, NULL);
	if (opt.rx_baud <= 0) die("--rx-baud must be > 0");
	rx_byte_cycles = 10.0 * F_CPU_HZ / opt.rx_baud;

	struct stat st;
	if (stat(path, &st) != 0) die("cannot open --rx-input %s: %s", path, strerror(errno));
	if (S_ISREG(st.st_mode)) {
		load_rx_script(path);
	} else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		if (shared) {
			rx_fd = uart_fd;
		} else {
			rx_fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
			if (rx_fd < 0) die("cannot open --rx-input %s: %s", path, strerror(errno));
			set_raw(rx_fd);
		}
	} else {
		die("--rx-input %s: not a regular file, FIFO or character device", path);
	}
	rx_service();                      /* arms the timer for the first entry */
}

/* ----------------------------------------------------------------- EEPROM */

static int eeprom_loaded;

/* --eeprom: an existing file is the EEPROM; a missing one is a new chip (0xFF). */
static void eeprom_load(const char *path)
{
	size_t size = (size_t)avr->e2end + 1;
	uint8_t *buf = xrealloc(NULL, size);
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno != ENOENT) die("cannot open --eeprom %s: %s", path, strerror(errno));
		/* fail now, not after the run, if it cannot be written */
		char *tmp = xrealloc(NULL, strlen(path) + 5);
		sprintf(tmp, "%s.tmp", path);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) die("cannot write --eeprom %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		/* also over an ELF .eeprom section: a normal upload does not program it */
		memset(buf, 0xFF, size);
	} else {
		if (!S_ISREG(st.st_mode) || (size_t)st.st_size != size)
			die("--eeprom %s is %lld bytes: the ATmega328P's EEPROM is %zu (remove the file for a blank one)",
			    path, (long long)st.st_size, size);
		FILE *f = fopen(path, "rb");
		if (!f || fread(buf, 1, size, f) != size) die("cannot read --eeprom %s: %s", path, strerror(errno));
		fclose(f);
		eeprom_loaded = 1;
	}
	avr_eeprom_desc_t d = { .ee = buf, .offset = 0, .size = (uint32_t)size };
	/* simavr's EEPROM ioctl returns -1 on success too: only -2 is an error */
	if (avr_ioctl(avr, AVR_IOCTL_EEPROM_SET, &d) == -2) die("simavr refused the EEPROM image");
	free(buf);
}

/* Written to PATH.tmp then renamed: a run killed mid-write never leaves a torn file. */
static void eeprom_save(const char *path)
{
	size_t size = (size_t)avr->e2end + 1;
	uint8_t *buf = xrealloc(NULL, size);
	avr_eeprom_desc_t d = { .ee = buf, .offset = 0, .size = (uint32_t)size };
	if (avr_ioctl(avr, AVR_IOCTL_EEPROM_GET, &d) == -2) die("cannot read simavr's EEPROM");
	char *tmp = xrealloc(NULL, strlen(path) + 5);
	sprintf(tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	if (!f) die("cannot write %s: %s", tmp, strerror(errno));
	if (fwrite(buf, 1, size, f) != size || fflush(f) != 0 || fsync(fileno(f)) != 0)
		die("cannot write %s: %s", tmp, strerror(errno));
	fclose(f);
	if (rename(tmp, path) != 0) die("cannot rename %s to %s: %s", tmp, path, strerror(errno));
	free(tmp);
	free(buf);
}

/* --------------------------------------------------------------- logging */

static int log_count;
static void logger(avr_t *a, const int level, const char *fmt, va_list ap)
{
	if (level > (a ? a->log : LOG_WARNING)) return;
	if (++log_count > 50) {
		if (log_count == 51) fputs("pvsim-core: further simavr messages suppressed\n", stderr);
		return;
	}
	vfprintf(stderr, fmt, ap);
}

static void no_sleep(avr_t *a, avr_cycle_count_t how_long)
{
	/* simavr's default sleeps in wall time while the CPU sleeps: never pace that way */
	(void)a; (void)how_long;
}

/* --------------------------------------------------------------- summary */

static void write_summary(const char *path, const char *cpu_state, double wall_s)
{
	FILE *f = fopen(path, "w");
	if (!f) die("cannot write %s: %s", path, strerror(errno));
	double secs = m.run_s;
	fprintf(f, "{\n\"elf\": ");
	json_string(f, opt.elf);
	fprintf(f, ",\n\"seconds\": %.3f,\n\"mains_hz\": %g,\n\"mains_v\": %g,\n", secs, opt.mains_hz, opt.mains_v);
	fprintf(f, "\"cpu_state\": \"%s\",\n\"wall_s\": %.3f,\n\"speed_x\": %.2f,\n", cpu_state, wall_s,
	        wall_s > 0 ? secs / wall_s : 0);
	fprintf(f, "\"delay_source\": \"%s\",\n", opt.delay_addr >= 0 ? "symbol" : "fid");

	fputs("\"sample_pairs_per_cycle\": ", f);
	if (m.pairs_cycles)
		fprintf(f, "{\"min\": %ld, \"mean\": %.2f, \"cycles\": %ld},\n", m.pairs_min,
		        (double)m.pairs_sum / m.pairs_cycles, m.pairs_cycles);
	else
		fputs("{\"min\": null, \"mean\": null, \"cycles\": 0},\n", f);

	if (m.gate_n)
		fprintf(f, "\"gate_error_us\": {\"mean\": %.2f, \"max_abs\": %.2f, \"min\": %.2f, \"max\": %.2f, "
		        "\"count\": %ld, \"skipped\": %ld},\n", m.gate_sum / m.gate_n, m.gate_max_abs,
		        m.gate_min, m.gate_max, m.gate_n, m.gate_skipped);
	else
		fprintf(f, "\"gate_error_us\": {\"mean\": null, \"max_abs\": null, \"min\": null, \"max\": null, "
		        "\"count\": 0, \"skipped\": %ld},\n", m.gate_skipped);
	fprintf(f, "\"straddles\": %ld,\n\"half_cycles_fired\": %ld,\n", m.straddles, m.fired);

	double last_sum = 0;
	long last_n = 0;
	for (size_t k = 0; k < m.grid_w_per_cycle.n; k++)
		if (m.cycle_t0.v[k] >= secs - 5 - 1e-9) { last_sum += m.grid_w_per_cycle.v[k]; last_n++; }
	fprintf(f, "\"grid_w_mean\": %.3f,\n\"grid_w_mean_last\": %.3f,\n", secs > 0 ? m.grid_j / secs : 0,
	        last_n ? last_sum / last_n : 0);
	fprintf(f, "\"import_wh\": %.5f,\n\"export_wh\": %.5f,\n\"router_import_wh\": %.5f,\n"
	        "\"ch1_wh\": %.5f,\n\"ch2_wh\": %.5f,\n", m.import_j / 3600, m.export_j / 3600,
	        m.router_import_j / 3600, m.ch1_j / 3600, m.ch2_j / 3600);

	long bad = 0;
	for (size_t k = 0; k < nframes; k++) bad += !frames[k].crc_ok;
	fprintf(f, "\"frames_ok\": %ld,\n\"frames_bad_crc\": %ld,\n", (long)nframes - bad, bad);
	if (first_good_frame >= 0) fprintf(f, "\"first_frame_s\": %.4f,\n", frames[first_good_frame].t);
	else fputs("\"first_frame_s\": null,\n", f);
	fputs("\"first_frame\": ", f);
	json_frame_fields(f, first_good_frame);
	fputs(",\n\"last_frame\": ", f);
	json_frame_fields(f, last_good_frame);
	double frq;
	if (last_good_frame >= 0 && frame_get(&frames[last_good_frame], "FRQ", &frq))
		fprintf(f, ",\n\"mains_hz_reported\": %g", frq);
	else
		fputs(",\n\"mains_hz_reported\": null", f);
	fprintf(f, ",\n\"uart_out_dropped\": %ld", uart_dropped);
	/* pending: due by the end but not handed to the UART yet; after_end: scripted later */
	size_t due = rxq.head;
	while (due < rxq.n && rxq.avail[due] <= avr->cycle) due++;
	fprintf(f, ",\n\"rx_bytes_delivered\": %ld,\n\"rx_bytes_pending\": %zu,\n\"rx_bytes_after_end\": %zu",
	        rx_delivered, due - rxq.head, rxq.n - due);
	fprintf(f, ",\n\"eeprom_loaded\": %s", eeprom_loaded ? "true" : "false");
	if (tank.on)
		fprintf(f, ",\n\"tank\": {\"start_c\": %.4f, \"end_c\": %.4f, \"min_c\": %.4f, \"max_c\": %.4f, "
		        "\"heat_in_wh\": %.5f, \"loss_wh\": %.5f, \"drawn_l\": %g, \"thermostat_open_s\": %.2f, "
		        "\"thermostat_openings\": %ld}", tank.start_c, tank.c, tank.min_c, tank.max_c,
		        tank.heat_in_j / 3600, tank.loss_j / 3600, tank.drawn_l, tank.open_s, tank.openings);
	else
		fputs(",\n\"tank\": null", f);

	fputs(",\n\"ch2_loads\": ", f);
	if (opt.ch2_loads) {
		for (int k = 0; k < ch2_nloads; k++)
			fprintf(f, "%s{\"rating_w\": %g, \"delay_s\": %g, \"wh\": %.5f}", k ? ", " : "[",
			        ch2_loads[k].rating_w, ch2_loads[k].delay_s, ch2_loads[k].wh);
		fputc(']', f);
	} else {
		fputs("null", f);
	}
	fputs(",\n\"per_second\": [", f);
	for (size_t k = 0; k < nseconds; k++) {
		const second_t *s = &seconds_v[k];
		fprintf(f, "%s\n {\"t\": %.0f, \"pv_w\": %.1f, \"house_w\": %.1f, \"grid_w\": %.2f, "
		        "\"ch1_w\": %.2f, \"ch2_w\": %.2f, \"frame\": ", k ? "," : "", s->t, s->pv, s->house,
		        s->grid, s->ch1, s->ch2);
		json_frame_fields(f, s->frame);
		fputs(", ", f);
		json_tank_fields(f, s, " ");
		for (int k = 0; opt.ch2_loads && k < ch2_nloads; k++)
			fprintf(f, "%s%.2f", k ? ", " : ", \"ch2_loads_w\": [", s->load_w[k]);
		fputs(opt.ch2_loads ? "]}" : "}", f);
	}
	fputs("],\n\"grid_w_per_cycle\": [", f);
	for (size_t k = 0; k < m.grid_w_per_cycle.n; k++)
		fprintf(f, "%s%.2f", k ? (k % 10 ? ", " : ",\n ") : "", m.grid_w_per_cycle.v[k]);
	fputs("],\n\"frames\": [", f);
	for (size_t k = 0; k < nframes; k++) {
		fprintf(f, "%s\n {\"t\": %.4f, \"raw\": ", k ? "," : "", frames[k].t);
		json_string(f, frames[k].raw);
		fprintf(f, ", \"crc_ok\": %s, \"fields\": ", frames[k].crc_ok ? "true" : "false");
		json_frame_fields(f, (long)k);
		fputc('}', f);
	}
	fputs("]\n}\n", f);
	fclose(f);
}

/* ------------------------------------------------------------------ main */

static void usage(void)
{
	fputs("usage: pvsim-core --elf F --scenario NORMALIZED --seconds N [--mains-hz F] [--mains-v V]\n"
	      "  [--v-adc N --i-adc N --gate-port X --gate-bit N --v-scale K --i-scale K]\n"
	      "  [--delay-addr ADDR|-1] [--ch2-delay S | --ch2-loads W@S,...] [--ch2-input P] [--i-extra-w W]\n"
	      "  [--adc-noise-lsb X] [--seed N]\n"
	      "  [--summary OUT] [--uart-out P] [--rx-input P] [--rx-baud B] [--eeprom P]\n"
	      "  [--tank-litres L [--tank-c C] [--tank-loss-w-per-k K] [--tank-ambient-c C] [--thermostat-c C]\n"
	      "   [--thermostat-hysteresis-k K] [--cold-c C] [--draw-offs T:L,...] [--tank-out P]\n"
	      "   [--tank-probe-lost FROM_S:TO_S]]\n"
	      "  [--realtime] [--stream]\n"
	      "Normally run through sim/pvsim, which documents every option.\n", stderr);
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	enum { O_ELF = 256, O_SCEN, O_SECS, O_HZ, O_MV, O_VADC, O_IADC, O_GPORT, O_GBIT, O_VSC, O_ISC,
	       O_DADDR, O_C2D, O_C2L, O_C2I, O_IEX, O_NOISE, O_SEED, O_SUM, O_UART, O_RT, O_STREAM,
	       O_RXIN, O_RXBAUD, O_EEPROM, O_TANK_L, O_TANK_C, O_TANK_LOSS, O_TANK_AMB, O_THERMO_C,
	       O_THERMO_HYST, O_COLD_C, O_DRAWS, O_TANK_OUT, O_PROBE_LOST };
	static const struct option lo[] = {
		{"elf", 1, 0, O_ELF}, {"scenario", 1, 0, O_SCEN}, {"seconds", 1, 0, O_SECS},
		{"mains-hz", 1, 0, O_HZ}, {"mains-v", 1, 0, O_MV}, {"v-adc", 1, 0, O_VADC},
		{"i-adc", 1, 0, O_IADC}, {"gate-port", 1, 0, O_GPORT}, {"gate-bit", 1, 0, O_GBIT},
		{"v-scale", 1, 0, O_VSC}, {"i-scale", 1, 0, O_ISC}, {"delay-addr", 1, 0, O_DADDR},
		{"ch2-delay", 1, 0, O_C2D}, {"ch2-loads", 1, 0, O_C2L}, {"ch2-input", 1, 0, O_C2I}, {"i-extra-w", 1, 0, O_IEX},
		{"adc-noise-lsb", 1, 0, O_NOISE}, {"seed", 1, 0, O_SEED},
		{"summary", 1, 0, O_SUM}, {"uart-out", 1, 0, O_UART}, {"realtime", 0, 0, O_RT},
		{"stream", 0, 0, O_STREAM}, {"rx-input", 1, 0, O_RXIN}, {"rx-baud", 1, 0, O_RXBAUD},
		{"eeprom", 1, 0, O_EEPROM}, {"tank-litres", 1, 0, O_TANK_L}, {"tank-c", 1, 0, O_TANK_C},
		{"tank-loss-w-per-k", 1, 0, O_TANK_LOSS}, {"tank-ambient-c", 1, 0, O_TANK_AMB},
		{"thermostat-c", 1, 0, O_THERMO_C}, {"thermostat-hysteresis-k", 1, 0, O_THERMO_HYST},
		{"cold-c", 1, 0, O_COLD_C}, {"draw-offs", 1, 0, O_DRAWS}, {"tank-out", 1, 0, O_TANK_OUT},
		{"tank-probe-lost", 1, 0, O_PROBE_LOST},
		{0, 0, 0, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_ELF: opt.elf = optarg; break;
		case O_SCEN: opt.scenario = optarg; break;
		case O_SECS: opt.seconds = atof(optarg); break;
		case O_HZ: opt.mains_hz = atof(optarg); break;
		case O_MV: opt.mains_v = atof(optarg); break;
		case O_VADC: opt.v_adc = atoi(optarg); break;
		case O_IADC: opt.i_adc = atoi(optarg); break;
		case O_GPORT: opt.gate_port = optarg[0]; break;
		case O_GBIT: opt.gate_bit = atoi(optarg); break;
		case O_VSC: opt.v_scale = atof(optarg); break;
		case O_ISC: opt.i_scale = atof(optarg); break;
		case O_DADDR: opt.delay_addr = strtol(optarg, NULL, 0); break;
		case O_C2D: opt.ch2_delay = atof(optarg); break;
		case O_C2L: opt.ch2_loads = optarg; break;
		case O_C2I: opt.ch2_input = optarg; break;
		case O_IEX: opt.i_extra_w = atof(optarg); break;
		case O_NOISE: opt.adc_noise_lsb = atof(optarg); break;
		case O_SEED: opt.seed = strtoul(optarg, NULL, 0); break;
		case O_SUM: opt.summary = optarg; break;
		case O_UART: opt.uart_out = optarg; break;
		case O_RT: opt.realtime = 1; break;
		case O_STREAM: opt.stream = 1; break;
		case O_RXIN: opt.rx_input = optarg; break;
		case O_RXBAUD: opt.rx_baud = atof(optarg); break;
		case O_EEPROM: opt.eeprom = optarg; break;
		case O_TANK_L: opt.tank_litres = atof(optarg); break;
		case O_TANK_C: opt.tank_c = atof(optarg); break;
		case O_TANK_LOSS: opt.tank_loss_w_per_k = atof(optarg); break;
		case O_TANK_AMB: opt.tank_ambient_c = atof(optarg); break;
		case O_THERMO_C: opt.thermostat_c = atof(optarg); break;
		case O_THERMO_HYST: opt.thermostat_hysteresis_k = atof(optarg); break;
		case O_COLD_C: opt.cold_c = atof(optarg); break;
		case O_DRAWS: opt.draw_offs = optarg; break;
		case O_TANK_OUT: opt.tank_out = optarg; break;
		case O_PROBE_LOST:
			if (sscanf(optarg, "%lf:%lf", &opt.probe_lost_from, &opt.probe_lost_to) != 2 ||
			    opt.probe_lost_from < 0 || opt.probe_lost_to <= opt.probe_lost_from)
				die("--tank-probe-lost %s: not FROM_S:TO_S (0 <= FROM_S < TO_S)", optarg);
			break;
		default: usage();
		}
	}
	if (!opt.elf || !opt.scenario || opt.seconds <= 0 || opt.mains_hz <= 0) usage();
	if (opt.v_adc < 0 || opt.v_adc > 7 || opt.i_adc < 0 || opt.i_adc > 7 || opt.v_adc == opt.i_adc)
		die("--v-adc/--i-adc must be two different channels 0..7");
	if (opt.ch2_loads && opt.ch2_input) die("--ch2-loads and --ch2-input are two ways of channel 2: give one");
	if (opt.delay_addr > 0x8FE) die("--delay-addr 0x%lx is outside the ATmega328P SRAM", opt.delay_addr);
}

/* SIGINT/SIGTERM end the run early but still write the summary */
static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	noise_state = 0x9E3779B97F4A7C15ull ^ (uint64_t)opt.seed;
	load_scenario(opt.scenario);
	ch2_setup(opt.ch2_loads);
	tank_setup();
	avr_global_logger_set(logger);

	elf_firmware_t fw;
	memset(&fw, 0, sizeof fw);
	if (elf_read_firmware(opt.elf, &fw)) die("cannot read ELF %s", opt.elf);
	/* Arduino-built ELFs carry no .mmcu section */
	strcpy(fw.mmcu, "atmega328p");
	fw.frequency = (uint32_t)F_CPU_HZ;
	fw.vcc = fw.avcc = fw.aref = 5000;
	avr = avr_make_mcu_by_name(fw.mmcu);
	if (!avr) die("simavr does not know atmega328p");
	avr->frequency = fw.frequency;
	/* PVSIM_LOG=4 (trace) helps to find why a firmware crashes */
	const char *lvl = getenv("PVSIM_LOG");
	avr->log = lvl ? atoi(lvl) : LOG_WARNING;
	avr_init(avr);
	avr->log = lvl ? atoi(lvl) : LOG_WARNING;
	avr_load_firmware(avr, &fw);
	avr->vcc = avr->avcc = avr->aref = 5000;
	avr->sleep = no_sleep;
	if (opt.eeprom) eeprom_load(opt.eeprom);
	/* the reset-default low-level INT0/INT1 mode polls every cycle: 3x slower */
	avr_extint_set_strict_lvl_trig(avr, 0, 0);
	avr_extint_set_strict_lvl_trig(avr, 1, 0);

	uint32_t uflags = 0;
	avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &uflags);
	uflags &= ~(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
	avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &uflags);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), uart_byte, NULL);

	avr_irq_t *gate = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(opt.gate_port), opt.gate_bit);
	if (!gate) die("no port %c on this MCU", opt.gate_port);
	avr_irq_register_notify(gate, gate_changed, NULL);

	adc_in[0] = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + opt.v_adc);
	adc_in[1] = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + opt.i_adc);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER), adc_trigger, NULL);
	avr_raise_irq(adc_in[0], adc_input_mv(ADC_BIAS_MV));
	avr_raise_irq(adc_in[1], adc_input_mv(ADC_BIAS_MV));

	/* --rx-input naming the --uart-out pty: one O_RDWR open serves both directions */
	struct stat rx_st, ux_st;
	int shared = opt.uart_out && opt.rx_input && stat(opt.uart_out, &ux_st) == 0 && stat(opt.rx_input, &rx_st) == 0 &&
	             S_ISCHR(ux_st.st_mode) && ux_st.st_dev == rx_st.st_dev && ux_st.st_ino == rx_st.st_ino;
	if (opt.uart_out) open_uart_out(opt.uart_out, shared);
	if (opt.rx_input) setup_rx(opt.rx_input, shared);
	if (opt.ch2_input) {
		ch2_fd = open(opt.ch2_input, O_RDONLY | O_NONBLOCK);
		if (ch2_fd < 0) die("cannot open --ch2-input %s: %s", opt.ch2_input, strerror(errno));
	}

	omega = 2 * M_PI * opt.mains_hz;
	cur.n = -1;
	begin_half(0);
	m.cyc_t0 = 0;
	avr_cycle_timer_register(avr, next_zc_cycle - avr->cycle, zero_cross_timer, NULL);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	clock_gettime(CLOCK_MONOTONIC, &wall_start);
	avr_cycle_count_t end = (avr_cycle_count_t)llround(opt.seconds * F_CPU_HZ);
	int state = cpu_Running;
	while (avr->cycle < end && !stop_requested) {
		state = avr_run(avr);
		if (state == cpu_Done || state == cpu_Crashed) break;
		/* a watchdog reset clears the cycle timers: take the crossing here, re-arm */
		if (avr->cycle > next_zc_cycle) {
			zero_cross();
			avr_cycle_timer_cancel(avr, zero_cross_timer, NULL);
			avr_cycle_timer_register(avr, next_zc_cycle - avr->cycle, zero_cross_timer, NULL);
		}
	}
	/* the crossing that ends the run may fall after the last instruction */
	while (state != cpu_Done && state != cpu_Crashed && avr->cycle >= next_zc_cycle) zero_cross();
	double wall = wall_now();
	const char *st = state == cpu_Done ? "done" : state == cpu_Crashed ? "crashed" : "running";
	if (state == cpu_Crashed)
		fprintf(stderr, "pvsim-core: firmware crashed at t=%.6f s, PC=0x%04x (byte address), SP=0x%04x\n",
		        cycle_to_s(avr->cycle), avr->pc, avr->data[0x5D] | (avr->data[0x5E] << 8));
	if (opt.summary) write_summary(opt.summary, st, wall);
	if (opt.eeprom) eeprom_save(opt.eeprom);
	if (tank.on) tank_write_out(m.run_s);     /* the end of a run between two whole seconds */
	fprintf(stderr, "pvsim-core: %.1f s simulated in %.1f s wall (%.2fx), %zu frames, cpu %s\n",
	        m.run_s, wall, wall > 0 ? m.run_s / wall : 0, nframes, st);
	if (uart_fd >= 0) close(uart_fd);
	if (rx_fd >= 0 && rx_fd != uart_fd) close(rx_fd);
	return state == cpu_Crashed ? 3 : 0;
}
