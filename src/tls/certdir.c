/* certdir.c - certificates from files: NAME.crt + NAME.key pairs.
 *
 * The file-based source of certificates until the store exists, and the
 * place a self-signed fallback is kept so that it survives restarts (an
 * agent may have pinned its fingerprint). */
#define LOG_SUBSYS "tls"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/log.h"
#include "core/secure.h"
#include "tls/internal.h"

#define CERT_FILE_MAX (1u << 20)

/* Reads a whole regular file (at most CERT_FILE_MAX bytes) into a malloc'd
 * buffer. Returns 0 or -1 with err. The caller frees (or wipes) it. */
static int certdir_read(const char *path, char **out, size_t *len, char *err,
			size_t errlen)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > CERT_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path,
			 fd < 0 ? strerror(errno) : "not a regular file of at "
			 "most 1 MiB");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		secure_free(buf, (size_t)st.st_size + 1);
		snprintf(err, errlen, "%s: short read", path);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	return 0;
}

int tls_certset_add_files(struct tls_certset *set, const char *chain_path,
			  const char *key_path, char *err, size_t errlen)
{
	char *chain = NULL, *key = NULL;
	size_t chain_len = 0, key_len = 0;
	int ret = -1;
	char why[512];

	if (certdir_read(chain_path, &chain, &chain_len, err, errlen) < 0 ||
	    certdir_read(key_path, &key, &key_len, err, errlen) < 0)
		goto out;
	ret = tls_certset_add_pem(set, chain, chain_len, key, key_len, why,
				  sizeof(why));
	if (ret < 0)
		snprintf(err, errlen, "%s: %s", chain_path, why);
out:
	free(chain);
	secure_free(key, key_len + 1);
	return ret;
}

static int certdir_is_crt(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 4 &&
	       strcmp(d->d_name + n - 4, ".crt") == 0;
}

int tls_certset_add_dir(struct tls_certset *set, const char *dir, char *err,
			size_t errlen)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, certdir_is_crt, alphasort), added = 0;
	char crt[4096], key[4096];

	if (n < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		size_t base = strlen(ents[i]->d_name) - 4;

		if (added >= 0) {
			snprintf(crt, sizeof(crt), "%s/%s", dir, ents[i]->d_name);
			snprintf(key, sizeof(key), "%s/%.*s.key", dir, (int)base,
				 ents[i]->d_name);
			if (tls_certset_add_files(set, crt, key, err, errlen) < 0)
				added = -1;
			else
				added++;
		}
		free(ents[i]);
	}
	free(ents);
	return added;
}

/* Writes `len` bytes to dir/name through file_replace(), with `mode`.
 * Returns 0 or -1 with err. */
static int certdir_write(const char *dir, const char *name, const char *data,
			 size_t len, mode_t mode, char *err, size_t errlen)
{
	char path[4096];
	int rc;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		snprintf(err, errlen, "%s: name too long", dir);
		return -1;
	}
	rc = file_replace(path, data, len, mode);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return -1;
	}
	return 0;
}

/* Makes a self-signed certificate for `name`, adds it to the set and, with
 * a directory, writes it there as selfsigned-NAME.crt/.key. */
static int certdir_selfsigned_new(struct tls_certset *set, const char *dir,
				  const char *name, char *err, size_t errlen)
{
	char *crt = NULL, *key = NULL, file[TLS_NAME_MAX + 32];
	size_t crt_len = 0, key_len = 0;
	int ret = -1;

	if (tls_selfsigned_make(&name, 1, 825, &crt, &crt_len, &key, &key_len,
				err, errlen) < 0)
		return -1;
	if (dir) {
		snprintf(file, sizeof(file), "selfsigned-%s.key", name);
		if (certdir_write(dir, file, key, key_len, 0600, err,
				  errlen) < 0)
			goto out;
		snprintf(file, sizeof(file), "selfsigned-%s.crt", name);
		if (certdir_write(dir, file, crt, crt_len, 0644, err,
				  errlen) < 0)
			goto out;
	}
	ret = tls_certset_add_pem(set, crt, crt_len, key, key_len, err, errlen);
	if (ret == 0)
		log_warn("serving a self-signed certificate for %s", name);
out:
	free(crt);
	secure_free(key, key_len);
	return ret;
}

/* Without a directory: the server's kept self-signed certificate for
 * `name`, made on first use, so reloads serve the same one. */
static int certdir_selfsigned_mem(struct tls_certset *set, const char *name,
				  char *err, size_t errlen)
{
	struct tls_server *srv = set->srv;
	struct tls_certset *tmp;
	int ret = 0;

	pthread_mutex_lock(&srv->ss_lock);
	if (!srv->selfsigned || strcmp(srv->selfsigned->names[0], name)) {
		tmp = tls_certset_new(srv);
		ret = tmp ? certdir_selfsigned_new(tmp, NULL, name, err, errlen)
			  : -1;
		if (ret == 0) {
			tls_cert_put(srv->selfsigned);
			srv->selfsigned = tls_cert_ref(tls_certset_at(tmp, 0));
		}
		tls_certset_put(tmp);
	}
	if (ret == 0 && tls_certset_add_cert(set, srv->selfsigned) < 0) {
		snprintf(err, errlen, "out of memory");
		ret = -1;
	}
	pthread_mutex_unlock(&srv->ss_lock);
	return ret;
}

int tls_certdir_selfsigned(struct tls_certset *set, const char *dir,
			   const char *name, char *err, size_t errlen)
{
	if (!dir)
		return certdir_selfsigned_mem(set, name, err, errlen);
	return certdir_selfsigned_new(set, dir, name, err, errlen);
}
