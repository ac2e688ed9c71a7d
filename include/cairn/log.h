/*
 * log: leveled diagnostics on stderr. The level comes from --debug or
 * CAIRN_LOG (error, warn, info, debug, trace). Thread-safe: one call writes
 * one whole line. Never pass secrets: nothing here redacts.
 */
#ifndef CAIRN_LOG_H
#define CAIRN_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Reads CAIRN_LOG; unknown values leave the level alone. */
void log_init_from_env(void);
int log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...)                                                       \
	do {                                                                 \
		if (log_enabled(LOG_DEBUG))                                  \
			log_msg(LOG_DEBUG, __VA_ARGS__);                     \
	} while (0)
#define log_trace(...)                                                       \
	do {                                                                 \
		if (log_enabled(LOG_TRACE))                                  \
			log_msg(LOG_TRACE, __VA_ARGS__);                     \
	} while (0)

#endif
