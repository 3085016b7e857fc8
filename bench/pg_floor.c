/*
 * pg_floor.c — the floor of the web benchmark's database route: the route's
 * query (one row of bench_items by a random id, as bench/workloads/rack_pg.ru
 * runs it) sent straight to PostgreSQL over CONNS connections by one thread
 * with libpq's asynchronous API, one query in flight per connection, no HTTP
 * and no Ruby. What PostgreSQL serves over that many connections when the
 * client costs next to nothing: the most a server's database route could get.
 *
 * Usage: pg_floor CONNINFO CONNS SECONDS [WARM_UP_SECONDS]
 *
 * Connects, makes and fills the table if it is missing (as the route does),
 * runs WARM_UP_SECONDS (default 1) untimed, prints "START" (the caller may
 * start measuring PostgreSQL now), runs SECONDS timed, and prints
 *   BENCH rate=<queries/s> p99_ms=<ms> requests=<queries> cpu_us=<us>
 * where cpu_us is this process's CPU time per query, then keeps its
 * connections until its stdin ends. Exits 1 with a message on stderr when a
 * connection or a query fails.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <libpq-fe.h>

#define ROWS 100
#define MAX_CONNS 1000

static const char query[] = "SELECT id, name FROM bench_items WHERE id = $1";

struct conn {
    PGconn *pg;
    double sent;      /* when the query in flight was sent */
    int in_flight;
};

struct times {
    double *v;
    size_t len, cap;
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void fail(const char *what, PGconn *pg)
{
    fprintf(stderr, "pg_floor: %s: %s\n", what, pg ? PQerrorMessage(pg) : strerror(errno));
    exit(1);
}

static int times_add(struct times *t, double v)
{
    if (t->len == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 65536;
        double *nv = realloc(t->v, cap * sizeof *nv);

        if (!nv)
            return -ENOMEM;
        t->v = nv;
        t->cap = cap;
    }
    t->v[t->len++] = v;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void send_query(struct conn *c)
{
    char id[16];
    const char *params[1] = { id };

    snprintf(id, sizeof id, "%d", 1 + rand() % ROWS);
    if (!PQsendQueryParams(c->pg, query, 1, NULL, params, NULL, NULL, 0))
        fail("PQsendQueryParams", c->pg);
    /* Nonblocking: what did not go out yet goes when the socket can take it. */
    if (PQflush(c->pg) < 0)
        fail("PQflush", c->pg);
    c->sent = now();
    c->in_flight = 1;
}

/*
 * Reads what arrived on c; when its query is answered, checks the row and
 * returns 1 (0: not yet).
 */
static int read_answer(struct conn *c)
{
    int done = 0;

    if (!PQconsumeInput(c->pg))
        fail("PQconsumeInput", c->pg);
    while (!PQisBusy(c->pg)) {
        PGresult *res = PQgetResult(c->pg);

        if (!res) {
            done = 1;
            break;
        }
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) != 2)
            fail("the query gave no row", c->pg);
        /* Touch the row, as the route does when it turns it into JSON. */
        if (PQgetlength(res, 0, 0) == 0 || PQgetlength(res, 0, 1) == 0)
            fail("an empty value", c->pg);
        PQclear(res);
    }
    return done;
}

/*
 * Keeps every connection busy until `until`; returns the queries answered.
 * Latencies go into t when t is not NULL. Queries still in flight at the
 * end are waited for (not counted), so the connections end idle.
 */
static long run(struct conn *conns, struct pollfd *fds, int n, double until, struct times *t)
{
    long answered = 0;
    int busy = 0, i;

    for (i = 0; i < n; i++) {
        send_query(&conns[i]);
        busy++;
    }
    while (busy > 0) {
        for (i = 0; i < n; i++) {
            fds[i].fd = PQsocket(conns[i].pg);
            fds[i].events = conns[i].in_flight ? POLLIN : 0;
            if (conns[i].in_flight && PQflush(conns[i].pg) == 1)
                fds[i].events |= POLLOUT;
            fds[i].revents = 0;
        }
        if (poll(fds, (nfds_t)n, 10000) < 0) {
            if (errno == EINTR)
                continue;
            fail("poll", NULL);
        }
        for (i = 0; i < n; i++) {
            struct conn *c = &conns[i];
            double done_at;

            if (!c->in_flight || !(fds[i].revents & (POLLIN | POLLERR | POLLHUP)))
                continue;
            if (!read_answer(c))
                continue;
            done_at = now();
            c->in_flight = 0;
            busy--;
            if (c->sent < until) {
                answered++;
                if (t && times_add(t, done_at - c->sent) < 0)
                    fail("out of memory", NULL);
            }
            if (done_at < until) {
                send_query(c);
                busy++;
            }
        }
    }
    return answered;
}

/* PostgreSQL's notices (the table exists already) are not this run's. */
static void no_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void prepare_table(PGconn *pg)
{
    static const char *setup[] = {
        "CREATE TABLE IF NOT EXISTS bench_items (id integer PRIMARY KEY, name text NOT NULL)",
        "INSERT INTO bench_items SELECT i, 'item ' || i FROM generate_series(1, 100) i "
        "ON CONFLICT DO NOTHING",
    };
    size_t i;

    for (i = 0; i < sizeof setup / sizeof setup[0]; i++) {
        PGresult *res = PQexec(pg, setup[i]);

        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            fail("making the table", pg);
        PQclear(res);
    }
}

int main(int argc, char **argv)
{
    struct conn *conns;
    struct pollfd *fds;
    struct times t = { 0 };
    double warm_up = 1, seconds, t0, cpu0, cpu, elapsed;
    size_t p99;
    long answered;
    int n, i;

    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: pg_floor CONNINFO CONNS SECONDS [WARM_UP_SECONDS]\n");
        return 2;
    }
    n = atoi(argv[2]);
    seconds = atof(argv[3]);
    if (argc == 5)
        warm_up = atof(argv[4]);
    if (n < 1 || n > MAX_CONNS || seconds <= 0 || warm_up < 0) {
        fprintf(stderr, "pg_floor: CONNS 1..%d, SECONDS > 0, WARM_UP_SECONDS >= 0\n", MAX_CONNS);
        return 2;
    }
    conns = calloc((size_t)n, sizeof *conns);
    fds = calloc((size_t)n, sizeof *fds);
    if (!conns || !fds)
        fail("out of memory", NULL);
    srand((unsigned)time(NULL));
    for (i = 0; i < n; i++) {
        conns[i].pg = PQconnectdb(argv[1]);
        if (PQstatus(conns[i].pg) != CONNECTION_OK)
            fail("connecting", conns[i].pg);
        PQsetNoticeProcessor(conns[i].pg, no_notices, NULL);
        if (i == 0)
            prepare_table(conns[i].pg);
        if (PQsetnonblocking(conns[i].pg, 1) != 0)
            fail("PQsetnonblocking", conns[i].pg);
    }
    if (warm_up > 0)
        run(conns, fds, n, now() + warm_up, NULL);
    printf("START\n");
    fflush(stdout);
    t0 = now();
    cpu0 = cpu_seconds();
    answered = run(conns, fds, n, t0 + seconds, &t);
    elapsed = now() - t0;
    if (answered == 0) {
        fprintf(stderr, "pg_floor: no query was answered\n");
        return 1;
    }
    cpu = cpu_seconds() - cpu0;
    /* The 99th percentile: the smallest latency at least 99% are within. */
    qsort(t.v, t.len, sizeof *t.v, cmp_double);
    p99 = (size_t)((double)t.len * 0.99 + 0.999999);
    p99 = p99 > 0 ? p99 - 1 : 0;
    printf("BENCH rate=%.1f p99_ms=%.3f requests=%ld cpu_us=%.2f\n", (double)answered / elapsed,
           t.v[p99] * 1e3, answered, cpu / (double)answered * 1e6);
    fflush(stdout);
    /*
     * The connections stay open until stdin ends: the caller reads their
     * backends' CPU first (a backend's CPU leaves /proc with it).
     */
    while (getchar() != EOF)
        ;
    for (i = 0; i < n; i++)
        PQfinish(conns[i].pg);
    free(t.v);
    free(conns);
    free(fds);
    return 0;
}
