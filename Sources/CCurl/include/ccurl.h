// Fixed-signature wrappers for libcurl's variadic and macro APIs, which Swift cannot call directly.
#ifndef ACP_CCURL_H
#define ACP_CCURL_H

#include <curl/curl.h>
#include <stddef.h>

/// One callback type serves CURLOPT_WRITEFUNCTION, CURLOPT_READFUNCTION and CURLOPT_HEADERFUNCTION.
typedef size_t (*ccurl_io_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
/// CURLOPT_XFERINFOFUNCTION: returning non-zero aborts the transfer with CURLE_ABORTED_BY_CALLBACK.
typedef int (*ccurl_xferinfo_cb)(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
                                 curl_off_t ultotal, curl_off_t ulnow);

CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode ccurl_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
CURLcode ccurl_setopt_str(CURL *handle, CURLoption option, const char *value);
CURLcode ccurl_setopt_ptr(CURL *handle, CURLoption option, void *value);
CURLcode ccurl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode ccurl_setopt_io(CURL *handle, CURLoption option, ccurl_io_cb callback);
CURLcode ccurl_setopt_xferinfo(CURL *handle, ccurl_xferinfo_cb callback);

CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode ccurl_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode ccurl_getinfo_socket(CURL *handle, curl_socket_t *value);

/// `curl_version_info(CURLVERSION_NOW)`: the macro is not imported into Swift.
const curl_version_info_data *ccurl_version_info(void);

/// Values Swift cannot import because they are macros over other macros.
size_t ccurl_readfunc_abort(void);
size_t ccurl_writefunc_pause(void);
int ccurl_version_feature_unix_sockets(void);
int ccurl_version_feature_threadsafe(void);

#endif
