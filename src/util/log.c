/*
 * log.c - logfmt lines to stderr.
 *
 * DESIGN: log_format() walks the key/value format itself. Literal text is copied; at each
 * '%' it reads the conversion spec, formats that one argument into a scratch buffer with
 * vsnprintf-compatible single-argument formatting, and appends it quoted when it holds a
 * space, '=', '"' or a control character. Compilers still check the format against the
 * arguments through SW_PRINTF on log_msg().
 */
#include "util/common.h"
#include "util/log.h"
#include "util/timeutil.h"
#include <unistd.h>

static enum log_level min_level = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error", "fatal"};

void log_set_level(enum log_level min)
{
	min_level = min;
}

int log_level_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++)
		if (!strcmp(s, level_names[i]))
			return (int)i;
	return -1;
}

struct out {
	char *buf;
	size_t n, len;
};

static void out_add(struct out *o, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (o->len + 1 < o->n)
			o->buf[o->len] = s[i];
		o->len++;
	}
}

static void out_value(struct out *o, const char *v)
{
	int quote = !*v;
	for (const char *p = v; *p; p++)
		if (*p == ' ' || *p == '=' || *p == '"' || (unsigned char)*p < 0x20)
			quote = 1;
	if (!quote) {
		out_add(o, v, strlen(v));
		return;
	}
	out_add(o, "\"", 1);
	for (const char *p = v; *p; p++) {
		char esc[8];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = *p;
			out_add(o, esc, 2);
		} else if (*p == '\n') {
			out_add(o, "\\n", 2);
		} else if ((unsigned char)*p < 0x20) {
			int k = snprintf(esc, sizeof(esc), "\\x%02x", (unsigned char)*p);
			out_add(o, esc, (size_t)k);
		} else {
			out_add(o, p, 1);
		}
	}
	out_add(o, "\"", 1);
}

/* the spec was checked by the compiler against the caller's arguments (SW_PRINTF) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
size_t log_format(char *buf, size_t n, int64_t ts_ms, enum log_level level, const char *msg,
                  const char *kvfmt, va_list ap)
{
	struct out o = {buf, n, 0};
	char ts[40], val[512], spec[16];
	const char *p;

	time_format_rfc3339(ts_ms, ts, sizeof(ts));
	out_add(&o, "ts=", 3);
	out_add(&o, ts, strlen(ts));
	out_add(&o, " level=", 7);
	out_add(&o, level_names[level], strlen(level_names[level]));
	out_add(&o, " msg=", 5);
	out_value(&o, msg);
	if (kvfmt && *kvfmt)
		out_add(&o, " ", 1);
	for (p = kvfmt ? kvfmt : ""; *p;) {
		size_t sl = 0;
		int lmod = 0, zmod = 0;
		if (*p != '%') {
			out_add(&o, p, 1);
			p++;
			continue;
		}
		if (p[1] == '%') {
			out_add(&o, "%", 1);
			p += 2;
			continue;
		}
		spec[sl++] = *p++;
		while (*p && strchr("0123456789.-+ #", *p) && sl < sizeof(spec) - 4)
			spec[sl++] = *p++;
		while (*p == 'l' || *p == 'z' || *p == 'h' || *p == 'j') {
			if (*p == 'l')
				lmod++;
			if (*p == 'z')
				zmod = 1;
			if (sl < sizeof(spec) - 3)
				spec[sl++] = *p;
			p++;
		}
		if (!*p)
			break;
		spec[sl++] = *p;
		spec[sl] = '\0';
		switch (*p++) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			out_value(&o, s ? s : "");
			continue;
		}
		case 'd':
		case 'i':
			if (zmod)
				snprintf(val, sizeof(val), spec, va_arg(ap, ssize_t));
			else if (lmod >= 2)
				snprintf(val, sizeof(val), spec, va_arg(ap, long long));
			else if (lmod == 1)
				snprintf(val, sizeof(val), spec, va_arg(ap, long));
			else
				snprintf(val, sizeof(val), spec, va_arg(ap, int));
			break;
		case 'u':
		case 'x':
		case 'X':
			if (zmod)
				snprintf(val, sizeof(val), spec, va_arg(ap, size_t));
			else if (lmod >= 2)
				snprintf(val, sizeof(val), spec, va_arg(ap, unsigned long long));
			else if (lmod == 1)
				snprintf(val, sizeof(val), spec, va_arg(ap, unsigned long));
			else
				snprintf(val, sizeof(val), spec, va_arg(ap, unsigned));
			break;
		case 'g':
		case 'f':
		case 'e': snprintf(val, sizeof(val), spec, va_arg(ap, double)); break;
		case 'c':
			val[0] = (char)va_arg(ap, int);
			val[1] = '\0';
			break;
		default: snprintf(val, sizeof(val), "%s", "?");
		}
		out_value(&o, val);
	}
	out_add(&o, "\n", 1);
	if (n)
		buf[o.len < n ? o.len : n - 1] = '\0';
	return o.len;
}

#pragma GCC diagnostic pop

static void log_vmsg(enum log_level level, const char *msg, const char *kvfmt, va_list ap)
{
	char line[4096];
	size_t len;
	if (level < min_level)
		return;
	len = log_format(line, sizeof(line), time_now_ms(), level, msg, kvfmt, ap);
	if (len >= sizeof(line)) {
		len = sizeof(line) - 1;
		line[len - 1] = '\n';
	}
	if (write(STDERR_FILENO, line, len) < 0) {
		/* nowhere left to report it */
	}
}

static void log_novalues(enum log_level level, const char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	log_vmsg(level, msg, NULL, ap);
	va_end(ap);
}

void log_line(enum log_level level, const char *msg)
{
	log_novalues(level, msg);
}

void log_msg(enum log_level level, const char *msg, const char *kvfmt, ...)
{
	va_list ap;
	va_start(ap, kvfmt);
	log_vmsg(level, msg, kvfmt, ap);
	va_end(ap);
}
