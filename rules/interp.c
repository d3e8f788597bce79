/*
 * interp.c - the script an interpreter runs, from its argv; see interp.h.
 *
 * Each interpreter's options as its manual gives them, reduced to what
 * finding the first word that is not an option needs: which option
 * letters end the options with a program that is no file, which take a
 * value (the rest of the word, else the next word), which take only an
 * optional value in the rest of their word or only optional digits, and
 * which long options take the next word.
 */
#include <stdio.h>
#include <string.h>

#include "rules/interp.h"
#include "rules/rule.h"

_Static_assert(INTERP_SCRIPT_MAX == RULE_SCRIPT_MAX,
               "a rule's script holds what interp_script() gives");

struct interp_spec {
	const char *name;            /* the exe's base name, no version */
	const char *ends;            /* code, a module or stdin follows */
	const char *takes;           /* a value: rest of word, or next word */
	const char *rest;            /* an optional value in the rest only */
	const char *digits;          /* optional digits follow (perl -l0) */
	const char *const *long_arg; /* long options taking the next word */
	const char *const *long_end; /* long options ending as ends does */
	bool plus;                   /* "+o" as well as "-o" (sh) */
};

static const char *const python_long[] = {"check-hash-based-pycs", NULL};
static const char *const ruby_long[] = {"encoding", NULL};
static const char *const node_long[] = {
    "require",    "import",     "loader", "experimental-loader",
    "conditions", "input-type", NULL};
static const char *const node_end[] = {"eval", "print", NULL};
static const char *const sh_long[] = {"rcfile", "init-file", NULL};
static const char *const none[] = {NULL};

static const struct interp_spec interp_specs[] = {
    {"python", "cm", "WX", "", "", python_long, none, false},
    {"perl", "eE", "IMm", "CixdDV", "0l", none, none, false},
    {"ruby", "e", "IrCE", "FiKWx", "0T", ruby_long, none, false},
    {"node", "ep", "rC", "", "", node_long, node_end, false},
    {"nodejs", "ep", "rC", "", "", node_long, node_end, false},
    {"sh", "cs", "oO", "", "", sh_long, none, true},
    {"bash", "cs", "oO", "", "", sh_long, none, true},
    {"dash", "cs", "oO", "", "", sh_long, none, true},
};

/* The spec of exe's last component without its version, or NULL. */
static const struct interp_spec *
interp_spec(const char *exe)
{
	const char *base = strrchr(exe, '/');
	size_t n, i;

	base = base != NULL ? base + 1 : exe;
	n = strlen(base);
	while (n > 0 && ((base[n - 1] >= '0' && base[n - 1] <= '9') ||
	                 base[n - 1] == '.'))
		n--;
	for (i = 0; i < sizeof(interp_specs) / sizeof(*interp_specs); i++)
		if (strlen(interp_specs[i].name) == n &&
		    strncmp(interp_specs[i].name, base, n) == 0)
			return &interp_specs[i];
	return NULL;
}

bool
interp_known(const char *exe)
{
	return interp_spec(exe) != NULL;
}

static bool
interp_in(const char *const *list, const char *s, size_t n)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == n && strncmp(*list, s, n) == 0)
			return true;
	return false;
}

static bool
interp_letter(const char *set, char c)
{
	return c != '\0' && strchr(set, c) != NULL;
}

/*
 * The index of the script word in argv[i .. argc), i the first word after
 * the interpreter's own; argc when there is none.
 */
static size_t
interp_find(const struct interp_spec *sp, const char *const *argv, size_t argc,
            size_t i)
{
	const char *a, *p;
	size_t n;

	for (; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--") == 0)
			return i + 1;
		if (a[0] == '-' && a[1] == '-') {
			n = strcspn(a + 2, "=");
			if (interp_in(sp->long_end, a + 2, n))
				return argc;
			if (a[2 + n] == '\0' &&
			    interp_in(sp->long_arg, a + 2, n))
				i++;
			continue;
		}
		if ((a[0] != '-' && !(sp->plus && a[0] == '+')) || a[1] == '\0')
			break; /* the script, or "-": standard input */
		for (p = a + 1; *p != '\0'; p++) {
			if (interp_letter(sp->ends, *p))
				return argc;
			if (interp_letter(sp->takes, *p)) {
				if (p[1] == '\0')
					i++;
				break;
			}
			if (interp_letter(sp->rest, *p))
				break;
			if (interp_letter(sp->digits, *p))
				while (p[1] >= '0' && p[1] <= '9')
					p++;
		}
	}
	if (i < argc && strcmp(argv[i], "-") == 0)
		return argc;
	return i;
}

int
interp_script(const char *exe, const char *const *argv, size_t argc,
              const char *cwd, char *out, size_t len)
{
	const struct interp_spec *sp;
	const char *base, *w;
	size_t i = 1;
	int n;

	if (exe == NULL || (sp = interp_spec(exe)) == NULL || argc == 0)
		return 0;
	base = strrchr(argv[0], '/');
	if (strcmp(base != NULL ? base + 1 : argv[0], "env") == 0) {
		/* "env [OPTION|NAME=VALUE]... python3 x.py" */
		for (; i < argc && interp_spec(argv[i]) != sp; i++)
			;
		if (i == argc)
			return 0;
		i++;
	}
	if ((i = interp_find(sp, argv, argc, i)) >= argc)
		return 0;
	w = argv[i];
	if (w[0] == '\0' || (w[0] != '/' && (cwd == NULL || cwd[0] != '/')))
		return 0;
	if (w[0] == '/')
		n = snprintf(out, len, "%s", w);
	else
		n = snprintf(out, len, "%s/%s", cwd, w);
	if (n < 0 || (size_t)n >= len)
		return -1;
	interp_clean(out);
	return 1;
}

size_t
interp_split(const char *buf, size_t n, const char **argv, size_t max)
{
	size_t i = 0, k = 0;

	while (i < n && k < max) {
		argv[k++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	return k;
}

void
interp_clean(char *path)
{
	char *r = path, *w = path, *slash;
	size_t n;

	/* w: the end of what is kept, which never ends in '/' but at 0 */
	while (*r != '\0') {
		while (*r == '/')
			r++;
		if (*r == '\0')
			break;
		n = strcspn(r, "/");
		if (n == 1 && r[0] == '.')
			;
		else if (n == 2 && r[0] == '.' && r[1] == '.') {
			*w = '\0';
			slash = strrchr(path, '/');
			w = slash != NULL ? slash : path;
		} else {
			*w++ = '/';
			memmove(w, r, n);
			w += n;
		}
		r += n;
	}
	if (w == path)
		*w++ = '/';
	*w = '\0';
}
