// CCurl: libcurl's easy and multi interfaces; variadic setopt calls wrapped as typed inline functions.
#ifndef BUCKETFS_CCURL_SHIM_H
#define BUCKETFS_CCURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode CCurl_setoptLong(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode CCurl_setoptString(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode CCurl_setoptPointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode CCurl_setoptOffT(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode CCurl_setoptWriteFunction(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f);
}
static inline CURLcode CCurl_setoptHeaderFunction(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, f);
}
static inline CURLcode CCurl_setoptReadFunction(CURL *h, size_t (*f)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_READFUNCTION, f);
}
static inline CURLcode CCurl_setoptSeekFunction(CURL *h, int (*f)(void *, curl_off_t, int)) {
    return curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, f);
}
static inline CURLcode CCurl_setoptSlist(CURL *h, CURLoption o, struct curl_slist *v) {
    return curl_easy_setopt(h, o, v);
}
static inline CURLcode CCurl_getinfoOffT(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
// The result of a finished transfer (CURLMSG_DONE); reads the anonymous union in C.
static inline CURLcode CCurl_messageResult(const CURLMsg *m) { return m->data.result; }
static inline CURLcode CCurl_getinfoLong(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode CCurl_getinfoPointer(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLMcode CCurl_multiSetoptLong(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
#endif
