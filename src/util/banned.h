/*
 * banned.h - library functions that are compile errors in stepwatch (after git's banned.h).
 *
 * Included last by util/common.h, after the system headers that declare these names, so
 * only calls in our own code expand to an undeclared identifier and fail to build.
 * Use snprintf/strbuf, strtok_r-free parsing, gmtime_r.
 */
#ifndef SW_BANNED_H
#define SW_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef asctime
#define asctime(t) BANNED(asctime)
#undef ctime
#define ctime(t) BANNED(ctime)

#endif
