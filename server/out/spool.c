/*
 * spool.c - accepted messages into a maildir, durably, before the 250.
 *
 * A message is streamed (through a 64 KiB buffer) into tmp/NAME. On
 * commit the message is fsynced, envelope/NAME.json is written
 * (spool_envelope.c builds it; NAME.json.tmp, fsync, rename, fsync envelope/),
 * tmp/NAME is renamed into new/NAME and new/ is fsynced. Every step works
 * relative to directory descriptors opened once by spool_open(), so concurrent
 * begin/commit calls from several threads share nothing mutable but an
 * atomic counter. "none" is a sink: nothing is ever written.
 *
 * Under --user (spool_open_as), only directories this process created are
 * given to the user, with fchown() on descriptors opened O_NOFOLLOW; a
 * pre-existing directory that user neither owns nor may write is refused.
 * At open, tmp/ files left by a dead writer (its pid, on this host, is
 * gone) or older than 36 hours (qmail's rule) are removed with their
 * half-written envelope, and counted in the log.
 *
 * Not here: deciding what to accept, queue ids, delivery, setuid().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "spool.h"

/* Gathers the small writes of a message (one per read); reads are at most
 * 16 KiB, so a larger buffer would only hold memory per message. */
#define SPOOL_BUF_SIZE    (16 * 1024)
#define SPOOL_NAME_MAX    255
#define SPOOL_QID_MAX     64
#define SPOOL_HOST_MAX    128
#define SPOOL_ENVTMP_SUFX ".json.tmp"
/* A tmp/ file this old is abandoned whoever wrote it (qmail: 36 h). */
#define SPOOL_STALE_SECS (36 * 3600)

enum spool_dirs { SD_TMP, SD_NEW, SD_CUR, SD_ENV, SD_COUNT };

static const char *const spool_subdirs[SD_COUNT] = {
    [SD_TMP] = "tmp",
    [SD_NEW] = "new",
    [SD_CUR] = "cur",
    [SD_ENV] = "envelope",
};

struct spool {
	char *dir;
	int sink;
	int fd[SD_COUNT]; /* O_DIRECTORY descriptors, read-only after open */
	char host[SPOOL_HOST_MAX];
	long pid; /* ours, for names: read once, not a syscall each */
	unsigned long removed; /* partial messages removed from tmp/ */
};

struct spool_msg {
	struct spool *sp;
	int fd;
	int error; /* sticky errno of a failed write, 0 if none */
	size_t buflen;
	char name[SPOOL_NAME_MAX + 1];
	unsigned char buf[]; /* SPOOL_BUF_SIZE bytes */
};

/* Process-wide, so names stay unique across threads within a second. */
static atomic_ulong spool_counter;

/* The sink's only message: shared, never written to, never freed. */
static struct spool_msg spool_sink_msg = {.fd = -1};

static int
is_sink_msg(const struct spool_msg *m)
{
	return m == &spool_sink_msg;
}

/* Write all of buf, retrying on EINTR and after partial writes. */
static int
write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Maildir names may not contain '/' or ':'; keep a conservative set. */
static void
sanitize(char *dst, size_t dstlen, const char *src)
{
	size_t i = 0;

	for (; src != NULL && *src != '\0' && i + 1 < dstlen; src++) {
		unsigned char c = (unsigned char)*src;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.')
			dst[i++] = (char)c;
		else
			dst[i++] = '_';
	}
	dst[i] = '\0';
}

/* mkdir -p: parents 0755 (they stay root's; others only traverse them),
 * the last component 0750; *created tells whether that one was made
 * here. Errors name the component that failed. */
static int
mkdir_p(const char *path, int *created, char *err, size_t errlen)
{
	char *buf = strdup(path);
	struct stat st;
	char *p;

	*created = 0;
	if (buf == NULL) {
		snprintf(err, errlen, "spool: %s", strerror(errno));
		return -1;
	}
	for (p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		int last = saved == '\0' || p[strspn(p, "/")] == '\0';
		*p = '\0';
		if (mkdir(buf, last ? 0750 : 0755) == 0) {
			*created = last;
		} else {
			int e = errno;
			if (e != EEXIST) {
				snprintf(err, errlen,
				         "spool: cannot create %s: %s", buf,
				         strerror(e));
				free(buf);
				return -1;
			}
			if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
				snprintf(err, errlen,
				         "spool: cannot create %s: %s", buf,
				         strerror(ENOTDIR));
				free(buf);
				return -1;
			}
		}
		*p = saved;
		if (last)
			break;
		while (p[1] == '/')
			p++;
	}
	free(buf);
	return 0;
}

/* Could own (not root) write into and search a directory with st? By the
 * mode bits, as the kernel decides for a process of that user. */
static int
writable_by(const struct stat *st, const struct spool_owner *own)
{
	gid_t groups[256];
	int n = (int)(sizeof(groups) / sizeof(groups[0]));

	if (own->uid == 0 || st->st_uid == own->uid)
		return own->uid == 0 || (st->st_mode & (S_IWUSR | S_IXUSR)) ==
		                            (S_IWUSR | S_IXUSR);
	if (getgrouplist(own->name, own->gid, groups, &n) < 0)
		n = 0;
	groups[n < 256 ? n++ : 0] = own->gid;
	for (int i = 0; i < n; i++)
		if (groups[i] == st->st_gid)
			return (st->st_mode & (S_IWGRP | S_IXGRP)) ==
			       (S_IWGRP | S_IXGRP);
	return (st->st_mode & (S_IWOTH | S_IXOTH)) == (S_IWOTH | S_IXOTH);
}

/* Give fd (a directory made here) to own, or check that own may use a
 * pre-existing one; 0, or -1 with the reason in err. */
static int
settle_owner(int fd, int created, const char *path,
             const struct spool_owner *own, char *err, size_t errlen)
{
	struct stat st;
	struct passwd *pw;
	char uidbuf[32];

	if (own == NULL)
		return 0;
	if (created > 0) {
		if (fchown(fd, own->uid, own->gid) == 0)
			return 0;
		snprintf(err, errlen, "spool: cannot give %s to %s: %s", path,
		         own->name, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "spool: cannot stat %s: %s", path,
		         strerror(errno));
		return -1;
	}
	if (st.st_uid == own->uid || writable_by(&st, own))
		return 0;
	if ((pw = getpwuid(st.st_uid)) == NULL)
		snprintf(uidbuf, sizeof(uidbuf), "uid %lu",
		         (unsigned long)st.st_uid);
	snprintf(err, errlen,
	         "%s%sowned by %s, not writable by %s; chown it or pick "
	         "another directory",
	         created == -1 ? "" : path, created == -1 ? "" : ": ",
	         pw != NULL ? pw->pw_name : uidbuf, own->name);
	return -1;
}

/* "SEC.MUSECPPID..." -> PID, or -1 for a name not made by spool_begin */
static long
name_pid(const char *name)
{
	char *end;
	long pid;

	strtoll(name, &end, 10);
	if (end == name || strncmp(end, ".M", 2) != 0)
		return -1;
	strtol(end + 2, &end, 10);
	if (*end != 'P')
		return -1;
	pid = strtol(end + 1, &end, 10);
	return *end == 'Q' && pid > 0 && pid <= INT_MAX ? pid : -1;
}

/* Left by a writer that is gone: its pid on this host is not alive (or
 * is ours: we have written nothing yet), or it is older than 36 hours. */
static int
abandoned(const struct spool *sp, const char *name, size_t namelen,
          const struct stat *st)
{
	size_t hl = strlen(sp->host);
	long pid = name_pid(name);

	if (pid > 0 && namelen > hl + 1 && name[namelen - hl - 1] == '.' &&
	    strncmp(name + namelen - hl, sp->host, hl) == 0 &&
	    (pid == sp->pid || (kill((pid_t)pid, 0) == -1 && errno == ESRCH)))
		return 1;
	return time(NULL) - st->st_mtime > SPOOL_STALE_SECS;
}

/* Remove what dead writers left in dir (tmp/ or envelope/): regular
 * files; in envelope/ only NAME.json.tmp. Removing tmp/NAME also removes
 * envelope/NAME.json (written before a rename into new/ that never
 * happened). Returns how many were removed. */
static unsigned long
sweep(struct spool *sp, int which)
{
	int dfd = dup(sp->fd[which]);
	size_t sl = strlen(SPOOL_ENVTMP_SUFX);
	unsigned long n = 0;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		char name[SPOOL_NAME_MAX + sizeof(".json")];
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len > SPOOL_NAME_MAX ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		memcpy(name, de->d_name, len + 1);
		if (which == SD_ENV) {
			if (len <= sl ||
			    strcmp(name + len - sl, SPOOL_ENVTMP_SUFX) != 0)
				continue;
			name[len -= sl] = '\0';
		}
		if (!abandoned(sp, name, len, &st) ||
		    unlinkat(dfd, de->d_name, 0) != 0)
			continue;
		n++;
		if (which == SD_TMP) {
			memcpy(name + len, ".json", sizeof(".json"));
			unlinkat(sp->fd[SD_ENV], name, 0);
		}
	}
	closedir(d);
	return n;
}

/* spool_open - create or open the maildir at dir, or a sink for "none" */
struct spool *
spool_open(const char *dir, char *err, size_t errlen)
{
	return spool_open_as(dir, NULL, err, errlen);
}

/* spool_open_as - spool_open, the directories fit for own (or NULL) */
struct spool *
spool_open_as(const char *dir, const struct spool_owner *own, char *err,
              size_t errlen)
{
	struct spool *sp;
	char path[4096];
	int i, top = -1, created;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (dir == NULL || *dir == '\0') {
		snprintf(err, errlen, "spool: empty directory name");
		return NULL;
	}
	if ((sp = calloc(1, sizeof(*sp))) == NULL ||
	    (sp->dir = strdup(dir)) == NULL) {
		snprintf(err, errlen, "spool: %s", strerror(errno));
		free(sp);
		return NULL;
	}
	for (i = 0; i < SD_COUNT; i++)
		sp->fd[i] = -1;
	if (strcmp(dir, "none") == 0) {
		sp->sink = 1;
		return sp;
	}

	if (gethostname(path, sizeof(path)) != 0)
		strcpy(path, "localhost");
	path[sizeof(path) - 1] = '\0';
	sanitize(sp->host, sizeof(sp->host), path);
	sp->pid = (long)getpid();

	if (mkdir_p(dir, &created, err, errlen) != 0)
		goto fail;
	/* Made here: it must still be what we made, not a symlink since. */
	top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	                    (created ? O_NOFOLLOW : 0));
	if (top < 0) {
		snprintf(err, errlen, "spool: cannot open %s: %s", dir,
		         strerror(errno));
		goto fail;
	}
	/* -1: the line names the directory through the --spool flag. */
	if (settle_owner(top, created ? 1 : -1, dir, own, err, errlen) != 0)
		goto fail;
	for (i = 0; i < SD_COUNT; i++) {
		int n = snprintf(path, sizeof(path), "%s/%s", dir,
		                 spool_subdirs[i]);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			snprintf(err, errlen, "spool: cannot create %s: %s",
			         dir, strerror(ENAMETOOLONG));
			goto fail;
		}
		created = mkdirat(top, spool_subdirs[i], 0750) == 0;
		if (!created && errno != EEXIST) {
			snprintf(err, errlen, "spool: cannot create %s: %s",
			         path, strerror(errno));
			goto fail;
		}
		/* A symlinked subdirectory could point anywhere, and
		 * rename() from tmp/ to new/ needs one file system. */
		sp->fd[i] =
		    openat(top, spool_subdirs[i],
		           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sp->fd[i] < 0) {
			struct stat ls;
			int e = errno;

			/* Linux says ENOTDIR for O_DIRECTORY|O_NOFOLLOW */
			snprintf(err, errlen, "spool: cannot open %s: %s", path,
			         fstatat(top, spool_subdirs[i], &ls,
			                 AT_SYMLINK_NOFOLLOW) == 0 &&
			                 S_ISLNK(ls.st_mode)
			             ? "it is a symbolic link"
			             : strerror(e));
			goto fail;
		}
		if (settle_owner(sp->fd[i], created, path, own, err, errlen))
			goto fail;
		/* Root passes this check; spool_check_access() after
		 * dropping root, then the first write tells. */
		if (i != SD_CUR &&
		    faccessat(sp->fd[i], ".", W_OK | X_OK, AT_EACCESS) != 0) {
			snprintf(err, errlen, "spool: cannot write %s: %s",
			         path, strerror(errno));
			goto fail;
		}
	}
	close(top);
	sp->removed = sweep(sp, SD_TMP);
	sweep(sp, SD_ENV);
	if (sp->removed > 0)
		log_info("spool: removed %lu partial message(s) from %s/tmp "
		         "left by an earlier run",
		         sp->removed, dir);
	return sp;
fail:
	if (top >= 0)
		close(top);
	spool_close(sp);
	return NULL;
}

/* spool_check_access - after dropping root: may we write the maildir? */
int
spool_check_access(const struct spool *sp, char *err, size_t errlen)
{
	for (int i = 0; !sp->sink && i < SD_COUNT; i++)
		if (i != SD_CUR &&
		    faccessat(sp->fd[i], ".", W_OK | X_OK, AT_EACCESS) != 0) {
			snprintf(err, errlen, "spool: cannot write %s/%s: %s",
			         sp->dir, spool_subdirs[i], strerror(errno));
			return -1;
		}
	return 0;
}

/* spool_removed - partial messages spool_open removed from tmp/ */
unsigned long
spool_removed(const struct spool *sp)
{
	return sp->removed;
}

/* spool_close - release the spool; messages in progress must be done */
void
spool_close(struct spool *sp)
{
	int i;

	if (sp == NULL)
		return;
	for (i = 0; i < SD_COUNT; i++)
		if (sp->fd[i] >= 0)
			close(sp->fd[i]);
	free(sp->dir);
	free(sp);
}

/* spool_is_sink - true in "none" mode */
int
spool_is_sink(const struct spool *sp)
{
	return sp->sink;
}

/* spool_dir - the directory, or "none" */
const char *
spool_dir(const struct spool *sp)
{
	return sp->dir;
}

/* spool_begin - open tmp/NAME for a new message */
struct spool_msg *
spool_begin(struct spool *sp, const char *queue_id)
{
	struct spool_msg *m;
	struct timeval tv;
	char qid[SPOOL_QID_MAX + 1];
	int n;

	if (sp->sink)
		return &spool_sink_msg;
	if ((m = malloc(sizeof(*m) + SPOOL_BUF_SIZE)) == NULL)
		return NULL;
	m->sp = sp;
	m->error = 0;
	m->buflen = 0;
	sanitize(qid, sizeof(qid), queue_id);
	gettimeofday(&tv, NULL);
	n = snprintf(m->name, sizeof(m->name), "%lld.M%ldP%ldQ%lu_%s.%s",
	             (long long)tv.tv_sec, (long)tv.tv_usec, sp->pid,
	             atomic_fetch_add(&spool_counter, 1) + 1, qid, sp->host);
	if (n < 0 || (size_t)n >= sizeof(m->name)) {
		free(m);
		errno = ENAMETOOLONG;
		return NULL;
	}
	m->fd = openat(sp->fd[SD_TMP], m->name,
	               O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (m->fd < 0) {
		int e = errno;
		free(m);
		errno = e;
		return NULL;
	}
	return m;
}

static int
msg_flush(struct spool_msg *m)
{
	if (m->error != 0) {
		errno = m->error;
		return -1;
	}
	if (m->buflen > 0 && write_all(m->fd, m->buf, m->buflen) != 0) {
		m->error = errno;
		return -1;
	}
	m->buflen = 0;
	return 0;
}

/* spool_write - append message bytes; 0 or -1 with errno */
int
spool_write(struct spool_msg *m, const void *buf, size_t len)
{
	if (is_sink_msg(m))
		return 0;
	if (m->error != 0) {
		errno = m->error;
		return -1;
	}
	if (m->buflen + len <= SPOOL_BUF_SIZE) {
		memcpy(m->buf + m->buflen, buf, len);
		m->buflen += len;
		return 0;
	}
	if (msg_flush(m) != 0)
		return -1;
	if (len >= SPOOL_BUF_SIZE) {
		if (write_all(m->fd, buf, len) != 0) {
			m->error = errno;
			return -1;
		}
		return 0;
	}
	memcpy(m->buf, buf, len);
	m->buflen = len;
	return 0;
}

/* Write envelope/NAME.json via NAME.json.tmp; 0 or -1 with errno. */
static int
write_envelope(struct spool_msg *m, const char *envname,
               const struct envelope *env)
{
	int dfd = m->sp->fd[SD_ENV];
	char tmpname[SPOOL_NAME_MAX + sizeof(SPOOL_ENVTMP_SUFX)];
	json_t *o;
	char *text = NULL;
	size_t len;
	int fd, e;

	snprintf(tmpname, sizeof(tmpname), "%s" SPOOL_ENVTMP_SUFX, m->name);
	if ((o = spool_envelope_json(m->name, env)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	len = json_dumpb(o, NULL, 0, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (len == 0 || (text = malloc(len + 1)) == NULL) {
		json_decref(o);
		errno = ENOMEM;
		return -1;
	}
	json_dumpb(o, text, len, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	text[len++] = '\n';

	fd =
	    openat(dfd, tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		goto fail;
	if (write_all(fd, text, len) != 0 || fsync(fd) != 0) {
		e = errno;
		close(fd);
		errno = e;
		goto fail_unlink;
	}
	if (close(fd) != 0 || renameat(dfd, tmpname, dfd, envname) != 0)
		goto fail_unlink;
	free(text);
	return 0;

fail_unlink:
	e = errno;
	unlinkat(dfd, tmpname, 0);
	errno = e;
fail:
	e = errno;
	free(text);
	errno = e;
	return -1;
}

/* spool_commit - make the message durable in new/ with its envelope */
int
spool_commit(struct spool_msg *m, const struct envelope *env)
{
	struct spool *sp;
	char envname[SPOOL_NAME_MAX + sizeof(".json")];
	int stage = 0, e;

	if (is_sink_msg(m))
		return 0;
	sp = m->sp;
	snprintf(envname, sizeof(envname), "%s.json", m->name);

	if (msg_flush(m) != 0 || fsync(m->fd) != 0)
		goto fail;
	e = close(m->fd);
	m->fd = -1;
	if (e != 0)
		goto fail;
	if (write_envelope(m, envname, env) != 0)
		goto fail;
	stage = 1; /* envelope/NAME.json exists */
	/* The envelope is durable before the message shows up in new/. */
	if (fsync(sp->fd[SD_ENV]) != 0)
		goto fail;
	if (renameat(sp->fd[SD_TMP], m->name, sp->fd[SD_NEW], m->name) != 0)
		goto fail;
	stage = 2; /* the message is in new/ */
	if (fsync(sp->fd[SD_NEW]) != 0)
		goto fail;
	free(m);
	return 0;

fail:
	e = errno;
	if (m->fd >= 0)
		close(m->fd);
	if (stage >= 1)
		unlinkat(sp->fd[SD_ENV], envname, 0);
	unlinkat(stage >= 2 ? sp->fd[SD_NEW] : sp->fd[SD_TMP], m->name, 0);
	free(m);
	errno = e;
	return -1;
}

/* spool_msg_name - the message's file name (tmp/, then new/), or NULL */
const char *
spool_msg_name(const struct spool_msg *m)
{
	return m == NULL || is_sink_msg(m) ? NULL : m->name;
}

/* spool_abort - forget a message in progress; frees m */
void
spool_abort(struct spool_msg *m)
{
	int e = errno;

	if (m == NULL || is_sink_msg(m))
		return;
	close(m->fd);
	unlinkat(m->sp->fd[SD_TMP], m->name, 0);
	free(m);
	errno = e;
}
