/* Thread per request: each request is two new threads that burn 2 ms of
 * their own CPU clock in handle_request and exit; prints the process CPU
 * and the threads' (bench/README.md, accounting). Build:
 * gcc -O2 -o thread_per_request thread_per_request.c -lpthread */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <time.h>
static long long ck(clockid_t c){struct timespec ts;clock_gettime(c,&ts);return ts.tv_sec*1000000000LL+ts.tv_nsec;}
volatile unsigned long sink; _Atomic long long tsum;
__attribute__((noinline)) void handle_request(void){long long e=ck(CLOCK_THREAD_CPUTIME_ID)+2000000;unsigned long x=sink|1;while(ck(CLOCK_THREAD_CPUTIME_ID)<e)for(int i=0;i<2000;i++)x=x*6364136223846793005ULL+1;sink=x;}
static void*rt(void*a){(void)a;handle_request();tsum+=ck(CLOCK_THREAD_CPUTIME_ID);return NULL;}
int main(int c,char**v){int n=c>1?atoi(v[1]):1000;long long p0=ck(CLOCK_PROCESS_CPUTIME_ID);for(int i=0;i<n;i++){pthread_t a,b;pthread_create(&a,0,rt,0);pthread_create(&b,0,rt,0);pthread_join(a,0);pthread_join(b,0);}
long long main_cpu=ck(CLOCK_THREAD_CPUTIME_ID), p=ck(CLOCK_PROCESS_CPUTIME_ID)-p0;
printf("process %.3f s, threads (at end of routine) %.3f s, main %.3f s, rest %.1f us per thread\n",p/1e9,tsum/1e9,main_cpu/1e9,(p-tsum-main_cpu)/1e3/(2*n));}
