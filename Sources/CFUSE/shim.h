// CFUSE: the libfuse 3 low-level API. We pin the oldest API level we use (3.12: fuse_loop_cfg_*), not the newest.
#ifndef BUCKETFS_CFUSE_SHIM_H
#define BUCKETFS_CFUSE_SHIM_H
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <fcntl.h>

/// Runs the multi-threaded session loop with at most `max_threads` workers (fuse_session_loop_mt is a macro in
/// some libfuse builds, which Swift cannot call).
static inline int CFUSE_sessionLoopMT(struct fuse_session *se, unsigned int max_threads) {
    struct fuse_loop_config *cfg = fuse_loop_cfg_create();
    if (cfg == NULL) return -1;
    fuse_loop_cfg_set_clone_fd(cfg, 0);
    fuse_loop_cfg_set_max_threads(cfg, max_threads);
    fuse_loop_cfg_set_idle_threads(cfg, max_threads);
    int rc = fuse_session_loop_mt(se, cfg);
    fuse_loop_cfg_destroy(cfg);
    return rc;
}

/// fuse_session_new is a macro wrapper around a versioned symbol in libfuse >= 3.17.
static inline struct fuse_session *CFUSE_sessionNew(struct fuse_args *args, const struct fuse_lowlevel_ops *op,
                                                    size_t op_size, void *userdata) {
    return fuse_session_new(args, op, op_size, userdata);
}

static inline void CFUSE_wantCapability(struct fuse_conn_info *conn, unsigned int cap) {
    if (conn->capable & cap) conn->want |= cap;
}
static inline void CFUSE_dropCapability(struct fuse_conn_info *conn, unsigned int cap) { conn->want &= ~cap; }
#endif
