/*
 * Copyright (C) collab
 *
 * Files of a room.  An upload is read by nginx into a client body temp
 * file, renamed (or copied, across filesystems) to a fresh blob name under
 * collab_files_path/<roomId>/, and then its row is committed; the bytes
 * are never stored under the client's name.  A download is sent the way
 * the static module sends a file, so that sendfile, ranges and
 * conditional requests are nginx's own.  At start the master removes
 * blobs no row refers to and rows whose blob is gone, so that a crash
 * between the two writes leaves nothing behind.
 */

#include "ngx_collab.h"
#include "ngx_collab_api.h"


#define COLLAB_CONTENT_TYPE_MAX  255
#define COLLAB_BLOB_PREFIX       "blob_"


static const char  ngx_collab_sql_file_find[] =
    "SELECT blob, size FROM files WHERE room_id = ?1 AND name = ?2";

static const char  ngx_collab_sql_file_count[] =
    "SELECT count(*) FROM files WHERE room_id = ?1";

static const char  ngx_collab_sql_file_usage[] =
    "SELECT coalesce(sum(f.size), 0) FROM files f"
    " JOIN rooms r ON r.id = f.room_id WHERE r.account_id = ?1";

static const char  ngx_collab_sql_file_upsert[] =
    "INSERT INTO files (room_id, name, blob, size, content_type,"
    " uploaded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    " ON CONFLICT (room_id, name) DO UPDATE SET blob = excluded.blob,"
    " size = excluded.size, content_type = excluded.content_type,"
    " uploaded_at = excluded.uploaded_at";

static const char  ngx_collab_sql_file_get[] =
    "SELECT blob, size, content_type, uploaded_at FROM files"
    " WHERE room_id = ?1 AND name = ?2";

static const char  ngx_collab_sql_file_list[] =
    "SELECT name, blob, size, content_type, uploaded_at FROM files"
    " WHERE room_id = ?1 AND name >= ?2 AND (?3 IS NULL OR name < ?3)"
    " ORDER BY name LIMIT ?4";

static const char  ngx_collab_sql_file_delete[] =
    "DELETE FROM files WHERE room_id = ?2 AND name = ?3"
    " AND room_id IN (SELECT id FROM rooms WHERE account_id = ?1)"
    " RETURNING blob";


/*
 * The file name is the rest of the path, percent-decoded as a whole (so
 * "%2F" separates folders as "/" does).  Every folder and the name itself
 * must be non-empty and neither "." nor ".."; no NUL, control character
 * or backslash; at most COLLAB_FILE_NAME_MAX bytes of UTF-8.
 */
static ngx_int_t
ngx_collab_file_name(ngx_collab_req_t *cr, ngx_str_t *name)
{
    u_char     *p, *last, *src, *start;
    ngx_str_t   raw;

    raw = *name;

    if (raw.len == 0) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "name",
                                 "name: is required");
    }

    p = ngx_pnalloc(cr->request->pool, raw.len);
    if (p == NULL) {
        return ngx_collab_refuse(cr, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                                 "an internal error occurred");
    }

    name->data = p;
    src = raw.data;
    last = raw.data + raw.len;

    while (src < last) {
        if (*src != '%') {
            *p++ = *src++;
            continue;
        }

        if (last - src < 3 || !isxdigit(src[1]) || !isxdigit(src[2])) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "name",
                                     "name: invalid percent-encoding");
        }

        *p++ = (u_char) ((ngx_hextoi(src + 1, 1) << 4)
                         | ngx_hextoi(src + 2, 1));
        src += 3;
    }

    name->len = p - name->data;
    last = p;

    if (name->len > COLLAB_FILE_NAME_MAX) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "name",
                                 "name: must be at most %d bytes",
                                 COLLAB_FILE_NAME_MAX);
    }

    if (!collab_utf8_valid(name->data, name->len)) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "name",
                                 "name: must be valid UTF-8");
    }

    if (ngx_collab_has_control(name->data, name->len)) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "name",
                                 "name: must not contain NUL or control "
                                 "characters");
    }

    if (ngx_strlchr(name->data, last, '\\')) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "name",
                                 "name: must not contain a backslash");
    }

    if (name->data[0] == '/') {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "name",
                                 "name: must not start with /");
    }

    for (p = name->data; p <= last; p++) {
        start = p;

        while (p < last && *p != '/') {
            p++;
        }

        if (p == start) {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "name",
                                     "name: must not have an empty folder or "
                                     "file name");
        }

        if (start[0] == '.'
            && (p - start == 1 || (p - start == 2 && start[1] == '.')))
        {
            return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "name",
                                     "name: must not have . or .. as a "
                                     "folder or file name");
        }
    }

    return NGX_OK;
}


/* the Content-Type of an upload, application/octet-stream if none */
static ngx_int_t
ngx_collab_file_type(ngx_collab_req_t *cr, ngx_str_t *type)
{
    u_char           *p, *last;
    ngx_table_elt_t  *h;

    h = cr->request->headers_in.content_type;

    if (h == NULL || h->value.len == 0) {
        ngx_str_set(type, "application/octet-stream");
        return NGX_OK;
    }

    *type = h->value;
    last = type->data + type->len;

    for (p = type->data; p < last; p++) {
        if (*p < 0x20 || *p > 0x7e) {
            break;
        }
    }

    if (p != last || type->len > COLLAB_CONTENT_TYPE_MAX) {
        return ngx_collab_refuse(cr, NGX_HTTP_BAD_REQUEST, "Content-Type",
                                 "Content-Type: must be at most %d characters "
                                 "of printable ASCII", COLLAB_CONTENT_TYPE_MAX);
    }

    return NGX_OK;
}


/*
 * A file of size bytes under this name must fit the room's file count
 * and the account's quota.  The blob the name has now, if any, is copied
 * to *old.
 */
static ngx_int_t
ngx_collab_file_limits(ngx_collab_req_t *cr, off_t size, ngx_str_t *old)
{
    int                           rc;
    off_t                         replaced, used;
    ngx_str_t                     blob;
    sqlite3_stmt                 *st;
    ngx_http_collab_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(cr->request, ngx_http_collab_module);

    st = ngx_collab_db_stmt(ngx_collab_sql_file_find);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "file find");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    ngx_collab_db_bind_str(st, 2, &cr->params[2]);

    rc = sqlite3_step(st);
    replaced = 0;

    if (rc == SQLITE_ROW) {
        replaced = sqlite3_column_int64(st, 1);

        if (old) {
            ngx_collab_db_col(st, 0, &blob);

            old->data = ngx_pstrdup(cr->request->pool, &blob);
            if (old->data == NULL) {
                return ngx_collab_refuse_db(cr, SQLITE_NOMEM, "file find");
            }

            old->len = blob.len;
        }

    } else if (rc != SQLITE_DONE) {
        return ngx_collab_refuse_db(cr, rc, "file find");

    } else {
        st = ngx_collab_db_stmt(ngx_collab_sql_file_count);
        if (st == NULL) {
            return ngx_collab_refuse_db(cr, SQLITE_ERROR, "file count");
        }

        ngx_collab_db_bind_str(st, 1, &cr->params[1]);

        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
            return ngx_collab_refuse_db(cr, rc, "file count");
        }

        if ((ngx_uint_t) sqlite3_column_int64(st, 0)
            >= cmcf->files_max_per_room)
        {
            return ngx_collab_refuse(cr, NGX_HTTP_CONFLICT, NULL,
                                     "the room already has %ui files, the "
                                     "most it may have",
                                     cmcf->files_max_per_room);
        }
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_file_usage);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "file usage");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);

    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, "file usage");
    }

    used = sqlite3_column_int64(st, 0) - replaced;

    if (size > cmcf->files_quota - used) {
        return ngx_collab_refuse(cr, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, NULL,
                                 "the account's files would take %O bytes, "
                                 "more than its quota of %O",
                                 used + size, cmcf->files_quota);
    }

    return NGX_OK;
}


/*
 * The route's check: the name of the path; for an upload also the type
 * and, before its bytes are read, the limits (with the size the client
 * announces).
 */
ngx_int_t
ngx_collab_file_check(ngx_collab_req_t *cr)
{
    off_t      size;
    ngx_str_t  type;

    if (ngx_collab_file_name(cr, &cr->params[2]) != NGX_OK) {
        return NGX_ERROR;
    }

    if (cr->request->method != NGX_HTTP_PUT) {
        return NGX_OK;
    }

    if (ngx_collab_file_type(cr, &type) != NGX_OK) {
        return NGX_ERROR;
    }

    size = cr->request->headers_in.content_length_n;

    return ngx_collab_file_limits(cr, size > 0 ? size : 0, NULL);
}


static u_char *
ngx_collab_file_path(ngx_pool_t *pool, ngx_str_t *dir, ngx_str_t *room,
    ngx_str_t *blob, ngx_str_t *path)
{
    path->len = dir->len + 1 + room->len + 1 + blob->len;

    path->data = ngx_pnalloc(pool, path->len + 1);
    if (path->data == NULL) {
        return NULL;
    }

    ngx_sprintf(path->data, "%V/%V/%V%Z", dir, room, blob);

    return path->data;
}


static void
ngx_collab_file_unlink(ngx_log_t *log, ngx_str_t *path)
{
    if (ngx_delete_file(path->data) == NGX_FILE_ERROR
        && ngx_errno != NGX_ENOENT)
    {
        ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                      ngx_delete_file_n " \"%V\" failed", path);
    }
}


/* the upload's bytes under path: the temp file moved there, or nothing */
static ngx_int_t
ngx_collab_file_store(ngx_http_request_t *r, ngx_str_t *path, off_t *size)
{
    ngx_fd_t                  fd;
    ngx_err_t                 err;
    ngx_temp_file_t          *tf;
    ngx_ext_rename_file_t     ext;

    tf = r->request_body ? r->request_body->temp_file : NULL;

    if (tf) {
        *size = tf->file.offset;

        ext.access = 0;
        ext.path_access = 0700;
        ext.time = -1;
        ext.fd = tf->file.fd;
        ext.create_path = 1;
        ext.delete_file = 1;
        ext.log = r->connection->log;

        return ngx_ext_rename_file(&tf->file.name, path, &ext);
    }

    /* no body at all: an empty file */

    *size = 0;

    err = ngx_create_full_path(path->data, 0700);

    if (err) {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, err,
                      ngx_create_dir_n " \"%V\" failed", path);
        return NGX_ERROR;
    }

    fd = ngx_open_file(path->data, NGX_FILE_WRONLY, NGX_FILE_CREATE_OR_OPEN,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                      ngx_open_file_n " \"%V\" failed", path);
        return NGX_ERROR;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", path);
    }

    return NGX_OK;
}


/* the row of the upload, in one transaction with the limits checked */
static ngx_int_t
ngx_collab_file_commit(ngx_collab_req_t *cr, ngx_str_t *blob, off_t size,
    ngx_str_t *type, int64_t now, ngx_str_t *old)
{
    int            rc;
    sqlite3_stmt  *st;

    rc = ngx_collab_db_begin();
    if (rc != SQLITE_OK) {
        return ngx_collab_refuse_db(cr, rc, "file put");
    }

    if (ngx_collab_file_limits(cr, size, old) != NGX_OK) {
        ngx_collab_db_rollback();
        return NGX_ERROR;
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_file_upsert);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "file upsert");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    ngx_collab_db_bind_str(st, 2, &cr->params[2]);
    ngx_collab_db_bind_str(st, 3, blob);
    sqlite3_bind_int64(st, 4, size);
    ngx_collab_db_bind_str(st, 5, type);
    sqlite3_bind_int64(st, 6, now);

    rc = sqlite3_step(st);

    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        /* the room was deleted since the route's rule found it */
        ngx_collab_db_rollback();
        return ngx_collab_refuse(cr, NGX_HTTP_NOT_FOUND, NULL,
                                 "room not found");
    }

    if (rc != SQLITE_DONE) {
        return ngx_collab_refuse_db(cr, rc, "file upsert");
    }

    rc = ngx_collab_db_commit();
    if (rc != SQLITE_OK) {
        return ngx_collab_refuse_db(cr, rc, "file put");
    }

    return NGX_OK;
}


static void
ngx_collab_file_json(collab_json_t *j, ngx_str_t *name, off_t size,
    ngx_str_t *type, ngx_str_t *blob, int64_t uploaded)
{
    u_char  etag[COLLAB_ID_MAX + 2];

    collab_json_obj_open(j);
    collab_json_key(j, "name");
    collab_json_str(j, name->data, name->len);
    collab_json_key(j, "size");
    collab_json_int(j, size);
    collab_json_key(j, "contentType");
    collab_json_str(j, type->data, type->len);
    collab_json_key(j, "etag");
    collab_json_str(j, etag, ngx_sprintf(etag, "\"%V\"", blob) - etag);
    collab_json_key(j, "uploadedAt");
    collab_json_time(j, uploaded);
    collab_json_obj_close(j);
}


ngx_int_t
ngx_collab_file_put(ngx_collab_req_t *cr)
{
    off_t                         size;
    int64_t                       now;
    ngx_str_t                     blob, type, path, old;
    ngx_http_request_t           *r;
    ngx_http_collab_main_conf_t  *cmcf;
    char                          idbuf[COLLAB_ID_MAX];

    r = cr->request;
    cmcf = ngx_http_get_module_main_conf(r, ngx_http_collab_module);

    if (ngx_collab_file_type(cr, &type) != NGX_OK) {
        return NGX_ERROR;
    }

    blob.len = collab_id_new(idbuf, COLLAB_BLOB_PREFIX);
    blob.data = (u_char *) idbuf;

    if (ngx_collab_file_path(r->pool, &cmcf->files_path, &cr->params[1],
                             &blob, &path)
        == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_collab_file_store(r, &path, &size) != NGX_OK) {
        return ngx_collab_fail(cr, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                               "the file could not be stored, nothing was "
                               "changed; try again");
    }

    now = collab_now_ms();
    ngx_str_null(&old);

    if (ngx_collab_file_commit(cr, &blob, size, &type, now, &old) != NGX_OK) {
        ngx_collab_file_unlink(r->connection->log, &path);
        return NGX_ERROR;
    }

    if (old.len) {
        if (ngx_collab_file_path(r->pool, &cmcf->files_path, &cr->params[1],
                                 &old, &path)
            != NULL)
        {
            ngx_collab_file_unlink(r->connection->log, &path);
        }
    }

    ngx_collab_file_json(&cr->out, &cr->params[2], size, &type, &blob, now);

    return ngx_collab_reply(cr, old.len ? NGX_HTTP_OK : NGX_HTTP_CREATED);
}


/*
 * The file's row, and its bytes opened as the static module opens them;
 * a download racing with a replacement looks the row up once more.
 */
static ngx_int_t
ngx_collab_file_open(ngx_collab_req_t *cr, ngx_open_file_info_t *of,
    ngx_str_t *path, ngx_str_t *type, ngx_str_t *blob, int64_t *uploaded)
{
    int                           rc;
    ngx_str_t                     s;
    ngx_uint_t                    attempt;
    sqlite3_stmt                 *st;
    ngx_http_request_t           *r;
    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_collab_main_conf_t  *cmcf;

    r = cr->request;
    cmcf = ngx_http_get_module_main_conf(r, ngx_http_collab_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    for (attempt = 0; /* void */; attempt++) {

        st = ngx_collab_db_stmt(ngx_collab_sql_file_get);
        if (st == NULL) {
            return ngx_collab_refuse_db(cr, SQLITE_ERROR, "file get");
        }

        ngx_collab_db_bind_str(st, 1, &cr->params[1]);
        ngx_collab_db_bind_str(st, 2, &cr->params[2]);

        rc = sqlite3_step(st);

        if (rc == SQLITE_DONE) {
            return ngx_collab_refuse(cr, NGX_HTTP_NOT_FOUND, NULL,
                                     "file not found");
        }

        if (rc != SQLITE_ROW) {
            return ngx_collab_refuse_db(cr, rc, "file get");
        }

        ngx_collab_db_col(st, 0, &s);
        blob->len = s.len;
        blob->data = ngx_pstrdup(r->pool, &s);

        ngx_collab_db_col(st, 2, &s);
        type->len = s.len;
        type->data = ngx_pstrdup(r->pool, &s);

        *uploaded = sqlite3_column_int64(st, 3);

        /* the read snapshot ends here, before any file is touched */
        sqlite3_reset(st);

        if (blob->data == NULL || type->data == NULL
            || ngx_collab_file_path(r->pool, &cmcf->files_path,
                                    &cr->params[1], blob, path)
               == NULL)
        {
            return ngx_collab_refuse(cr, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     NULL, "an internal error occurred");
        }

        ngx_memzero(of, sizeof(ngx_open_file_info_t));

        of->read_ahead = clcf->read_ahead;
        of->directio = clcf->directio;
        of->valid = clcf->open_file_cache_valid;
        of->min_uses = clcf->open_file_cache_min_uses;
        of->errors = clcf->open_file_cache_errors;
        of->events = clcf->open_file_cache_events;

        if (ngx_open_cached_file(clcf->open_file_cache, path, of, r->pool)
            == NGX_OK)
        {
            return NGX_OK;
        }

        if (of->err != NGX_ENOENT || attempt == 1) {
            break;
        }
    }

    ngx_log_error(NGX_LOG_CRIT, r->connection->log, of->err,
                  "collab: the bytes of a file are missing: "
                  ngx_open_file_n " \"%V\" failed", path);

    return ngx_collab_refuse(cr, NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                             "an internal error occurred");
}


/*
 * Can a browser run script in a document of this type?  The media type
 * is compared without parameters and case; one that does not parse is
 * taken as active too.
 */
static ngx_uint_t
ngx_collab_file_active(ngx_str_t *type)
{
    u_char      *p, *last, *slash, c;
    size_t       len;
    ngx_uint_t   i;
    u_char       essence[COLLAB_CONTENT_TYPE_MAX];

    static ngx_str_t  active[] = {
        ngx_string("text/html"),
        ngx_string("text/xsl"),
        ngx_string("text/javascript"),
        ngx_string("text/ecmascript"),
        ngx_string("text/x-component"),
        ngx_string("application/javascript"),
        ngx_string("application/ecmascript"),
        ngx_string("application/x-javascript"),
        ngx_string("application/pdf"),
        ngx_string("application/x-shockwave-flash"),
        ngx_string("multipart/x-mixed-replace"),
    };

    p = type->data;
    last = type->data + type->len;

    while (p < last && *p == ' ') {
        p++;
    }

    len = 0;
    slash = NULL;

    for ( /* void */ ;
         p < last && *p != ';' && *p != ',' && len < sizeof(essence);
         p++)
    {
        c = ngx_tolower(*p);

        if (c == '/' && slash == NULL && len > 0) {
            slash = &essence[len];

        } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                     || ngx_strchr("!#$&^_.+-", c)))
        {
            break;
        }

        essence[len++] = c;
    }

    while (p < last && *p == ' ') {
        p++;
    }

    if (slash == NULL || slash == &essence[len - 1]
        || (p < last && *p != ';'))
    {
        return 1;
    }

    /* XML of any kind: application/xml, image/svg+xml, xhtml ... */
    if ((size_t) (&essence[len] - slash) == 4
        && ngx_strncmp(slash + 1, "xml", 3) == 0)
    {
        return 1;
    }

    if (len > 4 && ngx_strncmp(&essence[len - 4], "+xml", 4) == 0) {
        return 1;
    }

    for (i = 0; i < sizeof(active) / sizeof(active[0]); i++) {
        if (len == active[i].len
            && ngx_strncmp(essence, active[i].data, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Content-Disposition: attachment with the last part of the file name:
 * as printable ASCII in filename, the rest of it replaced by "_", and as
 * percent-encoded UTF-8 in filename* (RFC 6266).
 */
static ngx_int_t
ngx_collab_file_attachment(ngx_http_request_t *r, ngx_str_t *name)
{
    u_char           *p, *q, *base, *last, c;
    ngx_table_elt_t  *h;

    static u_char  hex[] = "0123456789ABCDEF";

    last = name->data + name->len;
    base = name->data;

    for (p = name->data; p < last; p++) {
        if (*p == '/') {
            base = p + 1;
        }
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, sizeof("attachment; filename=\"\"; "
                                                "filename*=UTF-8''") - 1
                                         + 4 * (last - base));
    if (h->value.data == NULL) {
        return NGX_ERROR;
    }

    q = ngx_cpymem(h->value.data, "attachment; filename=\"",
                   sizeof("attachment; filename=\"") - 1);

    for (p = base; p < last; p++) {
        c = *p;

        if ((c & 0xc0) == 0x80) {
            continue;
        }

        *q++ = (c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%'
                && c != ';')
               ? c : '_';
    }

    q = ngx_cpymem(q, "\"; filename*=UTF-8''",
                   sizeof("\"; filename*=UTF-8''") - 1);

    for (p = base; p < last; p++) {
        c = *p;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || ngx_strchr("!#$&+-.^_`|~", c))
        {
            *q++ = c;

        } else {
            *q++ = '%';
            *q++ = hex[c >> 4];
            *q++ = hex[c & 0xf];
        }
    }

    h->value.len = q - h->value.data;
    h->hash = 1;
    ngx_str_set(&h->key, "Content-Disposition");

    return NGX_OK;
}


/*
 * Headers that keep an uploaded file from running as a page of this
 * origin: no type sniffing, ever, and documents that can hold script are
 * downloaded rather than shown.
 */
static ngx_int_t
ngx_collab_file_safety(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *type)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "X-Content-Type-Options");
    ngx_str_set(&h->value, "nosniff");

    if (!ngx_collab_file_active(type)) {
        return NGX_OK;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "collab: \"%V\" is sent as an attachment", type);

    return ngx_collab_file_attachment(r, name);
}


ngx_int_t
ngx_collab_file_get(ngx_collab_req_t *cr)
{
    int64_t                    uploaded;
    ngx_int_t                  rc;
    ngx_str_t                  path, type, blob;
    ngx_buf_t                 *b;
    ngx_chain_t                out;
    ngx_table_elt_t           *etag;
    ngx_http_request_t        *r;
    ngx_open_file_info_t       of;
    ngx_http_core_loc_conf_t  *clcf;

    r = cr->request;
    uploaded = 0;

    if (ngx_collab_file_open(cr, &of, &path, &type, &blob, &uploaded)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = of.size;
    r->headers_out.last_modified_time = (time_t) (uploaded / 1000);

    r->headers_out.content_type = type;
    r->headers_out.content_type_len = type.len;
    r->headers_out.content_type_lowcase = NULL;

    if (ngx_collab_file_safety(r, &cr->params[2], &type) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    /* a blob is never rewritten: its id is a strong validator */
    if (clcf->etag) {
        etag = ngx_list_push(&r->headers_out.headers);
        if (etag == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        etag->hash = 1;
        ngx_str_set(&etag->key, "ETag");

        etag->value.data = ngx_pnalloc(r->pool, blob.len + 2);
        if (etag->value.data == NULL) {
            etag->hash = 0;
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        etag->value.len = ngx_sprintf(etag->value.data, "\"%V\"", &blob)
                          - etag->value.data;

        r->headers_out.etag = etag;
    }

    r->allow_ranges = 1;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->file = ngx_pcalloc(r->pool, sizeof(ngx_file_t));
    if (b->file == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cr->sending = 1;

    rc = ngx_http_send_header(r);

    if (rc > NGX_OK) {
        /* 416 from the range filter: nginx's error page, in our shape */
        cr->sending = 0;
        return rc;
    }

    if (rc == NGX_ERROR || r->header_only) {
        return rc;
    }

    b->file_pos = 0;
    b->file_last = of.size;

    b->in_file = b->file_last ? 1 : 0;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    b->file->fd = of.fd;
    b->file->name = path;
    b->file->log = r->connection->log;
    b->file->directio = of.is_directio;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* the successor of a prefix in byte order, NULL if none */
static ngx_int_t
ngx_collab_file_prefix_end(ngx_pool_t *pool, ngx_str_t *prefix,
    ngx_str_t *end)
{
    size_t  len;

    ngx_str_null(end);

    for (len = prefix->len; len > 0 && prefix->data[len - 1] == 0xff; len--) {
        /* void */
    }

    if (len == 0) {
        return NGX_OK;
    }

    end->data = ngx_pnalloc(pool, len);
    if (end->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(end->data, prefix->data, len);
    end->data[len - 1]++;
    end->len = len;

    return NGX_OK;
}


/* a row of the list: name, blob, size, content_type, uploaded_at */
static void
ngx_collab_file_row(collab_json_t *j, sqlite3_stmt *st)
{
    ngx_str_t  name, blob, type;

    ngx_collab_db_col(st, 0, &name);
    ngx_collab_db_col(st, 1, &blob);
    ngx_collab_db_col(st, 3, &type);
    ngx_collab_file_json(j, &name, sqlite3_column_int64(st, 2), &type, &blob,
                         sqlite3_column_int64(st, 4));
}


/* the files of a room by name, those under ?prefix= only if given */
ngx_int_t
ngx_collab_file_list(ngx_collab_req_t *cr)
{
    int            rc;
    ngx_str_t      from, prefix, end;
    ngx_uint_t     limit;
    sqlite3_stmt  *st;

    if (ngx_collab_page_name_args(cr, "files", &limit, &from) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_str_null(&prefix);
    ngx_str_null(&end);

    rc = ngx_collab_arg(cr, "prefix", &prefix);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        if (prefix.len > COLLAB_FILE_NAME_MAX) {
            return ngx_collab_fail(cr, NGX_HTTP_BAD_REQUEST, "prefix",
                                   "prefix: must be at most %d bytes of "
                                   "UTF-8", COLLAB_FILE_NAME_MAX);
        }

        if (ngx_collab_file_prefix_end(cr->request->pool, &prefix, &end)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* the page starts at the cursor or the prefix, the later one */
        if (ngx_memn2cmp(prefix.data, from.data, prefix.len, from.len) > 0) {
            from = prefix;
        }
    }

    st = ngx_collab_db_stmt(ngx_collab_sql_file_list);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "file list");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[1]);
    ngx_collab_db_bind_str(st, 2, &from);
    ngx_collab_db_bind_str(st, 3, end.len ? &end : NULL);
    sqlite3_bind_int64(st, 4, limit + 1);

    return ngx_collab_reply_page_name(cr, st, "files", limit,
                                      ngx_collab_file_row, "file list");
}


ngx_int_t
ngx_collab_file_delete(ngx_collab_req_t *cr)
{
    int                           rc;
    ngx_str_t                     s, blob, path;
    sqlite3_stmt                 *st;
    ngx_http_collab_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(cr->request, ngx_http_collab_module);

    st = ngx_collab_db_stmt(ngx_collab_sql_file_delete);
    if (st == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_ERROR, "file delete");
    }

    ngx_collab_db_bind_str(st, 1, &cr->params[0]);
    ngx_collab_db_bind_str(st, 2, &cr->params[1]);
    ngx_collab_db_bind_str(st, 3, &cr->params[2]);

    rc = sqlite3_step(st);

    if (rc == SQLITE_DONE) {
        return ngx_collab_fail(cr, NGX_HTTP_NOT_FOUND, NULL, "file not found");
    }

    if (rc != SQLITE_ROW) {
        return ngx_collab_refuse_db(cr, rc, "file delete");
    }

    ngx_collab_db_col(st, 0, &s);
    blob.len = s.len;
    blob.data = ngx_pstrdup(cr->request->pool, &s);

    if (blob.data == NULL) {
        return ngx_collab_refuse_db(cr, SQLITE_NOMEM, "file delete");
    }

    /* a RETURNING statement commits only when stepped to the end */
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        return ngx_collab_refuse_db(cr, rc, "file delete");
    }

    if (ngx_collab_file_path(cr->request->pool, &cmcf->files_path,
                             &cr->params[1], &blob, &path)
        != NULL)
    {
        ngx_collab_file_unlink(cr->request->connection->log, &path);
    }

    return ngx_collab_reply_empty(cr, NGX_HTTP_NO_CONTENT);
}


/*
 * Removes the blobs in a room's folder that no row refers to (with db),
 * or all of them (without: the room is gone), then the folder if it is
 * empty.  Names that are not blobs are left alone, whoever put them there.
 */
static void
ngx_collab_files_sweep(ngx_str_t *files, ngx_str_t *room, sqlite3 *db,
    ngx_log_t *log)
{
    int            rc;
    size_t         len;
    u_char        *name;
    ngx_dir_t      d;
    ngx_str_t      folder, blob;
    sqlite3_stmt  *st;
    u_char         dir[NGX_MAX_PATH], path[NGX_MAX_PATH];

    folder.data = dir;
    folder.len = ngx_snprintf(dir, sizeof(dir) - 1, "%V/%V", files, room)
                 - dir;
    dir[folder.len] = '\0';

    if (ngx_open_dir(&folder, &d) == NGX_ERROR) {
        if (ngx_errno != NGX_ENOENT) {
            ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                          ngx_open_dir_n " \"%V\" failed", &folder);
        }

        return;
    }

    st = NULL;

    if (db && sqlite3_prepare_v2(db, "SELECT 1 FROM files"
                                     " WHERE blob = ?1 AND room_id = ?2",
                                 -1, &st, NULL)
              != SQLITE_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0, "collab: sqlite: %s",
                      sqlite3_errmsg(db));
        ngx_close_dir(&d);
        return;
    }

    for ( ;; ) {
        ngx_set_errno(0);

        if (ngx_read_dir(&d) == NGX_ERROR) {
            if (ngx_errno != NGX_ENOMOREFILES) {
                ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                              ngx_read_dir_n " \"%V\" failed", &folder);
            }

            break;
        }

        name = ngx_de_name(&d);
        len = ngx_de_namelen(&d);

        if (name[0] == '.') {
            continue;
        }

        /* a blob, or a copy of one that ngx_ext_rename_file() left */
        if (len < sizeof(COLLAB_BLOB_PREFIX) - 1
            || ngx_strncmp(name, COLLAB_BLOB_PREFIX,
                           sizeof(COLLAB_BLOB_PREFIX) - 1)
               != 0)
        {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "collab: \"%V/%s\" is not a file of collab, left "
                          "alone", &folder, name);
            continue;
        }

        if (st && collab_id_valid(name, len, COLLAB_BLOB_PREFIX)) {
            blob.data = name;
            blob.len = len;

            sqlite3_reset(st);
            ngx_collab_db_bind_str(st, 1, &blob);
            ngx_collab_db_bind_str(st, 2, room);

            rc = sqlite3_step(st);

            if (rc == SQLITE_ROW) {
                continue;
            }

            if (rc != SQLITE_DONE) {
                ngx_log_error(NGX_LOG_ALERT, log, 0, "collab: sqlite: %s",
                              sqlite3_errmsg(db));
                break;
            }
        }

        ngx_snprintf(path, sizeof(path) - 1, "%V/%s%Z", &folder, name);

        if (ngx_delete_file(path) == NGX_FILE_ERROR) {
            ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                          ngx_delete_file_n " \"%s\" failed", path);

        } else if (db) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "collab: removed \"%s\", which no file refers to",
                          path);
        }
    }

    sqlite3_finalize(st);
    ngx_close_dir(&d);

    if (ngx_delete_dir(dir) == NGX_FILE_ERROR
        && ngx_errno != ENOTEMPTY && ngx_errno != NGX_EEXIST)
    {
        ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                      ngx_delete_dir_n " \"%V\" failed", &folder);
    }
}


/* after a room's deletion: its blobs and folder */
void
ngx_collab_files_drop_room(ngx_collab_req_t *cr, ngx_str_t *room)
{
    ngx_http_collab_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(cr->request, ngx_http_collab_module);

    ngx_collab_files_sweep(&cmcf->files_path, room, NULL,
                           cr->request->connection->log);
}


/* every room folder: the blobs no row refers to */
static void
ngx_collab_files_repair_blobs(ngx_str_t *files, sqlite3 *db, ngx_log_t *log)
{
    u_char     *name;
    size_t      len;
    ngx_dir_t   d;
    ngx_str_t   room;
    u_char      path[NGX_MAX_PATH];

    if (ngx_open_dir(files, &d) == NGX_ERROR) {
        ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                      ngx_open_dir_n " \"%V\" failed", files);
        return;
    }

    for ( ;; ) {
        ngx_set_errno(0);

        if (ngx_read_dir(&d) == NGX_ERROR) {
            if (ngx_errno != NGX_ENOMOREFILES) {
                ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                              ngx_read_dir_n " \"%V\" failed", files);
            }

            break;
        }

        name = ngx_de_name(&d);
        len = ngx_de_namelen(&d);

        if (name[0] == '.') {
            continue;
        }

        ngx_snprintf(path, sizeof(path) - 1, "%V/%s%Z", files, name);

        if (d.type == 0 && ngx_de_info(path, &d) == NGX_FILE_ERROR) {
            continue;
        }

        if (!ngx_de_is_dir(&d) || !collab_uuid_valid(name, len)) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "collab: \"%s\" is not a folder of collab, left "
                          "alone", path);
            continue;
        }

        room.data = name;
        room.len = len;

        ngx_collab_files_sweep(files, &room, db, log);
    }

    ngx_close_dir(&d);
}


/* every row: removed when its blob is missing or not of its size */
static ngx_int_t
ngx_collab_files_repair_rows(ngx_str_t *files, sqlite3 *db, ngx_log_t *log)
{
    int              rc;
    ngx_str_t        room, blob, *gone;
    ngx_uint_t       i;
    ngx_pool_t      *pool;
    ngx_array_t      lost;
    sqlite3_stmt    *st;
    ngx_file_info_t  fi;
    u_char           path[NGX_MAX_PATH];

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    if (ngx_array_init(&lost, pool, 8, sizeof(ngx_str_t)) != NGX_OK) {
        goto failed;
    }

    if (sqlite3_prepare_v2(db, "SELECT room_id, blob, size FROM files", -1,
                           &st, NULL)
        != SQLITE_OK)
    {
        goto sqlite_failed;
    }

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ngx_collab_db_col(st, 0, &room);
        ngx_collab_db_col(st, 1, &blob);

        ngx_snprintf(path, sizeof(path) - 1, "%V/%V/%V%Z", files, &room,
                     &blob);

        if (ngx_file_info(path, &fi) != NGX_FILE_ERROR
            && ngx_file_size(&fi) == sqlite3_column_int64(st, 2))
        {
            continue;
        }

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "collab: \"%s\" is missing or incomplete, its file "
                      "of room %V is removed", path, &room);

        gone = ngx_array_push(&lost);
        if (gone == NULL) {
            sqlite3_finalize(st);
            goto failed;
        }

        gone->len = blob.len;
        gone->data = ngx_pstrdup(pool, &blob);

        if (gone->data == NULL) {
            sqlite3_finalize(st);
            goto failed;
        }
    }

    sqlite3_finalize(st);

    if (rc != SQLITE_DONE) {
        goto sqlite_failed;
    }

    if (lost.nelts == 0) {
        ngx_destroy_pool(pool);
        return NGX_OK;
    }

    if (sqlite3_prepare_v2(db, "DELETE FROM files WHERE blob = ?1", -1, &st,
                           NULL)
        != SQLITE_OK)
    {
        goto sqlite_failed;
    }

    gone = lost.elts;
    rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

    for (i = 0; rc == SQLITE_OK && i < lost.nelts; i++) {
        sqlite3_reset(st);
        ngx_collab_db_bind_str(st, 1, &gone[i]);
        rc = (sqlite3_step(st) == SQLITE_DONE) ? SQLITE_OK : SQLITE_ERROR;
    }

    sqlite3_finalize(st);

    if (rc != SQLITE_OK
        || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        goto sqlite_failed;
    }

    ngx_destroy_pool(pool);

    return NGX_OK;

sqlite_failed:

    ngx_log_error(NGX_LOG_EMERG, log, 0, "collab: checking files: sqlite: %s",
                  sqlite3_errmsg(db));

failed:

    ngx_destroy_pool(pool);

    return NGX_ERROR;
}


/*
 * Runs in the master before the workers start: creates the files folder
 * for the worker user and, with repair set (a start, not a reload or a
 * test of the configuration: workers may be in the middle of an upload),
 * makes rows and blobs agree.
 */
ngx_int_t
ngx_collab_files_prepare(ngx_cycle_t *cycle,
    ngx_http_collab_main_conf_t *cmcf, ngx_uint_t repair, ngx_log_t *log)
{
    sqlite3    *db;
    ngx_int_t   rc;
    ngx_str_t   files;
    u_char      dir[NGX_MAX_PATH];

    if (cmcf->files_path.len > NGX_MAX_PATH / 2) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "collab_files_path: \"%V\" is too long",
                      &cmcf->files_path);
        return NGX_ERROR;
    }

    files.data = dir;
    files.len = cmcf->files_path.len;
    ngx_snprintf(dir, sizeof(dir) - 1, "%V%Z", &cmcf->files_path);

    if (ngx_create_dir(dir, 0700) == NGX_FILE_ERROR) {
        if (ngx_errno != NGX_EEXIST) {
            ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                          "collab: cannot create \"%V\"", &files);
            return NGX_ERROR;
        }

    } else {
        ngx_collab_db_chown(cycle, &files, "");
    }

    if (!repair) {
        return NGX_OK;
    }

    db = ngx_collab_db_open_master(&cmcf->database, log);
    if (db == NULL) {
        return NGX_ERROR;
    }

    /* rows first: a blob of the wrong size then goes with the others */
    rc = ngx_collab_files_repair_rows(&files, db, log);

    if (rc == NGX_OK) {
        ngx_collab_files_repair_blobs(&files, db, log);
    }

    sqlite3_close(db);

    return rc;
}
