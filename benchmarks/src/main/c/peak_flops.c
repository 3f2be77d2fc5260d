/*
 * The fp32 arithmetic ceiling of this machine's cores, to read the embedding benchmark against
 * (docs/benchmarks.md): independent chains of fused multiply-adds, 256-bit (AVX2/FMA) and 512-bit
 * (AVX-512F), on 1 thread and on 2, plus a chain of dependent integer adds that runs at one add
 * per cycle, i.e. at the clock. Twelve accumulators per thread cover the FMA latency.
 *
 *   gcc -O3 -funroll-all-loops -march=native -o /tmp/peak_flops benchmarks/src/main/c/peak_flops.c -lpthread
 *   /tmp/peak_flops
 *
 * Each line takes about a second; run it twice, the first can be cut short by a neighbour.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define N 4000000000L
#define CHAINS 12

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *fma512(void *out) {
    __m512 a[CHAINS];
    __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) a[i] = _mm512_set1_ps((float) i);
    for (long k = 0; k < N / CHAINS; k++)
        for (int i = 0; i < CHAINS; i++) a[i] = _mm512_fmadd_ps(a[i], b, c);
    float s = 0;
    for (int i = 0; i < CHAINS; i++) s += _mm512_reduce_add_ps(a[i]);
    *(float *) out = s; /* keeps the work observable */
    return 0;
}

static void *fma256(void *out) {
    __m256 a[CHAINS];
    __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) a[i] = _mm256_set1_ps((float) i);
    for (long k = 0; k < N / CHAINS; k++)
        for (int i = 0; i < CHAINS; i++) a[i] = _mm256_fmadd_ps(a[i], b, c);
    float s = 0, lane[8];
    for (int i = 0; i < CHAINS; i++) {
        _mm256_storeu_ps(lane, a[i]);
        s += lane[0];
    }
    *(float *) out = s;
    return 0;
}

static void *adds(void *out) {
    long x = 0;
    for (long k = 0; k < N; k++) __asm__ volatile("add $1, %0" : "+r"(x));
    *(float *) out = (float) x;
    return 0;
}

static void run(const char *what, void *(*body)(void *), int threads, double per_step) {
    pthread_t t[2];
    float out[2];
    double start = now();
    for (int i = 0; i < threads; i++) pthread_create(&t[i], 0, body, &out[i]);
    for (int i = 0; i < threads; i++) pthread_join(t[i], 0);
    double elapsed = now() - start;
    printf("%-36s %d thread(s): %6.1f\n", what, threads, threads * N * per_step / elapsed / 1e9);
}

int main(void) {
    run("clock, GHz (dependent adds)", adds, 1, 1);
    run("fp32 GFLOP/s, AVX-512 FMA", fma512, 1, 32);
    run("fp32 GFLOP/s, AVX-512 FMA", fma512, 2, 32);
    run("fp32 GFLOP/s, AVX2 FMA", fma256, 1, 16);
    run("fp32 GFLOP/s, AVX2 FMA", fma256, 2, 16);
    return 0;
}
