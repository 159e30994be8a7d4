/*
 * banned.h - functions that Lienthong's code must not call.
 *
 * Included last in every .c file of src/.  Each banned name becomes a
 * reference to an undeclared identifier, so a call fails to compile and the
 * error names the replacement to use.
 */
#ifndef LT_BANNED_H
#define LT_BANNED_H

#define BANNED(func) sorry_##func##_is_banned

#undef strcpy
#define strcpy(x, y) BANNED(strcpy_use_snprintf)
#undef strcat
#define strcat(x, y) BANNED(strcat_use_buf_append)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy_use_snprintf)
#undef sprintf
#define sprintf(...) BANNED(sprintf_use_snprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf_use_vsnprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok_use_strtok_r)
#undef gmtime
#define gmtime(t) BANNED(gmtime_use_gmtime_r)
#undef localtime
#define localtime(t) BANNED(localtime_use_localtime_r)
#undef gets
#define gets(x) BANNED(gets)

#endif
