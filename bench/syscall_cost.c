// What one system call of the relay's kind costs on this machine (issue 16, bench/results/
// 2026-12-07-relay-fast-paths.md): a recv() that finds nothing (Asio's speculative read after a
// request), the epoll_ctl(MOD) Asio's async_wait would pay instead, and getppid / an empty
// epoll_wait as the floor. Loopback only; stops by itself.
//   gcc -O2 -o /tmp/syscall_cost bench/syscall_cost.c && /tmp/syscall_cost [calls, default 1000000]
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  int n = argc>1?atoi(argv[1]):1000000;
  int l=socket(AF_INET,SOCK_STREAM,0); struct sockaddr_in a={0}; a.sin_family=AF_INET; a.sin_addr.s_addr=htonl(INADDR_LOOPBACK);
  bind(l,(void*)&a,sizeof a); listen(l,1); socklen_t al=sizeof a; getsockname(l,(void*)&a,&al);
  int c=socket(AF_INET,SOCK_STREAM,0); connect(c,(void*)&a,sizeof a); int s=accept(l,0,0);
  fcntl(c,F_SETFL,O_NONBLOCK);
  int ep=epoll_create1(0); struct epoll_event ev={.events=EPOLLIN|EPOLLERR|EPOLLHUP|EPOLLPRI|EPOLLET,.data.ptr=0};
  epoll_ctl(ep,EPOLL_CTL_ADD,c,&ev);
  char buf[4096];
  for (int round=0; round<3; ++round) {
  double t0=now(); for(int i=0;i<n;i++){ if(recv(c,buf,sizeof buf,0)!=-1||errno!=EAGAIN) abort(); } double t1=now();
  for(int i=0;i<n;i++){ if(epoll_ctl(ep,EPOLL_CTL_MOD,c,&ev)) abort(); } double t2=now();
  for(int i=0;i<n;i++){ if(getppid()<0) abort(); } double t3=now();
  struct epoll_event out[4];
  for(int i=0;i<n;i++){ epoll_wait(ep,out,4,0); } double t4=now();
  printf("recv EAGAIN %.0f ns, epoll_ctl MOD %.0f ns, getppid %.0f ns, epoll_wait(0) empty %.0f ns\n",(t1-t0)/n*1e9,(t2-t1)/n*1e9,(t3-t2)/n*1e9,(t4-t3)/n*1e9);
  }
  close(s); close(c); close(l); close(ep);  // s stays accepted until here: c's peer is alive
  return 0;
}
