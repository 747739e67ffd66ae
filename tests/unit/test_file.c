/* test_file.c - core/file.c: the one atomic file replacement. */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "../../src/core/file.c"

static char dir[] = "/tmp/postern-file-XXXXXX";

static void path_in(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static int slurp(const char *path, char *out, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, out, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	out[n] = 0;
	return (int)n;
}

/* Entries of the test directory, "." and ".." aside. */
static int dir_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void clean_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		path_in(p, sizeof(p), e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
}

TEST(replace_writes_data_and_mode)
{
	char p[512], got[64];
	struct stat sb;

	clean_dir();
	path_in(p, sizeof(p), "key");
	CHECK_EQ_INT(file_replace(p, "first", 5, 0600), 0);
	CHECK_EQ_INT(slurp(p, got, sizeof(got)), 5);
	CHECK_EQ_STR(got, "first");
	CHECK_EQ_INT(file_replace(p, "second!", 7, 0644), 0);
	CHECK_EQ_INT(slurp(p, got, sizeof(got)), 7);
	CHECK_EQ_STR(got, "second!");
	CHECK(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0644);
	/* Nothing but the file itself is left in the directory. */
	CHECK_EQ_INT(dir_entries(), 1);
	CHECK_EQ_INT(file_replace(p, "", 0, 0600), 0);
	CHECK_EQ_INT(slurp(p, got, sizeof(got)), 0);
}

/* The mode is set on the new file before any byte is written, whatever
 * the umask: the temporary file as created is what a reader could open
 * during the write. */
TEST(mode_is_right_before_the_first_byte)
{
	char p[512], tmp[4096];
	mode_t old = umask(077);
	struct stat sb;
	int fd;

	clean_dir();
	path_in(p, sizeof(p), "cert");
	fd = file_temp_open(p, 0644, tmp, sizeof(tmp));
	CHECK(fd >= 0);
	CHECK(fstat(fd, &sb) == 0 && sb.st_size == 0);
	CHECK_EQ_INT((int)(sb.st_mode & 07777), 0644);
	CHECK(strncmp(tmp, dir, strlen(dir)) == 0);
	CHECK(strstr(tmp, "/.cert.") != NULL);
	close(fd);
	unlink(tmp);
	umask(0);
	fd = file_temp_open(p, 0600, tmp, sizeof(tmp));
	CHECK(fd >= 0);
	CHECK(fstat(fd, &sb) == 0);
	CHECK_EQ_INT((int)(sb.st_mode & 07777), 0600);
	close(fd);
	unlink(tmp);
	umask(old);
}

/* A symlink planted at the temporary name is not followed (O_EXCL and
 * O_NOFOLLOW refuse it); one at the target is replaced, not written
 * through. */
TEST(symlinks_are_not_followed)
{
	char p[512], victim[512], tmp[512], got[64];
	struct stat sb;

	clean_dir();
	path_in(victim, sizeof(victim), "victim");
	path_in(p, sizeof(p), "target");
	path_in(tmp, sizeof(tmp), ".target.planted.tmp");
	CHECK_EQ_INT(file_replace(victim, "keep", 4, 0600), 0);
	CHECK(symlink(victim, tmp) == 0);
	CHECK_EQ_INT(file_create_excl(tmp, 0600), -EEXIST);
	CHECK(unlink(tmp) == 0);
	/* Dangling, pointing at where a file would be created. */
	path_in(got, sizeof(got), "created");
	CHECK(symlink(got, tmp) == 0);
	CHECK_EQ_INT(file_create_excl(tmp, 0600), -EEXIST);
	CHECK(lstat(got, &sb) < 0 && errno == ENOENT);
	CHECK(unlink(tmp) == 0);

	CHECK(symlink(victim, p) == 0);
	CHECK_EQ_INT(file_replace(p, "new", 3, 0600), 0);
	CHECK(lstat(p, &sb) == 0 && S_ISREG(sb.st_mode));
	CHECK_EQ_INT(slurp(victim, got, sizeof(got)), 4);
	CHECK_EQ_STR(got, "keep");
	CHECK_EQ_INT(slurp(p, got, sizeof(got)), 3);
	CHECK_EQ_STR(got, "new");
}

/* A write that fails half way (the file size limit, EFBIG) leaves the
 * old file as it was and no temporary file behind. */
TEST(failure_keeps_the_old_file)
{
	struct rlimit old, small = { 16, 16 };
	char p[512], got[64], big[4096];

	clean_dir();
	path_in(p, sizeof(p), "state");
	CHECK_EQ_INT(file_replace(p, "old content", 11, 0600), 0);
	memset(big, 'x', sizeof(big));
	signal(SIGXFSZ, SIG_IGN);
	CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
	small.rlim_max = old.rlim_max;
	CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
	CHECK_EQ_INT(file_replace(p, big, sizeof(big), 0600), -EFBIG);
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
	signal(SIGXFSZ, SIG_DFL);
	CHECK_EQ_INT(slurp(p, got, sizeof(got)), 11);
	CHECK_EQ_STR(got, "old content");
	CHECK_EQ_INT(dir_entries(), 1);
	/* A directory that does not exist: an error, nothing created. */
	path_in(p, sizeof(p), "no/such/file");
	CHECK_EQ_INT(file_replace(p, "x", 1, 0600), -ENOENT);
	CHECK_EQ_INT(file_replace("", "x", 1, 0600), -EINVAL);
	CHECK_EQ_INT(dir_entries(), 1);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(replace_writes_data_and_mode);
	RUN(mode_is_right_before_the_first_byte);
	RUN(symlinks_are_not_followed);
	RUN(failure_keeps_the_old_file);
	clean_dir();
	rmdir(dir);
	return unit_done();
}
