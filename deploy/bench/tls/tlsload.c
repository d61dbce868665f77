/*
 * tlsload: a small HTTPS load client that can go through an HTTPS_PROXY-style proxy (CONNECT), for
 * bench section (t). wrk cannot speak through CONNECT; this does what an app with HTTPS_PROXY does:
 * CONNECT host:port, TLS inside the tunnel (peer verified against --cafile, host name checked), then
 * keep-alive HTTP/1.1 requests, one at a time per connection, like wrk. One thread, epoll.
 *
 *   tlsload load    --target HOST:PORT [--proxy HOST:PORT] --cafile F --path P --conns N --seconds S --expect-len L
 *                   [--rate R]
 *   tlsload tunnels --target HOST:PORT [--proxy HOST:PORT] --cafile F --path P --count N --expect-len L
 *
 * load: N connections (tunnels set up before the clock starts), S seconds; every request has its
 * own query string (?n=...), so no cache can answer it. Without --rate, each connection sends its
 * next request when the last is answered (closed loop, as wrk): the proxy runs flat out, and p99 is
 * its latency when saturated. With --rate R, request j is due at start + j/R whatever came before
 * (open loop, as wrk2): it goes out on the first idle connection, and its latency counts from when
 * it was due, so a stall delays every request due during it (no coordinated omission). Two
 * proxies then compare at the same offered load; "late" counts requests sent more than 1 ms after
 * they were due because no connection was idle (the offered load was not kept up). tunnels: N fresh connections one after the
 * other (TCP, CONNECT, full TLS handshake, one GET), timed to the first byte of the response.
 * Both print one line "BENCH {json}". Every response is checked: status 2xx and a body of exactly
 * --expect-len bytes (Content-Length or chunked); anything else is counted, and a failed handshake
 * or CONNECT ends the program with status 2. Build: cc -O2 -o tlsload tlsload.c -lssl -lcrypto
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *target, *proxy, *cafile, *path = "/";
static char target_host[256];
static int target_port;
static int conns = 32, seconds = 10, count = 200;
static double rate = 0; /* requests per second over all connections; 0: closed loop */
static long expect_len = -1;
static SSL_CTX *ctx;

static void die(const char *what) {
    fprintf(stderr, "tlsload: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + ts.tv_nsec / 1000;
}

static void split(const char *hostport, char *host, int *port) {
    const char *colon = strrchr(hostport, ':');
    if (!colon) die("expected HOST:PORT");
    snprintf(host, 256, "%.*s", (int)(colon - hostport), hostport);
    *port = atoi(colon + 1);
}

static int tcp_connect(const char *hostport) {
    char host[256], portstr[16];
    int port;
    split(hostport, host, &port);
    snprintf(portstr, sizeof portstr, "%d", port);
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, portstr, &hints, &ai) != 0) die("cannot resolve");
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) die("TCP connect failed");
    freeaddrinfo(ai);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* TCP to the proxy (CONNECT, 200) or to the target, then a verified TLS handshake. Blocking. */
static SSL *open_tls(uint64_t *t_tcp, uint64_t *t_tunnel, uint64_t *t_tls) {
    int fd = tcp_connect(proxy ? proxy : target);
    *t_tcp = now_us();
    if (proxy) {
        char req[512], resp[4096];
        int n = snprintf(req, sizeof req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target);
        if (write(fd, req, n) != n) die("CONNECT write failed");
        int got = 0;
        /* read byte by byte up to the end of the headers so no TLS byte is consumed here */
        while (got < (int)sizeof resp - 1) {
            ssize_t r = read(fd, resp + got, 1);
            if (r <= 0) die("proxy closed during CONNECT");
            got++;
            if (got >= 4 && memcmp(resp + got - 4, "\r\n\r\n", 4) == 0) break;
        }
        resp[got] = 0;
        if (strncmp(resp + 8, " 200", 4) != 0) {
            fprintf(stderr, "tlsload: CONNECT refused: %.200s\n", resp);
            exit(2);
        }
    }
    *t_tunnel = now_us();
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, target_host);
    SSL_set1_host(ssl, target_host);
    if (SSL_connect(ssl) != 1) {
        fprintf(stderr, "tlsload: TLS handshake failed (verify result: %s)\n",
                X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
        die("handshake");
    }
    *t_tls = now_us();
    return ssl;
}

/* ---- response parsing: returns 0 incomplete, >0 bytes consumed, -1 malformed ---- */
struct parsed { int status; long body; };

static long parse_response(const char *b, long len, struct parsed *p) {
    const char *end = memmem(b, len, "\r\n\r\n", 4);
    if (!end) return 0;
    long head = end - b + 4;
    if (len < 12 || memcmp(b, "HTTP/1.", 7) != 0) return -1;
    p->status = atoi(b + 9);
    long clen = -1;
    int chunked = 0;
    for (const char *line = memchr(b, '\n', head) + 1; line < b + head - 2;) {
        const char *eol = memchr(line, '\n', b + head - line);
        if (!strncasecmp(line, "content-length:", 15)) clen = atol(line + 15);
        if (!strncasecmp(line, "transfer-encoding:", 18) && memmem(line, eol - line, "chunked", 7)) chunked = 1;
        line = eol + 1;
    }
    if (!chunked) {
        if (clen < 0) return -1;
        if (len < head + clen) return 0;
        p->body = clen;
        return head + clen;
    }
    long pos = head, body = 0;
    for (;;) {
        const char *eol = memmem(b + pos, len - pos, "\r\n", 2);
        if (!eol) return 0;
        long size = strtol(b + pos, NULL, 16);
        pos = eol - b + 2;
        if (size == 0) {
            const char *fin = memmem(b + pos - 2, len - pos + 2, "\r\n\r\n", 4);
            if (!fin) return 0;
            p->body = body;
            return fin - b + 4;
        }
        if (len < pos + size + 2) return 0;
        body += size;
        pos += size + 2;
    }
}

/* ---- results ---- */
static uint32_t *lat;
static long nlat, caplat;
static long ok, non2xx, badlen, errors, bytes;

static void record(uint32_t us) {
    if (nlat == caplat) {
        caplat = caplat ? caplat * 2 : 1 << 16;
        lat = realloc(lat, caplat * sizeof *lat);
    }
    lat[nlat++] = us;
}

static int cmp(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t pct(double q) {
    if (!nlat) return 0;
    long i = (long)(q / 100.0 * nlat);
    if (i >= nlat) i = nlat - 1;
    return lat[i];
}

static void check(struct parsed *p) {
    if (p->status < 200 || p->status > 299) non2xx++;
    else if (expect_len >= 0 && p->body != expect_len) badlen++;
    else ok++;
}

static long seq;

static int send_request(SSL *ssl) {
    char req[1024];
    int n = snprintf(req, sizeof req, "GET %s?t=%ld&n=%ld HTTP/1.1\r\nHost: %s\r\nUser-Agent: tlsload\r\n\r\n",
                     path, (long)time(NULL), ++seq, target);
    for (;;) {
        int w = SSL_write(ssl, req, n);
        if (w == n) return 0;
        int e = SSL_get_error(ssl, w);
        if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) return -1;
        usleep(50);
    }
}

struct conn { SSL *ssl; int fd; char *buf; long len; uint64_t start; int dead; };

static void load(void) {
    struct conn *c = calloc(conns, sizeof *c);
    int ep = epoll_create1(0);
    uint64_t a, b, d;
    for (int i = 0; i < conns; i++) {
        c[i].ssl = open_tls(&a, &b, &d);
        c[i].fd = SSL_get_fd(c[i].ssl);
        c[i].buf = malloc(1 << 17);
        fcntl(c[i].fd, F_SETFL, fcntl(c[i].fd, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
    }
    uint64_t t0 = now_us(), deadline = t0 + (uint64_t)seconds * 1000000u;
    /* Open loop: idle connections wait on a stack; request j is due at t0 + j / rate. */
    int *idle = calloc(conns > 0 ? (size_t)conns : 1, sizeof *idle), nidle = 0;
    long due = 0, late = 0;
    if (rate > 0) {
        for (int i = conns - 1; i >= 0; i--) idle[nidle++] = i;
    } else {
        for (int i = 0; i < conns; i++) {
            c[i].start = now_us();
            if (send_request(c[i].ssl) != 0) { errors++; c[i].dead = 1; }
        }
    }
    int live = conns;
    struct epoll_event evs[64];
    while (live > 0) {
        int n;
        if (rate > 0) {
            /* Send every request that is due, then sleep until the next one is (ns resolution). */
            uint64_t now = now_us();
            for (;;) {
                uint64_t at = t0 + (uint64_t)(due * 1e6 / rate);
                if (at >= deadline) { /* no more requests: idle connections are done */
                    while (nidle > 0) { struct conn *x = &c[idle[--nidle]]; x->dead = 1; live--; epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL); }
                    break;
                }
                if (at > now || nidle == 0) break;
                struct conn *x = &c[idle[--nidle]];
                if (now > at + 1000) late++;
                x->start = at;
                due++;
                if (send_request(x->ssl) != 0) { errors++; x->dead = 1; live--; epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL); }
            }
            if (live == 0) break;
            uint64_t at = t0 + (uint64_t)(due * 1e6 / rate);
            long wait_us = nidle > 0 && at < deadline ? (long)(at > now ? at - now : 0) : 100000;
            struct timespec ts = {.tv_sec = wait_us / 1000000, .tv_nsec = (wait_us % 1000000) * 1000};
            n = epoll_pwait2(ep, evs, 64, &ts, NULL);
        } else {
            n = epoll_wait(ep, evs, 64, 100);
        }
        uint64_t t = now_us();
        if (t > deadline + 5000000u) break; /* stragglers: counted as timeouts below */
        for (int k = 0; k < n; k++) {
            struct conn *x = &c[evs[k].data.u32];
            if (x->dead) continue;
            for (;;) {
                int r = SSL_read(x->ssl, x->buf + x->len, (1 << 17) - x->len);
                if (r <= 0) {
                    int e = SSL_get_error(x->ssl, r);
                    if (e == SSL_ERROR_WANT_READ) break;
                    errors++; x->dead = 1; live--;
                    epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
                    break;
                }
                x->len += r;
                bytes += r;
                struct parsed p;
                long used = parse_response(x->buf, x->len, &p);
                if (used < 0 || x->len == (1 << 17)) { errors++; x->dead = 1; live--; epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL); break; }
                if (used == 0) continue;
                uint64_t done = now_us();
                record((uint32_t)(done - x->start));
                check(&p);
                memmove(x->buf, x->buf + used, x->len - used);
                x->len -= used;
                if (rate > 0) { idle[nidle++] = (int)(x - c); break; }
                if (done >= deadline) { x->dead = 1; live--; epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL); break; }
                x->start = done;
                if (send_request(x->ssl) != 0) { errors++; x->dead = 1; live--; epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL); break; }
            }
        }
    }
    long timeouts = live;
    uint64_t t1 = now_us();
    qsort(lat, nlat, sizeof *lat, cmp);
    double mean = 0;
    for (long i = 0; i < nlat; i++) mean += lat[i];
    mean = nlat ? mean / nlat : 0;
    printf("BENCH {\"requests\":%ld,\"duration_us\":%llu,\"bytes\":%ld,\"ok\":%ld,\"non2xx\":%ld,\"bad_length\":%ld,"
           "\"errors\":%ld,\"timeouts\":%ld,\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,\"p999_us\":%u,\"mean_us\":%.1f,"
           "\"max_us\":%u,\"rate\":%.0f,\"late\":%ld}\n",
           nlat, (unsigned long long)(t1 - t0 < deadline - t0 ? t1 - t0 : deadline - t0), bytes, ok, non2xx, badlen,
           errors, timeouts, pct(50), pct(90), pct(99), pct(99.9), mean, nlat ? lat[nlat - 1] : 0, rate, late);
    for (int i = 0; i < conns; i++) { SSL_free(c[i].ssl); close(c[i].fd); }
}

/* New connections one after the other, each to the first byte of the response of one GET. */
static void tunnels(void) {
    uint32_t *tcp = calloc(count, 4), *tun = calloc(count, 4), *tls = calloc(count, 4);
    char *buf = malloc(1 << 17);
    for (int i = 0; i < count; i++) {
        uint64_t t0 = now_us(), a, b, d;
        SSL *ssl = open_tls(&a, &b, &d);
        if (send_request(ssl) != 0) die("request write failed");
        long len = 0;
        uint64_t first = 0;
        struct parsed p;
        for (;;) {
            int r = SSL_read(ssl, buf + len, (1 << 17) - len);
            if (r <= 0) die("read failed");
            if (!first) first = now_us();
            len += r;
            long used = parse_response(buf, len, &p);
            if (used < 0) die("malformed response");
            if (used > 0) break;
        }
        check(&p);
        record((uint32_t)(first - t0));
        tcp[i] = a - t0; tun[i] = b - t0; tls[i] = d - t0;
        int fd = SSL_get_fd(ssl);
        SSL_shutdown(ssl);
        SSL_free(ssl);
        close(fd);
    }
    qsort(tcp, count, 4, cmp); qsort(tun, count, 4, cmp); qsort(tls, count, 4, cmp);
    double mean = 0;
    for (long i = 0; i < nlat; i++) mean += lat[i];
    mean /= nlat;
    qsort(lat, nlat, sizeof *lat, cmp);
    printf("BENCH {\"tunnels\":%ld,\"ok\":%ld,\"non2xx\":%ld,\"bad_length\":%ld,\"errors\":0,"
           "\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,\"mean_us\":%.1f,"
           "\"tcp_p50_us\":%u,\"connect_200_p50_us\":%u,\"tls_done_p50_us\":%u}\n",
           nlat, ok, non2xx, badlen, pct(50), pct(90), pct(99), mean, tcp[count / 2], tun[count / 2], tls[count / 2]);
}

int main(int argc, char **argv) {
    if (argc < 2) die("usage: tlsload load|tunnels --target HOST:PORT [--proxy HOST:PORT] --cafile F ...");
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--target")) target = v;
        else if (!strcmp(k, "--proxy")) proxy = v;
        else if (!strcmp(k, "--cafile")) cafile = v;
        else if (!strcmp(k, "--path")) path = v;
        else if (!strcmp(k, "--conns")) conns = atoi(v);
        else if (!strcmp(k, "--seconds")) seconds = atoi(v);
        else if (!strcmp(k, "--count")) count = atoi(v);
        else if (!strcmp(k, "--rate")) rate = atof(v);
        else if (!strcmp(k, "--expect-len")) expect_len = atol(v);
        else die("unknown option");
    }
    if (!target || !cafile) die("--target and --cafile are required");
    split(target, target_host, &target_port);
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) die("cannot load --cafile");
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn);
    if (!strcmp(argv[1], "load")) load();
    else if (!strcmp(argv[1], "tunnels")) tunnels();
    else die("mode is load or tunnels");
    return 0;
}
