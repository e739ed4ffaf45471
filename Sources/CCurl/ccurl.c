#include "ccurl.h"

CURLcode ccurl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
CURLcode ccurl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
CURLcode ccurl_setopt_str(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
CURLcode ccurl_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
CURLcode ccurl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
CURLcode ccurl_setopt_io(CURL *h, CURLoption o, ccurl_io_cb cb) { return curl_easy_setopt(h, o, cb); }
CURLcode ccurl_setopt_xferinfo(CURL *h, ccurl_xferinfo_cb cb) {
    return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cb);
}

CURLcode ccurl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
CURLcode ccurl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
CURLcode ccurl_getinfo_socket(CURL *h, curl_socket_t *v) { return curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, v); }

const curl_version_info_data *ccurl_version_info(void) { return curl_version_info(CURLVERSION_NOW); }

size_t ccurl_readfunc_abort(void) { return CURL_READFUNC_ABORT; }
size_t ccurl_writefunc_pause(void) { return CURL_WRITEFUNC_PAUSE; }
int ccurl_version_feature_unix_sockets(void) { return (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_UNIX_SOCKETS) != 0; }
int ccurl_version_feature_threadsafe(void) { return (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_THREADSAFE) != 0; }
