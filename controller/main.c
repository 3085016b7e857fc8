/* main.c — polytrace's entry point (placeholder). */
#include <stdio.h>

int main(void)
{
    puts("polytrace: not yet");
    return 0;
}
