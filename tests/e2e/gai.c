/* getaddrinfo() as an application calls it, for test_kind_resolvers.py (built musl-gcc -static).
 *
 *   gai NAME [unspec|inet|inet6]
 *
 * Asks for NAME (AF_UNSPEC unless told, SOCK_STREAM so each address comes once, AI_CANONNAME)
 * and prints "canon NAME" then one "ADDRESS" line per result, in the order getaddrinfo gave.
 * Exit codes: 0 resolved, 2 EAI_NONAME ("does not exist"), 3 EAI_AGAIN, 4 any other error
 * (its gai_strerror on stderr), 64 usage.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
    struct addrinfo hints, *res, *ai;
    char text[INET6_ADDRSTRLEN];
    int rc;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: gai NAME [unspec|inet|inet6]\n");
        return 64;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    if (argc == 3 && strcmp(argv[2], "inet") == 0)
        hints.ai_family = AF_INET;
    else if (argc == 3 && strcmp(argv[2], "inet6") == 0)
        hints.ai_family = AF_INET6;
    else if (argc == 3 && strcmp(argv[2], "unspec") != 0) {
        fprintf(stderr, "unknown family %s\n", argv[2]);
        return 64;
    }
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_CANONNAME;

    rc = getaddrinfo(argv[1], NULL, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], gai_strerror(rc));
        return rc == EAI_NONAME ? 2 : rc == EAI_AGAIN ? 3 : 4;
    }
    printf("canon %s\n", res->ai_canonname ? res->ai_canonname : "");
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        const void *addr = ai->ai_family == AF_INET6
            ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
            : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
        if (inet_ntop(ai->ai_family, addr, text, sizeof text) == NULL)
            return 4;
        printf("%s\n", text);
    }
    freeaddrinfo(res);
    return 0;
}
